"""CSV export of a target group: streamed row by row from a server-side cursor, so memory stays flat at
100,000 members and the first bytes leave before the last row is read."""

from __future__ import annotations

import logging

from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.text import slugify

from subscribers.services.links import csv_chunks

from .selectors import TargetGroupSpec, export_rows
from .tasks import target_group_pages_warm

logger = logging.getLogger(__name__)


def export_filename(group: TargetGroupSpec) -> str:
    name = slugify(group.describe())[:80] or "target-group"
    return f"{name}-{timezone.localdate():%Y-%m-%d}.csv"


def export_response(group: TargetGroupSpec) -> StreamingHttpResponse:
    """The group's members with their personal links, as a streamed CSV attachment; their pages are cached
    meanwhile (a worker's job), ahead of the mailing the links are for."""
    response = StreamingHttpResponse(csv_chunks(export_rows(group=group)), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{export_filename(group)}"'
    response["Cache-Control"] = "no-store"  # personal links: no copy in a proxy or the browser cache
    _warm_pages(group)
    return response


def _warm_pages(group: TargetGroupSpec) -> None:
    try:
        target_group_pages_warm.delay(list(group.any_of), list(group.all_of), list(group.none_of))
    except Exception as exc:  # broker down: the pages are read from the database when visited, as always
        logger.warning("member pages not cached ahead of the mailing (%s)", type(exc).__name__)
