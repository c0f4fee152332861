"""CSV export of a target group: streamed row by row from a server-side cursor, so memory stays flat at
100,000 members and the first bytes leave before the last row is read."""

from __future__ import annotations

from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.text import slugify

from subscribers.services.links import csv_chunks

from .selectors import TargetGroupSpec, export_rows


def export_filename(group: TargetGroupSpec, name: str = "") -> str:
    """The file's name: the saved group's name if it has one, else what the combination is."""
    stem = slugify(name or group.describe())[:80] or "target-group"
    return f"{stem}-{timezone.localdate():%Y-%m-%d}.csv"


def export_response(group: TargetGroupSpec, name: str = "") -> StreamingHttpResponse:
    """The group's members with their personal links, as a streamed CSV attachment."""
    response = StreamingHttpResponse(csv_chunks(export_rows(group=group)), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{export_filename(group, name)}"'
    response["Cache-Control"] = "no-store"  # personal links: no copy in a proxy or the browser cache
    return response
