"""Personal links for the mailing system (CSV merge fields) and "mail me my link" requests."""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterable, Iterator

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string

from .. import selectors
from ..tokens import one_click_url, preference_url

logger = logging.getLogger(__name__)

CSV_HEADER = ["imis_id", "email", "first_name", "last_name", "preference_url", "one_click_url"]
CHUNK = 2000


class _Echo:
    def write(self, value):
        return value


def _cell(value: str) -> str:
    """Spreadsheet formula injection: a name such as "=HYPERLINK(...)" must stay text."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def links_csv_lines(subscribers=None) -> Iterator[str]:
    """CSV lines (header first) of mailable members' links, streamed in chunks: flat memory for any roster.
    `subscribers` is a queryset to narrow down (e.g. the admin's selection); only mailable ones are kept."""
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_HEADER)
    queryset = selectors.mailable_subscribers()
    if subscribers is not None:
        queryset = queryset.filter(pk__in=subscribers.values("pk"))
    fields = ("id", "imis_id", "email", "first_name", "last_name", "token_version")
    for subscriber in queryset.only(*fields).iterator(chunk_size=CHUNK):
        yield writer.writerow(
            [
                subscriber.imis_id,
                subscriber.email,
                _cell(subscriber.first_name),
                _cell(subscriber.last_name),
                preference_url(subscriber),
                one_click_url(subscriber),
            ]
        )


def links_mail(*, email: str) -> int:
    """Mail a fresh link to each mailable member at this address (one message). Returns how many members
    the message covers: callers must answer the same whatever it is, so that nobody learns who is a
    member."""
    members: Iterable = list(selectors.subscribers_for_address(email)[:10])
    if not members:
        return 0
    context = {
        "association_name": settings.ASSOCIATION_NAME,
        "links": [(member.first_name, preference_url(member)) for member in members],
    }
    subject = render_to_string("subscribers/email/lost_link_subject.txt", context).strip()
    body = render_to_string("subscribers/email/lost_link_body.txt", context)
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [members[0].email])
    except Exception as exc:  # the page answers the same; staff see the failure in the log, without the address
        logger.error("lost-link mail not sent: %s", type(exc).__name__)
        return 0
    return len(members)
