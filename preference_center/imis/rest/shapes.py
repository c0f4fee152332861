"""The JSON shapes of the iMIS REST API: .NET `$type`/`$value` wrappers, `$values` collections,
GenericEntityData properties and the PagedResult envelope."""

from __future__ import annotations

BOOLEAN_TYPE = "System.Boolean"
ENTITY_TYPE = "Asi.Soa.Core.DataContracts.GenericEntityData, Asi.Contracts"
PROPERTY_TYPE = "Asi.Soa.Core.DataContracts.GenericPropertyData, Asi.Contracts"
PROPERTIES_TYPE = "Asi.Soa.Core.DataContracts.GenericPropertyDataCollection, Asi.Contracts"
IDENTITY_TYPE = "Asi.Soa.Core.DataContracts.IdentityData, Asi.Contracts"
STRINGS_TYPE = "System.Collections.ObjectModel.Collection`1[[System.String, mscorlib]], mscorlib"
PAGED_TYPE = "Asi.Soa.Core.DataContracts.PagedResult, Asi.Contracts"
# What iMIS answers at most per page, whatever `limit` asks for.
MAX_PAGE_SIZE = 500


def values(collection) -> list:
    """The items of a `{"$type": ..., "$values": [...]}` collection; a bare list or None is accepted."""
    if collection is None:
        return []
    if isinstance(collection, dict):
        return list(collection.get("$values") or [])
    return list(collection)


def unwrap(value):
    """`{"$type": "System.Int32", "$value": 13}` -> 13; a bare value is returned as it is."""
    if isinstance(value, dict) and "$value" in value:
        return value["$value"]
    return value


def as_bool(value) -> bool:
    """A checkbox value, wrapped (`{"$type": "System.Boolean", "$value": true}`) or bare (`true`, "True");
    a missing value (NULL bit) reads as unchecked."""
    value = unwrap(value)
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1")
    return bool(value)


def wrap_bool(value: bool) -> dict:
    return {"$type": BOOLEAN_TYPE, "$value": bool(value)}


def properties(entity: dict) -> dict:
    """{Name: unwrapped Value} of a GenericEntityData."""
    return {item.get("Name"): unwrap(item.get("Value")) for item in values((entity or {}).get("Properties"))}


def property_item(name, value) -> dict:
    return {"$type": PROPERTY_TYPE, "Name": name, "Value": value}


def identity(entity_type: str, *elements: str) -> dict:
    return {
        "$type": IDENTITY_TYPE,
        "EntityTypeName": entity_type,
        "IdentityElements": {"$type": STRINGS_TYPE, "$values": list(elements)},
    }


def generic_entity(entity_type: str, imis_id: str | None, items: list[dict], *, keyed=True) -> dict:
    """A GenericEntityData with a Party parent; `keyed` gives it its own identity (a single-instance row)."""
    entity = {"$type": ENTITY_TYPE, "EntityTypeName": entity_type, "PrimaryParentEntityTypeName": "Party"}
    if imis_id is not None:
        if keyed:
            entity["Identity"] = identity(entity_type, imis_id)
        entity["PrimaryParentIdentity"] = identity("Party", imis_id)
    entity["Properties"] = {"$type": PROPERTIES_TYPE, "$values": items}
    return entity


def set_property(entity: dict, name: str, value) -> dict:
    """The entity with property `name` set to `value` (added when absent); the other properties untouched.
    Names match whatever their case, as properties are read (an interest discovered over SQL may spell
    its field otherwise than the business object)."""
    items = values(entity.get("Properties"))
    for item in items:
        if str(item.get("Name", "")).lower() == name.lower():
            item["Value"] = value
            break
    else:
        items.append(property_item(name, value))
    entity["Properties"] = {"$type": PROPERTIES_TYPE, "$values": items}
    return entity


def paged_result(items: list, offset: int, limit: int, total: int) -> dict:
    has_next = offset + len(items) < total
    return {
        "$type": PAGED_TYPE,
        "Items": {"$type": "System.Collections.Generic.List`1[[System.Object, mscorlib]], mscorlib", "$values": items},
        "Offset": offset,
        "Limit": limit,
        "Count": len(items),
        "TotalCount": total,
        "NextPageLink": None,
        "HasNext": has_next,
        "NextOffset": offset + len(items) if has_next else 0,
    }


def error_message(body, fallback: str) -> str:
    """iMIS's own plain message: `Errors.$values[0].Message` (validation) or `Message` (HttpError)."""
    if isinstance(body, dict):
        errors = values(body.get("Errors"))
        if errors and isinstance(errors[0], dict) and errors[0].get("Message"):
            return str(errors[0]["Message"])[:500]
        for key in ("Message", "error_description", "error"):
            if body.get(key):
                return str(body[key])[:500]
    return fallback[:500]
