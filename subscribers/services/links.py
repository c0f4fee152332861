"""Personal links for the mailing system (CSV merge fields) and "mail me my link" requests."""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterable, Iterator

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from branding.selectors import brand_published
from preference_center.celery import app

from .. import selectors
from ..ratelimits import over_rate, parse_rate
from ..tokens import language_query, preference_url, token_for

logger = logging.getLogger(__name__)

# Enqueued by name: subscribers.tasks imports this module (the task calls links_mail).
MAIL_LINKS_TASK = "subscribers.tasks.mail_links"

# "language": the member's language (IMIS_LANGUAGE_FIELD), for a mailing sent in each member's language; the
# links carry it too. Last, so that merge-field mappings made before it still hold.
CSV_HEADER = ("imis_id", "email", "first_name", "last_name", "preference_url", "one_click_url", "language")
CHUNK_ROWS = 2000
CHUNK_BYTES = 64 * 1024
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    """A file-like object whose write returns what it was given (csv.writer -> string)."""

    def write(self, value):
        return value


def _cell(value: str) -> str:
    """Spreadsheet formula injection (OWASP): a name such as "=HYPERLINK(...)" from iMIS must stay text."""
    return "'" + value if value and value.startswith(_FORMULA_START) else value


def _link_template(url_name: str) -> tuple[str, str]:
    """What preference_url / one_click_url build around the token, resolved once per export rather than once
    per row (reverse() is most of a row's cost). Tokens are URL-safe: the result is the same string."""
    marker = "TOKEN-MARKER"
    before, _, after = (settings.SITE_URL + reverse(url_name, args=[marker])).partition(marker)
    return before, after


def link_rows(subscribers, *, chunk_size: int = CHUNK_ROWS) -> Iterator[tuple[str, ...]]:
    """One CSV_HEADER row per subscriber of the queryset, read in chunks (flat memory for any roster)."""
    form_before, form_after = _link_template("preference_form")
    click_before, click_after = _link_template("one_click")
    rows = subscribers.values_list("pk", "token_version", "imis_id", "email", "first_name", "last_name", "language")
    for pk, token_version, imis_id, email, first_name, last_name, language in rows.iterator(chunk_size=chunk_size):
        token = token_for(pk, token_version)
        lang = language_query(language)
        yield (
            imis_id,
            email,
            first_name,
            last_name,
            f"{form_before}{token}{form_after}{lang}",
            f"{click_before}{token}{click_after}{lang}",
            language,
        )


def csv_chunks(rows: Iterable[tuple[str, ...]], *, header: tuple[str, ...] = CSV_HEADER) -> Iterator[str]:
    """The CSV text in pieces of about CHUNK_BYTES: a header line, then one line per row."""
    writer = csv.writer(_Echo())
    buffer, size = [writer.writerow(header)], 0
    for row in rows:
        line = writer.writerow([_cell(value) for value in row])
        buffer.append(line)
        size += len(line)
        if size >= CHUNK_BYTES:
            yield "".join(buffer)
            buffer, size = [], 0
    if buffer:
        yield "".join(buffer)


class RowCount:
    """Counts the rows an export wrote as they pass (its pieces hold thousands of rows each)."""

    def __init__(self):
        self.rows = 0

    def through(self, rows: Iterable[tuple[str, ...]]) -> Iterator[tuple[str, ...]]:
        for row in rows:
            self.rows += 1
            yield row


def links_csv_lines(subscribers=None, *, count: RowCount | None = None) -> Iterator[str]:
    """The links CSV of mailable members, streamed. `subscribers` narrows it down (e.g. the admin's
    selection); only mailable ones are kept. `count` counts the rows written."""
    queryset = selectors.mailable_subscribers()
    if subscribers is not None:
        queryset = queryset.filter(pk__in=subscribers.values("pk"))
    rows = link_rows(queryset)
    return csv_chunks(count.through(rows) if count is not None else rows)


def links_mail_request(*, email: str) -> None:
    """Someone asked for fresh links at `email` ("lost link / not you"). The mail is written and sent by a
    worker: the request answers in the same time whether the address is known or not (one indexed look-up
    either way, and a message is queued even for nobody). Never raises.

    At most LOST_LINK_EMAIL_RATE_LIMIT mails per member, counted per member the address matched rather than
    per text typed: the database matches case variants (a dotless "ı" upper-cases to "I") that no
    normalisation of the text would catch."""
    rate = parse_rate(settings.LOST_LINK_EMAIL_RATE_LIMIT)
    matched = list(selectors.subscribers_for_address(email).values_list("pk", flat=True)[:10])
    # An address that matches nobody is counted too: both answers cost one count.
    clients = [f"member:{pk}" for pk in matched] or [f"address:{email.strip().casefold()}"]
    allowed = [not over_rate(client, group="lost-link-member", rate=rate) for client in clients]
    subscriber_ids = [pk for pk, ok in zip(matched, allowed, strict=False) if ok]
    try:
        # The mail speaks the language of the page the member asked from.
        app.tasks[MAIL_LINKS_TASK].delay(subscriber_ids, language=translation.get_language())
    except Exception as exc:  # broker down: the member asks again; nothing else depends on this mail
        logger.warning("lost-link mail not queued (%s)", type(exc).__name__)


def links_mail(*, subscriber_ids: Iterable[int], language: str | None = None) -> int:
    """Mail a fresh link of each of these members (who share one address) in one message to that address.
    Returns how many members the message covers (0: none left mailable, nothing sent)."""
    members = list(selectors.mailable_subscribers().filter(pk__in=list(subscriber_ids)))
    if not members:
        return 0
    links = [(member.first_name, preference_url(member)) for member in members]
    with translation.override(language or settings.LANGUAGE_CODE):
        context = {"brand": brand_published(translation.get_language()), "links": links}
        subject = render_to_string("subscribers/email/lost_link_subject.txt", context).strip()
        body = render_to_string("subscribers/email/lost_link_body.txt", context)
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [members[0].email])
    except Exception as exc:  # staff see the failure in the log, without the address
        logger.error("lost-link mail not sent: %s", type(exc).__name__)
        return 0
    return len(members)
