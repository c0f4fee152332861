"""Inserting many rows of a model at once, skipping those a concurrent writer made meanwhile."""

from django.db import IntegrityError, connection, transaction
from psycopg.errors import UniqueViolation

BATCH = 500  # rows per statement where bulk_create is used (SQLite: bound parameters per statement)


def insert_new(model, columns, rows, **same) -> int:
    """Insert `rows` (tuples of `columns`), each with the values of `same` ({column: value}), into `model`'s
    table, skipping any that would break a unique constraint (made meanwhile by a form save or another
    pull); returns how many were inserted (on the embedded SQLite default, which runs one writer at a time:
    how many were offered).

    The roster pull's: a first pull inserts 100,000 members and millions of Preference rows: through model instances and
    bulk_create, building the statements took longer than PostgreSQL took to run them. On PostgreSQL the
    rows go as one array per column (one statement, a handful of parameters), and `same` as single values
    (psycopg builds binary arrays in Python: two columns per row, not five); elsewhere bulk_create."""
    if not rows:
        return 0
    if connection.vendor != "postgresql":
        objs = [model(**dict(zip(columns, row, strict=True)), **same) for row in rows]
        model.objects.bulk_create(objs, batch_size=BATCH, ignore_conflicts=True)
        return len(objs)
    quote = connection.ops.quote_name
    fields = [model._meta.get_field(name) for name in columns]
    # %b: the arrays in binary (psycopg quotes a text array element by element with regular expressions).
    arrays = ", ".join(f"%b::{field.db_type(connection)}[]" for field in fields)
    names = ", ".join(quote(model._meta.get_field(name).column) for name in (*columns, *same))
    singles = "".join(", %s" for _ in same)
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({names}) SELECT *{singles} FROM unnest({arrays})"  # noqa: S608
    params = [
        *(model._meta.get_field(name).get_db_prep_save(value, connection) for name, value in same.items()),
        *(list(column) for column in zip(*rows, strict=True)),
    ]
    with connection.cursor() as cursor:
        # Plain first: ON CONFLICT checks the unique index before each row as well (a large part of a first
        # import: docs/benchmarks.md). Something made meanwhile is rare; then again, skipping it.
        try:
            with transaction.atomic():
                cursor.execute(sql, params)
        except IntegrityError as exc:
            if not isinstance(exc.__cause__, UniqueViolation):
                raise
            cursor.execute(f"{sql} ON CONFLICT DO NOTHING", params)
        return cursor.rowcount
