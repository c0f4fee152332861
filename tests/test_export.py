"""CSV export of a target group: the columns a mailing merge needs, working links, and a stream whose
memory does not grow with the group."""

import csv
import io
import tracemalloc

import pytest

from mailing import selectors
from mailing.exports import export_response
from subscribers.services.links import csv_chunks
from tests.factories import make_interests, make_subscriber, make_subscribers
from tests.mailing_helpers import URLS
from tests.members_helpers import member_of

pytestmark = [pytest.mark.django_db, URLS]


def read_csv(response):
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_it_exports_the_group_with_personal_link_columns():
    news, events = make_interests(count=2)
    ann = make_subscriber(imis_id="00001", on=[news], first_name="Ann", last_name="Lee", email="ann@example.org")
    make_subscriber(imis_id="00002", on=[events])
    group = selectors.target_group_build(any_of=[news.pk])

    response = export_response(group)

    header, *rows = read_csv(response)
    assert header == ["imis_id", "email", "first_name", "last_name", "preference_url", "one_click_url", "language"]
    [(imis_id, email, first, last, preference_url, one_click_url, language)] = rows
    assert (imis_id, email, first, last, language) == ("00001", "ann@example.org", "Ann", "Lee", "")
    assert member_of(preference_url.split("/p/")[1].rstrip("/")) == ann
    assert member_of(one_click_url.split("/p/")[1].split("/")[0]) == ann
    assert preference_url.startswith("https://prefs.example.org/p/")
    assert response["Content-Disposition"].startswith('attachment; filename="monthly-newsletter-')
    assert response["Cache-Control"] == "no-store"


def test_it_defuses_spreadsheet_formulas_in_names():
    [news] = make_interests(count=1)
    make_subscriber(imis_id="1", on=[news], first_name="=HYPERLINK(1)", last_name="@SUM(A1)")

    [_, row] = read_csv(export_response(selectors.target_group_build(any_of=[news.pk])))

    assert row[2:4] == ["'=HYPERLINK(1)", "'@SUM(A1)"]


def test_it_sends_the_csv_in_chunks_not_one_string_per_export():
    rows = ((f"{n}", f"m{n}@example.org", "Ann", "Lee", "u" * 100, "v" * 100) for n in range(3000))

    chunks = list(csv_chunks(rows))

    assert len(chunks) > 3
    assert max(len(chunk) for chunk in chunks) < 80 * 1024


def peak_while_streaming(group):
    """Peak Python memory while the whole export is produced and thrown away, and the number of lines."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        lines = sum(chunk.count(b"\n") for chunk in export_response(group).streaming_content)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, lines


def test_it_streams_in_memory_that_does_not_grow_with_the_group():
    [news] = make_interests(count=1)
    group = selectors.target_group_build(any_of=[news.pk])
    make_subscribers(count=2_000, interest=news)
    peak_while_streaming(group)  # warm up: URL resolver, signer and other one-time caches
    peak_small, lines_small = peak_while_streaming(group)

    make_subscribers(count=18_000, interest=news, start=2_000)
    peak_large, lines_large = peak_while_streaming(group)

    assert (lines_small, lines_large) == (2_001, 20_001)
    # Ten times the rows: if rows were held, the peak would be about ten times too. It is at most about
    # twice: 2,000 rows fit one fetch, while a longer export briefly holds one fetch while reading the next.
    assert peak_large < 2 * peak_small, (peak_small, peak_large)
