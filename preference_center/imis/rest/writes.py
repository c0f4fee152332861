"""The REST implementation of the gateway's writes, with the SQL gateway's signatures: per change, GET the
source row, PUT it back with the one property changed, then POST the Activity: three requests. The API has
no transaction and no optimistic concurrency: the GET comes right before its PUT. A change tried before
(`ValueChange.tried_before`) is first looked up by its Activity SOURCE_CODE (the change UUID), so that a
retry never writes a second Activity row; a fresh change spares that request."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings

from ..activity import activity_values
from ..batch import checked_batch
from ..errors import ImisError, ImisRefused
from ..identifiers import checked
from ..types import ALREADY_WRITTEN, CREATED_ROW, NO_UD_ROW, WRITTEN, ValueChange, WriteOutcome
from . import shapes
from .client import RestClient
from .reads import shared_client


def _seqn(entity) -> int | None:
    value = shapes.properties(entity).get("SEQN")
    return int(value) if value not in (None, "") else None


def activity_filter(imis_id: str, change_id: str) -> dict:
    return {"PartyId": f"eq:{imis_id}", "SOURCE_CODE": f"eq:{change_id}", "limit": 1}


def _activity_of(client: RestClient, imis_id: str, change_id: str) -> dict | None:
    """The member's Activity row whose SOURCE_CODE is the change id, if iMIS holds one. A site that ignored
    the filter and answered another row would make a change look written: refused instead, plainly."""
    page = client.get_json("api/Activity", activity_filter(imis_id, change_id))
    items = shapes.values((page or {}).get("Items"))
    if not items:
        return None
    found = shapes.properties(items[0])
    party = str(found.get("PartyId") or found.get("ID") or imis_id).strip()
    if str(found.get("SOURCE_CODE") or "").strip() != change_id[:40] or party != imis_id:
        raise ImisRefused(
            "iMIS answered GET api/Activity?SOURCE_CODE=eq:... with another row (SOURCE_CODE "
            f"{found.get('SOURCE_CODE')!r}): it does not filter Activity by PartyId and SOURCE_CODE, so a change "
            "cannot be told written or not"
        )
    return items[0]


def written_activities(
    changes: Iterable[tuple[str, str]], using=None, *, client: RestClient | None = None
) -> dict[str, int]:
    """{change id: Activity SEQN} for the (iMIS ID, change id) pairs iMIS already holds an Activity row of."""
    client = client or shared_client()
    found = {}
    for imis_id, change_id in changes:
        activity = _activity_of(client, imis_id, change_id)
        if activity is not None:
            found[change_id] = _seqn(activity)
    return found


def activity_entity(change: ValueChange) -> dict:
    """The Activity row of a change, as the SQL path writes it."""
    values = activity_values(change)
    values["TRANSACTION_DATE"] = values["TRANSACTION_DATE"].isoformat(timespec="seconds")  # a plain string
    items = [shapes.property_item("PartyId", change.imis_id)]
    items += [shapes.property_item(name, value) for name, value in values.items()]
    return shapes.generic_entity("Activity", change.imis_id, items, keyed=False)


def _holds(row: dict, field: str, value: bool) -> bool:
    """Does the row already hold `value` in `field`? (An absent property or a null does not: the change
    writes the value, as the SQL path does, though a null reads as unchecked.)"""
    props = {name.lower(): v for name, v in shapes.properties(row).items() if isinstance(name, str)}
    held = props.get(field.lower())
    return held is not None and held != "" and shapes.as_bool(held) is bool(value)


def _write_value(client: RestClient, change: ValueChange, create_missing_rows: bool) -> str | None:
    """Put the value in the member's row: WRITTEN, CREATED_ROW, or None when the member has no row (and
    creating it is off). No PUT when the row holds the value already (a retry after the Activity failed)."""
    path = f"api/{checked(change.table_name)}/{change.imis_id}"
    row = client.get_json(path)
    if row is not None:
        if not _holds(row, change.field_name, change.value):
            body = shapes.set_property(row, change.field_name, shapes.wrap_bool(change.value))
            if client.request("PUT", path, json=body).status_code == 404:
                return None  # the row went between the GET and the PUT
        return WRITTEN
    if not create_missing_rows:
        return None
    items = [
        shapes.property_item("ID", change.imis_id),
        shapes.property_item(change.field_name, shapes.wrap_bool(change.value)),
    ]
    client.request(
        "POST", f"api/{change.table_name}", json=shapes.generic_entity(change.table_name, change.imis_id, items)
    )
    return CREATED_ROW


def _write_activity(client: RestClient, change: ValueChange) -> int | None:
    try:
        answer = client.request("POST", "api/Activity", json=activity_entity(change))
    except ImisError as exc:
        raise type(exc)(
            f"{change.table_name}.{change.field_name} was written, its Activity row not (written when the change "
            f"is tried again): {exc}"
        ) from exc
    try:
        return _seqn(answer.json())
    except ValueError as exc:
        raise ImisRefused("iMIS answered the Activity POST without an entity") from exc


def _write_one(client: RestClient, change: ValueChange, create_missing_rows: bool) -> WriteOutcome:
    """One change: its value, then its Activity row.

    With no transaction across the two, a PUT may succeed and the Activity POST fail (refused, a 5xx, the
    connection lost). Nothing is undone then: a compensating PUT could fail the same way, and would erase
    a value the member asked for. The retry converges instead: the push counts the change as tried
    (`tried_before`), so the retry first looks for its Activity row (the failed POST may have committed
    after all), finds none, GETs the row, sees the value already there and skips the PUT, and POSTs the
    Activity. A change iMIS keeps refusing ends failed with the message above, and staff "Retry" takes the
    same path once iMIS is fixed."""
    if change.tried_before:
        earlier = _activity_of(client, change.imis_id, change.change_id)
        if earlier is not None:
            return WriteOutcome(change.change_id, ALREADY_WRITTEN, _seqn(earlier))
    status = _write_value(client, change, create_missing_rows)
    if status is None:
        return WriteOutcome(change.change_id, NO_UD_ROW)
    return WriteOutcome(change.change_id, status, _write_activity(client, change))


def write_changes(
    changes: Iterable[ValueChange],
    using=None,
    *,
    create_missing_rows=None,
    name_log=None,
    client: RestClient | None = None,
):
    """A WriteOutcome per change, as the SQL gateway's. Not one transaction: each change is its own GET,
    PUT and POST; an error stops the batch, and the changes already written are found again by their
    Activity rows on the retry. `name_log` is not available over REST and ignored."""
    changes = checked_batch(changes)
    if create_missing_rows is None:
        create_missing_rows = settings.IMIS_CREATE_MISSING_UD_ROWS
    for c in changes:
        checked(c.table_name)
        checked(c.field_name)
    client = client or shared_client()
    return [_write_one(client, c, create_missing_rows) for c in changes]
