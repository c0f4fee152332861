"""API: saved target groups, their sizes, members (cursor pagination) and CSV export, with the target
groups' keys and scopes."""

import csv
import io

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from mailing.models import SavedTargetGroup
from mailing.services.target_groups import saved_target_group_save
from tests.factories import make_interests, make_subscriber
from tests.mailing_helpers import URLS, api_client

pytestmark = [pytest.mark.django_db, URLS]


@pytest.fixture
def engaged():
    news, events, alerts = make_interests(count=3)
    make_subscriber(imis_id="1", on=[news])
    make_subscriber(imis_id="2", on=[news, events])
    make_subscriber(imis_id="3", on=[events, alerts])
    group = saved_target_group_save(
        group=SavedTargetGroup(name="Engaged"), any_of=[news.pk, events.pk], none_of=[alerts.pk]
    )
    return group, (news, events, alerts)


def test_it_lists_saved_groups_with_their_sizes(engaged):
    group, (news, events, alerts) = engaged
    client, _, _ = api_client(links=False)

    response = client.get("/api/v1/saved-target-groups/")

    assert response.status_code == 200
    assert response.json() == [
        {
            "id": group.pk,
            "name": "Engaged",
            "any_of": sorted([news.pk, events.pk]),
            "all_of": [],
            "none_of": [alerts.pk],
            "description": "any of (Monthly newsletter, Events and conferences), minus (Advocacy alerts)",
            "size": 2,
            "problem": "",
        }
    ]
    assert client.get(f"/api/v1/saved-target-groups/{group.pk}/").json()["size"] == 2
    assert client.get(f"/api/v1/saved-target-groups/{group.pk + 1}/").status_code == 404


def test_it_pages_members_and_shows_links_only_to_keys_that_may_read_them(engaged):
    group, _ = engaged
    reader, _, _ = api_client(links=False)
    linker, _, _ = api_client(links=True)

    plain = reader.get(f"/api/v1/saved-target-groups/{group.pk}/members/").json()
    linked = linker.get(f"/api/v1/saved-target-groups/{group.pk}/members/").json()

    assert [m["imis_id"] for m in plain["results"]] == ["1", "2"]
    assert {m["preference_url"] for m in plain["results"]} == {None}
    assert all(m["preference_url"].startswith("http") for m in linked["results"])


def test_it_exports_csv_only_for_a_key_that_may_read_links(engaged):
    group, _ = engaged
    reader, _, _ = api_client(links=False)
    linker, _, _ = api_client(links=True)
    url = f"/api/v1/saved-target-groups/{group.pk}/export/"

    assert reader.get(url).status_code == 403
    response = linker.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="engaged-')
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row[0] for row in rows] == ["imis_id", "1", "2"]


def test_a_group_naming_an_interest_that_left_the_form_is_a_conflict(engaged):
    group, (news, _, _) = engaged
    news.visible = False
    news.save()
    client, _, _ = api_client(links=True)

    listed = client.get(f"/api/v1/saved-target-groups/{group.pk}/").json()
    assert listed["size"] is None and listed["problem"].startswith(f"Not an interest on the form: {news.pk}")
    for tail in ("members/", "export/"):
        response = client.get(f"/api/v1/saved-target-groups/{group.pk}/{tail}")
        assert response.status_code == 409
        assert response.json()["code"] == "not_mailable"
        assert response.json()["detail"].startswith("“Engaged” cannot be mailed now: Not an interest on the form")


def test_it_needs_a_key():
    assert Client().get("/api/v1/saved-target-groups/").status_code == 401


def test_it_lists_more_groups_for_one_count_query_each(engaged):
    _, (news, events, alerts) = engaged
    client, _, _ = api_client(links=False)
    client.get("/api/v1/saved-target-groups/")  # the key's first use of the run records it: not measured

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/api/v1/saved-target-groups/").status_code == 200
        return len(captured)

    one = queries()
    for n, pk in enumerate((news.pk, events.pk, alerts.pk)):
        saved_target_group_save(group=SavedTargetGroup(name=f"Group {n}"), any_of=[pk])
    assert queries() == one + 3  # the interests on the form read once, whatever the number of groups
