"""What the REST sandbox serves, read from and written to the SQL replica (preference_center.imis.sandbox)
on a Django database alias, in the documented iMIS REST shapes."""

from __future__ import annotations

import datetime

from django.db import connections, transaction

from ..identifiers import checked
from ..sandbox import SCHEMA
from . import shapes

CONTACT_COLUMNS = [
    "ID",
    "FIRST_NAME",
    "LAST_NAME",
    "FULL_NAME",
    "EMAIL",
    "STATUS",
    "COMPANY",
    "COMPANY_RECORD",
    "EXCLUDE_MAIL",
]
ACTIVITY_PROPERTIES = [
    "ACTIVITY_TYPE",
    "PRODUCT_CODE",
    "DESCRIPTION",
    "SOURCE_SYSTEM",
    "SOURCE_CODE",
    "TRANSACTION_DATE",
]


# The answer of a dry run that found nothing wrong (shape [I]: ASI's client reads ValidateResultsData).
VALID = {"$type": "Asi.Soa.Core.DataContracts.ValidateResultsData, Asi.Contracts", "IsValid": True, "Errors": None}


class Refused(Exception):
    """A 400 with iMIS's validation shape."""


def _q(using, name):
    return connections[using].ops.quote_name(checked(name))


def _select(using, table, columns):
    return f"SELECT {', '.join(_q(using, c) for c in columns)} FROM {_q(using, table)}"


def _fetch(using, sql, params=()):
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def ud_tables(using) -> dict[str, dict]:
    """{table: {"multi": bool, "columns": {column: is_bit}, "prompts": {column: prompt}}} of the UD tables
    that exist physically (a UD table without one has no business object)."""
    connection = connections[using]
    with connection.cursor() as cursor:
        physical = {t.name.lower(): t.name for t in connection.introspection.get_table_list(cursor)}
        tables = {}
        for name, multi in _fetch(using, _select(using, "UD_Table", ["TABLE_NAME", "ALLOW_MULTIPLE_INSTANCES"])):
            spelled = physical.get(name.strip().lower())
            if not spelled:
                continue
            introspection = connection.introspection
            columns = {
                c.name: introspection.get_field_type(c.type_code, c) == "BooleanField"
                for c in introspection.get_table_description(cursor, spelled)
            }
            tables[spelled] = {"multi": bool(multi), "columns": columns, "prompts": {}}
    for table, field, prompt in _fetch(using, _select(using, "UD_Field", ["TABLE_NAME", "FIELD_NAME", "PROMPT"])):
        for spelled, info in tables.items():
            if spelled.lower() == table.strip().lower():
                info["prompts"][field.strip()] = prompt.strip()
    return tables


def entity_definitions(tables: dict[str, dict]) -> list[dict]:
    definitions = []
    for table, info in sorted(tables.items(), key=lambda item: item[0].lower()):
        props = []
        for column, is_bit in info["columns"].items():
            props.append(
                {
                    "$type": "Asi.Soa.Core.DataContracts.PropertyType%sData, Asi.Contracts"
                    % ("Boolean" if is_bit else "String"),
                    "PropertyTypeName": "Boolean" if is_bit else "String",
                    "Name": column,
                    "Caption": info["prompts"].get(column, column),
                    "IsIdentity": column in ("ID", "SEQN"),
                    "ExtendedPropertyInformation": {
                        "DatabaseColumnName": column,
                        "DbDataType": "Bit" if is_bit else "VarChar",
                    },
                }
            )
        definitions.append(
            {
                "$type": "Asi.Soa.Core.DataContracts.BOEntityDefinitionData, Asi.Contracts",
                "EntityTypeName": table,
                "ObjectTypeName": "Multi" if info["multi"] else "Single",
                "PrimaryParentEntityTypeName": "Party",
                "IsDesignable": True,
                "Properties": {"$values": props},
            }
        )
    return definitions


CONTACT_PROPERTIES = [
    "ID",
    "FirstName",
    "LastName",
    "FullName",
    "Email",
    "Status",
    "Company",
    "IsCompany",
    "ExcludeMail",
]


def check_order(order: str | None, properties, entity: str):
    """Refuse an OrderBy (`Prop` or `Prop:Ascending|Descending`) naming no property of `entity`, as iMIS
    would. The sandbox pages in ID order whatever it names."""
    if not order:
        return
    name, _colon, direction = order.partition(":")
    if name not in properties or direction not in ("", "Ascending", "Descending"):
        raise Refused(f"OrderBy '{order}': no property '{name}' on {entity}")


def contacts_page(using, offset, limit) -> tuple[list[dict], int]:
    """A page of CsContact. A column an association added to Name (a language, say) is served as a property
    of its own name, as a site's customised contact would carry it."""
    (total,) = _fetch(using, f"SELECT COUNT(*) FROM {_q(using, 'Name')}")[0]
    with connections[using].cursor() as cursor:
        extra = [c.name for c in connections[using].introspection.get_table_description(cursor, "Name")]
    known = {column for column, *_ in SCHEMA["Name"]}
    extra = [c for c in extra if c not in known]
    columns = ", ".join(_q(using, c) for c in [*CONTACT_COLUMNS, *extra])
    rows = _fetch(
        using,
        f"SELECT {columns} FROM {_q(using, 'Name')} ORDER BY {_q(using, 'ID')} LIMIT %s OFFSET %s",
        (limit, offset),
    )
    items = []
    for row in rows:
        imis_id, first, last, full, email, status, company, is_company, exclude = row[: len(CONTACT_COLUMNS)]
        values = [imis_id, first, last, full, email, status, company]
        values += [shapes.wrap_bool(bool(is_company)), shapes.wrap_bool(bool(exclude))]
        props = [shapes.property_item(name, value) for name, value in zip(CONTACT_PROPERTIES, values, strict=True)]
        props += [
            shapes.property_item(name, value) for name, value in zip(extra, row[len(CONTACT_COLUMNS) :], strict=True)
        ]
        items.append(shapes.generic_entity("CsContact", imis_id, props))
    return items, total


def _row_entity(table, columns, is_bit, row, multi):
    record = dict(zip(columns, row, strict=True))
    props = [
        shapes.property_item(c, shapes.wrap_bool(bool(record[c])) if is_bit[c] and record[c] is not None else record[c])
        for c in columns
    ]
    return shapes.generic_entity(table, record["ID"], props, keyed=not multi)


def source_page(using, table, info, offset, limit) -> tuple[list[dict], int]:
    columns = list(info["columns"])
    order = ", ".join(_q(using, c) for c in (["ID", "SEQN"] if info["multi"] else ["ID"]))
    (total,) = _fetch(using, f"SELECT COUNT(*) FROM {_q(using, table)}")[0]
    rows = _fetch(
        using,
        f"SELECT {', '.join(_q(using, c) for c in columns)} FROM {_q(using, table)} ORDER BY {order} LIMIT %s OFFSET %s",
        (limit, offset),
    )
    return [_row_entity(table, columns, info["columns"], row, info["multi"]) for row in rows], total


def source_row(using, table, info, imis_id) -> dict | None:
    columns = list(info["columns"])
    rows = _fetch(
        using,
        f"SELECT {', '.join(_q(using, c) for c in columns)} FROM {_q(using, table)} WHERE {_q(using, 'ID')} = %s",
        (imis_id,),
    )
    return _row_entity(table, columns, info["columns"], rows[0], False) if rows else None


def source_update(using, table, info, imis_id, entity) -> bool:
    """Write the entity's properties back to the member's row; False when the member has none."""
    values = shapes.properties(entity)
    unknown = sorted(set(values) - set(info["columns"]))
    if unknown:
        raise Refused(f"Property '{unknown[0]}' is not defined on {table}")
    if str(values.get("ID", imis_id)) != imis_id:
        raise Refused("The ID in the body does not match the ID in the address")
    changes = {
        c: (shapes.as_bool(v) if info["columns"][c] and v is not None else v)
        for c, v in values.items()
        if c not in ("ID", "SEQN")
    }
    if not changes:
        return bool(source_row(using, table, info, imis_id))
    assignments = ", ".join(f"{_q(using, c)} = %s" for c in changes)
    with connections[using].cursor() as cursor:
        cursor.execute(
            f"UPDATE {_q(using, table)} SET {assignments} WHERE {_q(using, 'ID')} = %s", [*changes.values(), imis_id]
        )
        return cursor.rowcount > 0


def _activity_row(entity) -> tuple[str, dict]:
    """(iMIS ID, {property: value}) of a POSTed Activity, or Refused as iMIS validates it."""
    values = shapes.properties(entity)
    imis_id = values.get("PartyId") or values.get("ID")
    if not imis_id or not values.get("ACTIVITY_TYPE"):
        raise Refused("PartyId and ACTIVITY_TYPE are required")
    unknown = sorted(set(values) - {"PartyId", "ID", "SEQN", *ACTIVITY_PROPERTIES})
    if unknown:
        raise Refused(f"Property '{unknown[0]}' is not defined on Activity")
    row = {c: values.get(c) or "" for c in ACTIVITY_PROPERTIES}
    row["TRANSACTION_DATE"] = values.get("TRANSACTION_DATE") or datetime.datetime.now().isoformat(timespec="seconds")
    return imis_id, row


def validate(tables: dict[str, dict], entity_name, entity) -> dict | None:
    """`POST /api/{entity}/_validate`: iMIS's dry run. Refused as a save would be; nothing is written.
    None for an entity that is no business object."""
    if entity_name.lower() == "activity":
        _activity_row(entity)
    else:
        lowered = {name.lower(): (name, info) for name, info in tables.items()}
        if entity_name.lower() not in lowered:
            return None
        table, info = lowered[entity_name.lower()]
        values = shapes.properties(entity)
        unknown = sorted(set(values) - set(info["columns"]))
        if unknown or not values.get("ID"):
            raise Refused(f"Property '{unknown[0]}' is not defined on {table}" if unknown else "ID is required")
    return VALID


def activity_create(using, entity) -> dict:
    imis_id, row = _activity_row(entity)
    counter = _q(using, "Counter")
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        cursor.execute(
            f"UPDATE {counter} SET {_q(using, 'LAST_VALUE')} = {_q(using, 'LAST_VALUE')} + 1 WHERE {_q(using, 'COUNTER_NAME')} = 'Activity'"
        )
        cursor.execute(
            f"SELECT {_q(using, 'LAST_VALUE')} FROM {counter} WHERE {_q(using, 'COUNTER_NAME')} = 'Activity'"
        )
        (seqn,) = cursor.fetchone()
        columns = ["SEQN", "ID", *ACTIVITY_PROPERTIES]
        cursor.execute(
            f"INSERT INTO {_q(using, 'Activity')} ({', '.join(_q(using, c) for c in columns)}) VALUES ({', '.join(['%s'] * len(columns))})",
            [seqn, imis_id, *row.values()],
        )
    props = [
        shapes.property_item("SEQN", {"$type": "System.Int32", "$value": seqn}),
        shapes.property_item("PartyId", imis_id),
    ]
    props += [shapes.property_item(c, v) for c, v in row.items()]
    return shapes.generic_entity("Activity", imis_id, props, keyed=False)


def _equals(query, name) -> str | None:
    value = query.get(name)
    if value is None:
        return None
    if not value.startswith("eq:"):
        raise Refused(f"The sandbox filters {name} with eq: only")
    return value.removeprefix("eq:")


def activities_page(using, query, offset, limit) -> tuple[list[dict], int]:
    """Activity rows, all or filtered as `?PartyId=eq:ID&SOURCE_CODE=eq:CODE`, in SEQN order."""
    where, params = [], []
    for prop, column in (("PartyId", "ID"), ("SOURCE_CODE", "SOURCE_CODE")):
        value = _equals(query, prop)
        if value is not None:
            where.append(f"{_q(using, column)} = %s")
            params.append(value)
    condition = f" WHERE {' AND '.join(where)}" if where else ""
    (total,) = _fetch(using, f"SELECT COUNT(*) FROM {_q(using, 'Activity')}{condition}", params)[0]
    columns = ["SEQN", "ID", *ACTIVITY_PROPERTIES]
    sql = _select(using, "Activity", columns) + condition + f" ORDER BY {_q(using, 'SEQN')} LIMIT %s OFFSET %s"
    found = []
    for row in _fetch(using, sql, [*params, limit, offset]):
        record = dict(zip(columns, row, strict=True))
        imis_id = record.pop("ID")
        props = [shapes.property_item("SEQN", {"$type": "System.Int32", "$value": record.pop("SEQN")})]
        props.append(shapes.property_item("PartyId", imis_id))
        props += [shapes.property_item(c, v) for c, v in record.items()]
        found.append(shapes.generic_entity("Activity", imis_id, props, keyed=False))
    return found, total


def source_create(using, table, info, entity) -> dict:
    """A new single-instance row from a POSTed entity (iMIS's answer when a member had none)."""
    values = shapes.properties(entity)
    imis_id = str(values.get("ID") or "")
    unknown = sorted(set(values) - set(info["columns"]))
    if not imis_id or unknown or info["multi"]:
        raise Refused(f"Cannot create a {table} row from properties {sorted(values)}")
    if source_row(using, table, info, imis_id):
        raise Refused(f"A {table} row already exists for {imis_id}")
    row = {c: (shapes.as_bool(v) if info["columns"][c] else v) for c, v in values.items()}
    with connections[using].cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_q(using, table)} ({', '.join(_q(using, c) for c in row)}) VALUES ({', '.join(['%s'] * len(row))})",
            list(row.values()),
        )
    return source_row(using, table, info, imis_id)
