"""iMIS as the gateway tests see it: a change to write, and the replica read with the tests' own eyes."""

import uuid

from preference_center import imis
from tests.conftest import fetch, q


def change(imis_id, field="NEWSLETTER", value=True, table="ud_EmailPrefs", **kwargs):
    return imis.ValueChange(
        change_id=kwargs.pop("change_id", str(uuid.uuid4())),
        imis_id=imis_id,
        table_name=table,
        field_name=field,
        value=value,
        product_code=kwargs.pop("product_code", field),
        description=kwargs.pop("description", f"Opted {'in' if value else 'out'}: {field}"),
        **kwargs,
    )


def counter(alias="imis"):
    """The last SEQN iMIS handed out for an Activity row (its Counter row)."""
    return fetch(
        alias,
        f"SELECT {q(alias, 'LAST_VALUE')} FROM {q(alias, 'Counter')} WHERE {q(alias, 'COUNTER_NAME')} = 'Activity'",
    )[0][0]


def ud_value(imis_id, field="NEWSLETTER", table="ud_EmailPrefs", *, alias="imis"):
    """What iMIS holds in the member's UD field, or "no row" when the member has no row in `table`."""
    rows = fetch(alias, f"SELECT {q(alias, field)} FROM {q(alias, table)} WHERE {q(alias, 'ID')} = %s", [imis_id])
    return rows[0][0] if rows else "no row"


def activities(change_id=None, *, alias="imis"):
    """Our Activity rows (SOURCE_SYSTEM PREFCTR), in SEQN order, or only those of one change (SOURCE_CODE
    `change_id`): (SEQN, ID, type, product code, description, source code, date)."""
    cols = ["SEQN", "ID", "ACTIVITY_TYPE", "PRODUCT_CODE", "DESCRIPTION", "SOURCE_CODE", "TRANSACTION_DATE"]
    where, params = f"{q(alias, 'SOURCE_SYSTEM')} = 'PREFCTR'", []
    if change_id is not None:
        where, params = f"{where} AND {q(alias, 'SOURCE_CODE')} = %s", [change_id]
    sql = (
        f"SELECT {', '.join(q(alias, c) for c in cols)} FROM {q(alias, 'Activity')} "
        f"WHERE {where} ORDER BY {q(alias, 'SEQN')}"
    )
    return fetch(alias, sql, params)
