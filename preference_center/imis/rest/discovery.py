"""REST discovery: the checkbox fields iMIS offers as business objects (/api/BOEntityDefinition), with the
SQL path's reasons for what is skipped.

Panel sources (IsDesignable) and the objects of legacy UD tables are candidates; a Boolean (bit) property
of a single-instance, contact-parented one is a checkbox. Over REST nothing lists the UD tables themselves,
and a UD table whose business object was never built is out of reach (rest.md §2): the UD tables or fields
the association expects (IMIS_API_UD_FIELDS) are checked against what the API shows, and each one it
cannot reach is reported, as the SQL path reports a field UD_Field lists and the table lacks."""

from __future__ import annotations

from django.conf import settings

from ..identifiers import is_valid_identifier
from ..types import CheckboxField, Discovery, SkippedField
from . import shapes
from .client import RestClient
from .reads import shared_client

# Identity properties of a panel source row, never offered as interests.
KEY_PROPERTIES = {"id", "contactkey", "ordinal", "seqn"}
ALL_FIELDS = "*"  # a skipped row for a whole table


def _is_checkbox(prop: dict) -> bool:
    extended = prop.get("ExtendedPropertyInformation") or {}
    return prop.get("PropertyTypeName") == "Boolean" or str(extended.get("DbDataType", "")).lower() == "bit"


def _offered(definition: dict) -> bool:
    """Panel sources (IsDesignable) and the business objects of legacy UD tables; not iMIS's own objects."""
    name = str(definition.get("EntityTypeName", ""))
    return bool(definition.get("IsDesignable")) or name.lower().startswith("ud_")


def _reason(table: str, name: str, prop: dict, definition: dict) -> str | None:
    """Why the property is not offered as an interest; None when it is."""
    parent = definition.get("PrimaryParentEntityTypeName") or ""
    object_type = definition.get("ObjectTypeName") or ""
    if not is_valid_identifier(table) or not is_valid_identifier(name):
        return "invalid identifier: refused, never used in a request"
    if object_type != "Single":
        return f"multi-instance business object (ObjectTypeName {object_type or 'empty'})"
    if parent != "Party":
        return f"not a contact's object (PrimaryParentEntityTypeName {parent or 'empty'})"
    if not _is_checkbox(prop):
        return f"not a checkbox property (PropertyTypeName {prop.get('PropertyTypeName') or 'empty'})"
    return None


def _definition_fields(definition: dict, result: Discovery):
    table = str(definition.get("EntityTypeName", ""))
    for seq, prop in enumerate(shapes.values(definition.get("Properties")), start=1):
        name = str(prop.get("Name", ""))
        if prop.get("IsIdentity") or name.lower() in KEY_PROPERTIES:
            continue
        reason = _reason(table, name, prop, definition)
        if reason:
            result.skipped.append(SkippedField(table, name, reason))
        else:
            result.interests.append(CheckboxField(table, name, str(prop.get("Caption") or name), "", seq * 10))


def _expected(entries) -> list[tuple[str, str]]:
    """(table, field or ALL_FIELDS) of IMIS_API_UD_FIELDS entries `TABLE` or `TABLE.FIELD`."""
    expected = []
    for entry in entries:
        table, _dot, field = str(entry).strip().partition(".")
        if table:
            expected.append((table, field or ALL_FIELDS))
    return expected


def _unreachable(expected, properties: dict[str, set[str]]) -> list[SkippedField]:
    """The expected tables and fields the API does not show, each with its reason."""
    skipped = []
    for table, field in expected:
        if not is_valid_identifier(table) or (field != ALL_FIELDS and not is_valid_identifier(field)):
            skipped.append(SkippedField(table, field, "invalid identifier in IMIS_API_UD_FIELDS: refused"))
        elif table.lower() not in properties:
            reason = f"no business object for UD table {table}: unreachable over REST until iMIS has one"
            skipped.append(SkippedField(table, field, reason))
        elif field != ALL_FIELDS and field.lower() not in properties[table.lower()]:
            reason = "field listed in IMIS_API_UD_FIELDS but the business object has no such property"
            skipped.append(SkippedField(table, field, reason))
    return skipped


def discover_checkbox_fields(using=None, *, client: RestClient | None = None, expected=None) -> Discovery:
    """Boolean properties of single-instance, contact-parented panel sources and UD-table business
    objects; every other property of those objects, and every expected UD table or field the API does not
    show (`expected`: IMIS_API_UD_FIELDS), with its reason."""
    client = client or shared_client()
    expected = _expected(settings.IMIS_API_UD_FIELDS if expected is None else expected)
    result = Discovery()
    properties: dict[str, set[str]] = {}
    for page in client.iter_pages("api/BOEntityDefinition"):
        for definition in page:
            name = str(definition.get("EntityTypeName", ""))
            props = shapes.values(definition.get("Properties"))
            properties[name.lower()] = {str(p.get("Name", "")).lower() for p in props}
            if _offered(definition):
                _definition_fields(definition, result)
    result.skipped.extend(_unreachable(expected, properties))
    result.interests.sort(key=lambda f: (f.table_name.lower(), f.seq, f.field_name))
    result.skipped.sort(key=lambda f: (f.table_name.lower(), f.field_name))
    return result
