"""The gateway's interface: everything the sync asks of iMIS, whichever way iMIS is reached.

Two implementations conform, each a module: `gateway` (the iMIS database: SQL Server, or a replica) and
`rest.gateway` (the REST API of iMIS EMS / Cloud). `preference_center.imis` picks one from the settings;
nothing outside this package knows which one runs. `using` names the database alias on the SQL side and
is ignored over REST (the site is IMIS_API_URL)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol, runtime_checkable

from .types import Discovery, Health, Member, UdRow, ValueChange, WriteOutcome


@runtime_checkable
class Gateway(Protocol):
    def ping(self, using=None) -> None:
        """Does iMIS answer at all (the readiness probe's question)? Raises ImisError when it does not."""

    def health_check(self, using=None, ud_tables: Iterable[str] = ()) -> Health:
        """Is iMIS reachable, are the offered tables there, may we read and write what we must?"""

    def discover_checkbox_fields(self, using=None) -> Discovery:
        """The checkbox fields that can be offered as interests, and every other field with its reason."""

    def iter_roster(self, using=None, chunk_size=None) -> Iterator[list[Member]]:
        """Every member, in chunks (memory bounded by the chunk), in a stable order."""

    def iter_checkbox_values(self, table, fields, using=None, chunk_size=None) -> Iterator[list[UdRow]]:
        """The values of `fields` of UD table / source `table` for each member who has a row, in chunks;
        a NULL or missing value reads as unchecked."""

    def write_changes(
        self, changes: Iterable[ValueChange], using=None, *, create_missing_rows=None, name_log=None
    ) -> list[WriteOutcome]:
        """Each change's value and its Activity row (SOURCE_CODE = the change id); a WriteOutcome per
        change, in order. A change iMIS already holds an Activity row of is ALREADY_WRITTEN, never written
        twice; a member without a row is NO_UD_ROW unless `create_missing_rows`. Errors: ImisUnavailable
        (worth retrying), ImisRefused / ImisError (not)."""

    def written_activities(self, changes: Iterable[tuple[str, str]], using=None) -> dict[str, int]:
        """{change id: Activity SEQN} of the (iMIS ID, change id) pairs iMIS already holds a row of."""
