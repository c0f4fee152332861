"""The REST gateway (`interface.Gateway` over the iMIS REST API, IMIS_API_URL): the SQL gateway's functions
with the same signatures and results."""

from .discovery import discover_checkbox_fields
from .health import health_check, ping
from .reads import iter_checkbox_values, iter_roster
from .writes import write_changes, written_activities

__all__ = [
    "discover_checkbox_fields",
    "health_check",
    "iter_checkbox_values",
    "iter_roster",
    "ping",
    "write_changes",
    "written_activities",
]
