"""Reads of interests: the staff list with target group sizes, the member form's layout, discovery state."""

from __future__ import annotations

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from subscribers.models import Preference, mailable_q
from sync.models import SyncRun

from .models import RemoteInterest, SkippedImisField


def interests_with_audience(queryset: QuerySet[RemoteInterest] | None = None) -> QuerySet[RemoteInterest]:
    """Interests annotated with `audience`, the size of their target group.

    One correlated subquery per row of the same statement, so a page of interests costs one query
    whatever its length; it walks the (interest, value) index of Preference."""
    queryset = RemoteInterest.objects.all() if queryset is None else queryset
    counts = (
        Preference.objects.filter(mailable_q("subscriber__"), interest=OuterRef("pk"), value=True)
        .order_by()
        .values("interest")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return queryset.annotate(audience=Coalesce(Subquery(counts, output_field=IntegerField()), Value(0)))


def interests_on_form() -> QuerySet[RemoteInterest]:
    """What members see, in staff order: visible and still present in iMIS."""
    return RemoteInterest.objects.on_form().order_by("position", "id")


def interests_hidden_by_imis() -> QuerySet[RemoteInterest]:
    """Visible interests that left the form because their field disappeared from iMIS."""
    return RemoteInterest.objects.filter(visible=True, present_in_imis=False).order_by("position", "id")


def skipped_fields() -> QuerySet[SkippedImisField]:
    return SkippedImisField.objects.all()


def discovery_last_run() -> SyncRun | None:
    return SyncRun.objects.filter(kind=SyncRun.Kind.DISCOVER).order_by("-started_at", "-id").first()
