"""Reads of interests: what is on the form, what iMIS took off it, what discovery skipped."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import RemoteInterest, SkippedImisField


def interests_on_form() -> QuerySet[RemoteInterest]:
    """What members see, in staff order: visible and still present in iMIS."""
    return RemoteInterest.objects.on_form().order_by("position", "id")


def interests_hidden_by_imis() -> QuerySet[RemoteInterest]:
    """Visible interests that left the form because their field disappeared from iMIS."""
    return RemoteInterest.objects.filter(visible=True, present_in_imis=False).order_by("position", "id")


def skipped_fields() -> QuerySet[SkippedImisField]:
    return SkippedImisField.objects.all()
