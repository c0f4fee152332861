"""`health_check` over REST: the site answers, the service user logs in, the offered sources have a
business object and Activity can be read."""

from __future__ import annotations

from collections.abc import Iterable

from ..errors import ImisError
from ..types import Health
from .client import RestClient
from .reads import shared_client

VENDOR = "imis-rest"


def health_check(using=None, ud_tables: Iterable[str] = (), *, client: RestClient | None = None) -> Health:
    try:
        client = client or shared_client()
        names = {
            str(d.get("EntityTypeName", "")).lower()
            for page in client.iter_pages("api/BOEntityDefinition")
            for d in page
        }
        missing = sorted(t for t in ud_tables if t.lower() not in names)
        denied = []
        try:
            client.get_json("api/Activity", {"limit": 1})
        except ImisError as exc:
            denied.append(f"Activity GET ({exc})")
    except ImisError as exc:
        return Health(reachable=False, vendor=VENDOR, error=str(exc))
    return Health(reachable=True, vendor=VENDOR, missing_tables=missing, missing_permissions=denied)
