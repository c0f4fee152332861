"""The REST implementation of the gateway's reads (roster, checkbox values), with the SQL
gateway's signatures and return types. `using` is accepted for that and ignored: the site is
IMIS_API_URL. Names that only a real site can confirm ([I] in the design notes) are settings
(IMIS_API_CONTACT_PROPERTIES, IMIS_API_ORDER_BY) with these defaults, and a site that lacks one gets an
error that names the setting and what the site sent."""

from __future__ import annotations

import threading
from collections.abc import Iterator

from django.conf import settings

from ..errors import ImisRefused
from ..identifiers import is_valid_identifier
from ..types import Member, UdRow
from . import shapes
from .client import RestClient

# Member field -> CsContact property, unless IMIS_API_CONTACT_PROPERTIES says otherwise.
DEFAULT_CONTACT_PROPERTIES = {
    "imis_id": "ID",
    "email": "Email",
    "first_name": "FirstName",
    "last_name": "LastName",
    "full_name": "FullName",
    "status": "Status",
    "is_company": "IsCompany",
    "exclude_mail": "ExcludeMail",
}
BOOLEAN_MEMBER_FIELDS = {"is_company", "exclude_mail"}
# Read only when IMIS_API_CONTACT_PROPERTIES names their property: iMIS keeps no such thing by default.
OPTIONAL_MEMBER_FIELDS = {"language"}

_clients: dict[tuple, RestClient] = {}
_clients_lock = threading.Lock()


def shared_client() -> RestClient:
    """One client (one connection pool) per process and site."""
    key = (settings.IMIS_API_URL, settings.IMIS_API_USER)
    with _clients_lock:
        if key not in _clients:
            _clients[key] = RestClient.from_settings()
        return _clients[key]


def contact_properties() -> dict[str, str]:
    """Member field -> CsContact property: IMIS_API_CONTACT_PROPERTIES over the defaults."""
    configured = dict(settings.IMIS_API_CONTACT_PROPERTIES)
    unknown = sorted(set(configured) - set(DEFAULT_CONTACT_PROPERTIES) - OPTIONAL_MEMBER_FIELDS)
    if unknown:
        raise ImisRefused(
            f"IMIS_API_CONTACT_PROPERTIES names {unknown[0]!r}, which is no member field "
            f"(the fields: {', '.join([*DEFAULT_CONTACT_PROPERTIES, *sorted(OPTIONAL_MEMBER_FIELDS)])})"
        )
    return {**DEFAULT_CONTACT_PROPERTIES, **configured}


def close_clients():
    """Close and forget every shared client (a test's site is gone; a process winds down)."""
    with _clients_lock:
        clients = list(_clients.values())
        _clients.clear()
    for client in clients:
        client.close()


def _member(props: dict, names: dict[str, str]) -> Member:
    missing = [f"{field}={prop}" for field, prop in names.items() if prop not in props]
    if missing:
        raise ImisRefused(
            f"CsContact rows have no property {', '.join(missing)} (IMIS_API_CONTACT_PROPERTIES); this site's "
            f"rows carry {', '.join(sorted(map(str, props)))}: name them in IMIS_API_CONTACT_PROPERTIES"
        )
    values = {}
    for field, prop in names.items():
        value = props[prop]
        values[field] = shapes.as_bool(value) if field in BOOLEAN_MEMBER_FIELDS else str(value or "").strip()
    return Member(**values)


def ordered_pages(client: RestClient, path: str, page_size: int) -> Iterator[list]:
    """The pages of `path` in the stable order IMIS_API_ORDER_BY names (offset paging without one may skip
    or repeat rows that change meanwhile); a site that refuses it gets an error that says so."""
    order = settings.IMIS_API_ORDER_BY
    try:
        yield from client.iter_pages(path, {"OrderBy": order} if order else None, page_size=page_size)
    except ImisRefused as exc:
        if not order:
            raise
        raise ImisRefused(
            f"{exc} (paged in the order IMIS_API_ORDER_BY={order!r}: name a property this site sorts {path} "
            "by, or leave it empty)"
        ) from exc


def iter_roster(using=None, chunk_size=None, *, client: RestClient | None = None) -> Iterator[list[Member]]:
    """Every contact, a page (at most 500) at a time, in the order IMIS_API_ORDER_BY names."""
    client = client or shared_client()
    names = contact_properties()
    page_size = min(chunk_size or settings.IMIS_CHUNK_SIZE, shapes.MAX_PAGE_SIZE)
    for page in ordered_pages(client, "api/CsContact", page_size):
        yield [_member(shapes.properties(item), names) for item in page]


def iter_checkbox_values(
    table, fields, using=None, chunk_size=None, *, client: RestClient | None = None
) -> Iterator[list[UdRow]]:
    """The values of `fields` of source `table` for every member who has a row; a missing or null value
    reads as unchecked, as a NULL bit does on the SQL path."""
    client = client or shared_client()
    fields = list(fields)
    if not is_valid_identifier(table):
        raise ImisRefused(f"{table!r} is not a valid business object name")
    page_size = min(chunk_size or settings.IMIS_CHUNK_SIZE, shapes.MAX_PAGE_SIZE)
    for page in ordered_pages(client, f"api/{table}", page_size):
        rows = []
        for item in page:
            props = shapes.properties(item)
            rows.append(UdRow(str(props.get("ID", "")).strip(), tuple(shapes.as_bool(props.get(f)) for f in fields)))
        yield rows
