"""The iMIS gateway. Import from here: `from preference_center import imis`."""

from .errors import ImisError, ImisRefused, ImisUnavailable, is_transient, plain_message
from .gateway import (
    discover_checkbox_fields,
    health_check,
    iter_checkbox_values,
    iter_roster,
    write_changes,
    written_activities,
)
from .identifiers import InvalidIdentifier, is_valid_identifier
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

__all__ = [
    "ALREADY_WRITTEN",
    "CREATED_ROW",
    "NO_UD_ROW",
    "WRITTEN",
    "CheckboxField",
    "Discovery",
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
