"""Plain data the gateway returns: no models, no connections."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field


@dataclass(frozen=True)
class CheckboxField:
    """A checkbox field of a single-instance UD table that both metadata and the catalogue agree on.

    Names are spelled as in the database catalogue (what the gateway quotes)."""

    table_name: str
    field_name: str
    prompt: str = ""
    micro_help: str = ""
    seq: int = 0


@dataclass(frozen=True)
class SkippedField:
    table_name: str
    field_name: str
    reason: str


@dataclass
class Discovery:
    interests: list[CheckboxField] = field(default_factory=list)
    skipped: list[SkippedField] = field(default_factory=list)


@dataclass(frozen=True)
class Member:
    imis_id: str
    email: str
    first_name: str
    last_name: str
    full_name: str
    status: str
    is_company: bool
    exclude_mail: bool
    language: str = ""  # as iMIS holds it (IMIS_LANGUAGE_FIELD), not yet one of LANGUAGES; "" when not read


@dataclass(frozen=True)
class UdRow:
    imis_id: str
    values: tuple[bool, ...]  # in the order of the fields asked for


@dataclass(frozen=True)
class ValueChange:
    """One checkbox value to write, identified by our change UUID (Activity.SOURCE_CODE).

    `tried_before`: an earlier attempt may have committed it (its worker was lost, iMIS answered with an
    error after the write, or its batch failed part way), so the gateway first looks for its Activity row
    and never writes a second one. False only for a change never sent before, which lets the REST gateway
    spare that look-up (a request per change); the SQL gateway looks up every batch in one query anyway."""

    change_id: str
    imis_id: str
    table_name: str
    field_name: str
    value: bool
    product_code: str
    description: str
    transaction_date: datetime.datetime | None = None
    tried_before: bool = True


WRITTEN = "written"
ALREADY_WRITTEN = "already_written"
NO_UD_ROW = "no_ud_row"
CREATED_ROW = "created_row"


@dataclass(frozen=True)
class WriteOutcome:
    change_id: str
    status: str  # WRITTEN, CREATED_ROW, ALREADY_WRITTEN or NO_UD_ROW
    seqn: int | None = None

    @property
    def ok(self):
        return self.status != NO_UD_ROW


@dataclass
class Health:
    reachable: bool
    vendor: str = ""
    missing_tables: list[str] = field(default_factory=list)
    missing_permissions: list[str] = field(default_factory=list)
    error: str = ""
    problems: list[str] = field(default_factory=list)  # anything else that stops us, in plain words
    notes: list[str] = field(default_factory=list)  # what could not be checked (no problem found)

    @property
    def ok(self):
        return self.reachable and not self.missing_tables and not self.missing_permissions and not self.problems

    @property
    def summary(self):
        if not self.reachable:
            return f"unreachable: {self.error}"
        problems = [f"missing table {t}" for t in self.missing_tables]
        problems += [f"missing permission {p}" for p in self.missing_permissions]
        problems += self.problems
        if problems:
            return "; ".join(problems)
        return f"ok ({'; '.join(self.notes)})" if self.notes else "ok"
