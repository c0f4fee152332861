"""The Activity row of a change, the same whichever way iMIS is reached: the SQL gateway inserts it, the
REST gateway posts it. iMIS stores local wall-clock time."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.utils import timezone

from .types import ValueChange


def imis_local_time(value: datetime.datetime | None = None) -> datetime.datetime:
    """`value` (default: now) as iMIS keeps times: local wall-clock time, without a time zone."""
    value = value or timezone.now()
    if timezone.is_aware(value):
        value = timezone.localtime(value, timezone.get_default_timezone())
    return value.replace(tzinfo=None)


def activity_values(change: ValueChange) -> dict:
    """The Activity columns (as iMIS names them) of a change, cut to their widths. SOURCE_CODE is the
    change's UUID: how a retry finds a row an earlier attempt wrote."""
    return {
        "ACTIVITY_TYPE": settings.IMIS_ACTIVITY_TYPE[:10],
        "TRANSACTION_DATE": imis_local_time(change.transaction_date),
        "PRODUCT_CODE": (change.product_code or change.field_name)[:31],
        "DESCRIPTION": change.description[:255],
        "SOURCE_SYSTEM": settings.IMIS_SOURCE_SYSTEM[:10],
        "SOURCE_CODE": change.change_id[:40],
    }
