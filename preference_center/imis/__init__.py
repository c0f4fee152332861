"""The iMIS gateway. Import from here: `from preference_center import imis`.

One interface (`interface.Gateway`), two implementations: the SQL one (`gateway`, the `imis` database
alias) and the REST one (`rest.gateway`), chosen when IMIS_API_URL is set. Nothing outside this package
knows which one runs."""

from django.conf import settings

from .errors import ImisError, ImisRefused, ImisUnavailable, is_transient, plain_message
from .identifiers import InvalidIdentifier, is_valid_identifier
from .interface import Gateway
from .types import (
    ALREADY_WRITTEN,
    CREATED_ROW,
    NO_UD_ROW,
    WRITTEN,
    CheckboxField,
    Discovery,
    Health,
    Member,
    SkippedField,
    UdRow,
    ValueChange,
    WriteOutcome,
)


def _implementation() -> Gateway:
    """The REST gateway when IMIS_API_URL is set (no database access), else the SQL one."""
    if getattr(settings, "IMIS_API_URL", ""):
        from .rest import gateway as rest_gateway

        return rest_gateway
    from . import gateway as sql_gateway

    return sql_gateway


def discover_checkbox_fields(using=None) -> Discovery:
    return _implementation().discover_checkbox_fields(using=using)


def iter_roster(using=None, chunk_size=None):
    return _implementation().iter_roster(using=using, chunk_size=chunk_size)


def iter_checkbox_values(table, fields, using=None, chunk_size=None):
    return _implementation().iter_checkbox_values(table, fields, using=using, chunk_size=chunk_size)


def written_activities(changes, using=None) -> dict[str, int]:
    return _implementation().written_activities(changes, using=using)


def write_changes(changes, using=None, *, create_missing_rows=None, name_log=None) -> list[WriteOutcome]:
    return _implementation().write_changes(
        changes, using=using, create_missing_rows=create_missing_rows, name_log=name_log
    )


def ping(using=None) -> None:
    _implementation().ping(using=using)


def health_check(using=None, ud_tables=()) -> Health:
    return _implementation().health_check(using=using, ud_tables=ud_tables)


__all__ = [
    "ALREADY_WRITTEN",
    "CREATED_ROW",
    "NO_UD_ROW",
    "WRITTEN",
    "CheckboxField",
    "Discovery",
    "Gateway",
    "Health",
    "ImisError",
    "ImisRefused",
    "ImisUnavailable",
    "InvalidIdentifier",
    "Member",
    "SkippedField",
    "UdRow",
    "ValueChange",
    "WriteOutcome",
    "written_activities",
    "discover_checkbox_fields",
    "health_check",
    "is_transient",
    "is_valid_identifier",
    "iter_checkbox_values",
    "iter_roster",
    "plain_message",
    "write_changes",
]
