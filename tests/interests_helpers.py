"""Helpers of the interests tests: edits of the iMIS replica (rows and staff users come from tests/factories.py)."""

import contextlib

from django.db import connections

from tests.conftest import q


def execute(alias, sql, params=()):
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)


def add_ud_field(alias, table, field, prompt="", micro_help="", field_type="CheckBox", column=True):
    """A field iMIS staff added: the UD_Field row and (unless `column=False`) the bit column."""
    if column:
        execute(alias, f"ALTER TABLE {q(alias, table)} ADD COLUMN {q(alias, field)} boolean")
    execute(
        alias,
        f"INSERT INTO {q(alias, 'UD_Field')} ({q(alias, 'TABLE_NAME')}, {q(alias, 'FIELD_NAME')}, "
        f"{q(alias, 'FIELD_TYPE')}, {q(alias, 'PROMPT')}, {q(alias, 'MICRO_HELP')}, {q(alias, 'SEQ')}) "
        "VALUES (%s, %s, %s, %s, %s, %s)",
        [table, field, field_type, prompt, micro_help, 999],
    )


def drop_ud_field(alias, table, field):
    execute(alias, f"ALTER TABLE {q(alias, table)} DROP COLUMN {q(alias, field)}")
    execute(
        alias,
        f"DELETE FROM {q(alias, 'UD_Field')} WHERE {q(alias, 'TABLE_NAME')} = %s AND {q(alias, 'FIELD_NAME')} = %s",
        [table, field],
    )


def rename_ud_field(alias, table, old, new):
    execute(alias, f"ALTER TABLE {q(alias, table)} RENAME COLUMN {q(alias, old)} TO {q(alias, new)}")
    execute(
        alias,
        f"UPDATE {q(alias, 'UD_Field')} SET {q(alias, 'FIELD_NAME')} = %s "
        f"WHERE {q(alias, 'TABLE_NAME')} = %s AND {q(alias, 'FIELD_NAME')} = %s",
        [new, table, old],
    )


def set_prompt(alias, table, field, prompt, micro_help=None):
    sets, params = [f"{q(alias, 'PROMPT')} = %s"], [prompt]
    if micro_help is not None:
        sets.append(f"{q(alias, 'MICRO_HELP')} = %s")
        params.append(micro_help)
    execute(
        alias,
        f"UPDATE {q(alias, 'UD_Field')} SET {', '.join(sets)} "
        f"WHERE {q(alias, 'TABLE_NAME')} = %s AND {q(alias, 'FIELD_NAME')} = %s",
        [*params, table, field],
    )


def set_multi_instance(alias, table, multi=True):
    execute(
        alias,
        f"UPDATE {q(alias, 'UD_Table')} SET {q(alias, 'ALLOW_MULTIPLE_INSTANCES')} = %s "
        f"WHERE {q(alias, 'TABLE_NAME')} = %s",
        [multi, table],
    )


@contextlib.contextmanager
def unreachable_imis(alias="imis_down"):
    """An extra alias like `imis` but on a port where nothing listens: iMIS is down."""
    config = {**connections["imis"].settings_dict, "HOST": "127.0.0.1", "PORT": "1", "OPTIONS": {"connect_timeout": 2}}
    connections.settings[alias] = config
    try:
        yield alias
    finally:
        connections[alias].close()
        del connections.settings[alias]
