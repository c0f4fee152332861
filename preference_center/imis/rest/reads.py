"""The REST implementation of the gateway's reads (roster, checkbox values), with the SQL
gateway's signatures and return types. `using` is accepted for that and ignored: the site is
IMIS_API_URL. Property names that only a real site can confirm ([I] in the design notes) are constants
here, and a site that lacks one gets an error that names what was expected."""

from __future__ import annotations

import threading
from collections.abc import Iterator

from django.conf import settings

from ..errors import ImisRefused
from ..identifiers import is_valid_identifier
from ..types import Member, UdRow
from . import shapes
from .client import RestClient

# CsContact property -> Member field.
CONTACT_PROPERTIES = {
    "ID": "imis_id",
    "Email": "email",
    "FirstName": "first_name",
    "LastName": "last_name",
    "FullName": "full_name",
    "Status": "status",
    "IsCompany": "is_company",
    "ExcludeMail": "exclude_mail",
}
BOOLEAN_MEMBER_FIELDS = {"is_company", "exclude_mail"}

_clients: dict[tuple, RestClient] = {}
_clients_lock = threading.Lock()


def rest_configured() -> bool:
    return bool(getattr(settings, "IMIS_API_URL", ""))


def shared_client() -> RestClient:
    """One client (one connection pool) per process and site."""
    key = (settings.IMIS_API_URL, settings.IMIS_API_USER)
    with _clients_lock:
        if key not in _clients:
            _clients[key] = RestClient.from_settings()
        return _clients[key]


def _member(props: dict) -> Member:
    missing = [name for name in CONTACT_PROPERTIES if name not in props]
    if missing:
        raise ImisRefused(
            f"CsContact rows have no {', '.join(missing)} (expected {', '.join(CONTACT_PROPERTIES)}): "
            "check /api/metadata/CsContact on this site"
        )
    values = {}
    for prop, field in CONTACT_PROPERTIES.items():
        value = props[prop]
        values[field] = shapes.as_bool(value) if field in BOOLEAN_MEMBER_FIELDS else str(value or "").strip()
    return Member(**values)


def iter_roster(using=None, chunk_size=None, *, client: RestClient | None = None) -> Iterator[list[Member]]:
    """Every contact, a page (at most 500) at a time, in the order iMIS pages them."""
    client = client or shared_client()
    page_size = min(chunk_size or settings.IMIS_CHUNK_SIZE, shapes.MAX_PAGE_SIZE)
    for page in client.iter_pages("api/CsContact", page_size=page_size):
        yield [_member(shapes.properties(item)) for item in page]


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
    for page in client.iter_pages(f"api/{table}", page_size=page_size):
        rows = []
        for item in page:
            props = shapes.properties(item)
            rows.append(UdRow(str(props.get("ID", "")).strip(), tuple(shapes.as_bool(props.get(f)) for f in fields)))
        yield rows
