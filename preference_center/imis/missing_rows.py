"""The statement iMIS staff run to create the UD rows members lack (we never run it: iMIS's own rule is that
its staff create these rows). Written for SQL Server, to be pasted into SQL Server Management Studio."""

from __future__ import annotations

from collections.abc import Sequence

from .identifiers import checked

# SQL Server takes long IN lists, but a statement of a few thousand literals is what a person can still
# paste and read; the rest goes in further statements.
IDS_PER_STATEMENT = 1000


def _name(identifier: str) -> str:
    return f"[{checked(identifier)}]"  # checked: letters, digits and _ only, nothing to escape


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def create_missing_ud_rows_sql(
    table: str, imis_ids: Sequence[str], per_statement: int = IDS_PER_STATEMENT
) -> list[str]:
    """One INSERT ... SELECT per `per_statement` IDs that gives each of these members a row in `table`,
    taken from Name (so an ID that left iMIS meanwhile creates nothing) and skipping a row made meanwhile
    (the statement can be run twice). Raises InvalidIdentifier for an unsafe table name."""
    target = f"[dbo].{_name(table)}"
    statements = []
    for start in range(0, len(imis_ids), per_statement):
        ids = ", ".join(_literal(i) for i in imis_ids[start : start + per_statement])
        # Text for iMIS staff, never run here; the name is checked and the literals escaped.
        statements.append(
            f"INSERT INTO {target} ([ID]) SELECT [n].[ID] FROM [dbo].[Name] AS [n] WHERE [n].[ID] IN ({ids}) "  # noqa: S608
            f"AND NOT EXISTS (SELECT 1 FROM {target} AS [u] WHERE [u].[ID] = [n].[ID]);"
        )
    return statements
