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


def counter(alias):
    return fetch(
        alias,
        f"SELECT {q(alias, 'LAST_VALUE')} FROM {q(alias, 'Counter')} WHERE {q(alias, 'COUNTER_NAME')} = 'Activity'",
    )[0][0]


def ud_value(alias, imis_id, field="NEWSLETTER", table="ud_EmailPrefs"):
    rows = fetch(alias, f"SELECT {q(alias, field)} FROM {q(alias, table)} WHERE {q(alias, 'ID')} = %s", [imis_id])
    return rows[0][0] if rows else "no row"


def activities(alias, source_code):
    return fetch(
        alias,
        f"SELECT {q(alias, 'SEQN')}, {q(alias, 'ID')}, {q(alias, 'ACTIVITY_TYPE')}, {q(alias, 'PRODUCT_CODE')}, "
        f"{q(alias, 'DESCRIPTION')}, {q(alias, 'SOURCE_SYSTEM')} FROM {q(alias, 'Activity')} "
        f"WHERE {q(alias, 'SOURCE_CODE')} = %s",
        [source_code],
    )
