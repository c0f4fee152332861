"""`health_check` over REST: the site answers, the service user logs in, the offered sources have a
business object, Activity can be read, and the user may write the offered sources and Activity.

Write rights are asked of iMIS's dry run, `POST /api/{entity}/_validate`, with the bodies the push would
send (the source's first row as it is, an Activity of ours for that member): nothing is written. A site
without `_validate` (404 or 405) leaves the rights unchecked, and the health says so rather than guess."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from ..errors import ImisError, ImisRefused
from ..types import Health, ValueChange
from . import shapes
from .client import RestClient
from .reads import shared_client
from .writes import activity_entity, activity_filter

VENDOR = "imis-rest"
# Answers of a dry run that say something about our rights or our bodies, rather than raise.
DRY_RUN_ANSWERS = (400, 401, 403, 404, 405)


def _business_objects(client: RestClient) -> dict[str, str]:
    """{lower-cased EntityTypeName: spelling} of the site's business objects."""
    return {
        str(d.get("EntityTypeName", "")).lower(): str(d.get("EntityTypeName", ""))
        for page in client.iter_pages("api/BOEntityDefinition")
        for d in page
    }


def _first_item(client: RestClient, path: str) -> dict | None:
    page = client.get_json(path, {"limit": 1})
    items = shapes.values((page or {}).get("Items"))
    return items[0] if items else None


def _sample_activity(imis_id: str) -> dict:
    probe = ValueChange("health-check", imis_id, "Activity", "HEALTH", True, "HEALTH", "imis_health dry run")
    return activity_entity(probe)


def _dry_run(client: RestClient, entity: str, body: dict, health: Health, may_write: list[str]):
    response = client.request("POST", f"api/{entity}/_validate", json=body, accept=DRY_RUN_ANSWERS)
    status = response.status_code
    try:
        answer = response.json()
    except ValueError:
        answer = None
    message = shapes.error_message(answer, response.reason_phrase)
    if status in (401, 403):
        health.problems.append(f"cannot write {entity}: iMIS answered {status}: {message}")
    elif status in (404, 405):
        health.notes.append(f"write rights on {entity} not checked: this site has no _validate ({status})")
    elif status == 400 or (isinstance(answer, dict) and answer.get("IsValid") is False):
        health.problems.append(f"iMIS would refuse our {entity} rows: {message}")
    else:
        may_write.append(entity)


def _check_rights(client: RestClient, health: Health, sources: list[str]):
    contact = _first_item(client, "api/CsContact")
    imis_id = str(shapes.properties(contact).get("ID", "")) if contact else ""
    try:
        _first_item(client, "api/Activity")
        unknown = str(uuid.uuid4())
        answer = client.get_json("api/Activity", activity_filter(imis_id, unknown)) if imis_id else None
        if shapes.values((answer or {}).get("Items")):
            health.problems.append(
                "iMIS ignores the PartyId / SOURCE_CODE filter on Activity: a change tried again cannot be told "
                "written or not"
            )
    except ImisRefused as exc:
        health.problems.append(f"cannot read Activity: {exc}")
    may_write: list[str] = []
    for source in sources:
        row = _first_item(client, f"api/{source}")
        body = row or shapes.generic_entity(source, imis_id, [shapes.property_item("ID", imis_id)])
        _dry_run(client, source, body, health, may_write)
    if imis_id:
        _dry_run(client, "Activity", _sample_activity(imis_id), health, may_write)
    else:
        health.notes.append("write rights on Activity not checked: the site lists no contact")
    if may_write:
        health.notes.append(f"may write {', '.join(may_write)}: the dry run accepted our rows")


def health_check(using=None, ud_tables: Iterable[str] = (), *, client: RestClient | None = None) -> Health:
    health = Health(reachable=False, vendor=VENDOR)
    try:
        client = client or shared_client()
        objects = _business_objects(client)
    except ImisError as exc:
        health.error = str(exc)
        return health
    health.reachable = True
    wanted = sorted(set(ud_tables))
    health.missing_tables = [t for t in wanted if t.lower() not in objects]
    try:
        _check_rights(client, health, [objects[t.lower()] for t in wanted if t.lower() in objects])
    except ImisError as exc:
        health.problems.append(f"the check stopped: {exc}")
    return health


def ping(using=None, *, client: RestClient | None = None) -> None:
    """Does the site answer us? One page of one contact, with the shared token (a login only when it has
    none); ImisUnavailable or ImisRefused when it does not."""
    client = client or shared_client()
    _first_item(client, "api/CsContact")
