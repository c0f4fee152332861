"""One gateway interface, two implementations: both conform to it, the settings pick one, and nothing
outside preference_center.imis knows which one runs."""

import inspect

import pytest
from django.test import override_settings

from preference_center import imis
from preference_center.imis import gateway as sql_gateway
from preference_center.imis.interface import Gateway
from preference_center.imis.rest import gateway as rest_gateway
from tests.test_layout import import_graph

OPERATIONS = [name for name in vars(Gateway) if not name.startswith("_") and callable(getattr(Gateway, name))]


def test_the_interface_lists_what_the_sync_asks_of_imis():
    assert sorted(OPERATIONS) == [
        "discover_checkbox_fields",
        "health_check",
        "iter_checkbox_values",
        "iter_roster",
        "ping",
        "write_changes",
        "written_activities",
    ]


@pytest.mark.parametrize("implementation", [sql_gateway, rest_gateway], ids=["sql", "rest"])
def test_each_implementation_conforms_to_it(implementation):
    assert isinstance(implementation, Gateway)
    for name in OPERATIONS:
        wanted = list(inspect.signature(getattr(Gateway, name)).parameters.values())[1:]  # without self
        given = inspect.signature(getattr(implementation, name)).parameters
        for parameter in wanted:
            assert parameter.name in given, f"{implementation.__name__}.{name} lacks {parameter.name}"
            assert (given[parameter.name].kind, given[parameter.name].default) == (
                parameter.kind,
                parameter.default,
            ), f"{implementation.__name__}.{name}({parameter.name})"
        extra = [p for p in given.values() if p.name not in {w.name for w in wanted}]
        assert all(p.default is not inspect.Parameter.empty for p in extra), f"{name}: a required extra"


def test_the_settings_pick_the_implementation():
    with override_settings(IMIS_API_URL=""):
        assert imis._implementation() is sql_gateway
    with override_settings(IMIS_API_URL="https://imis.example.org/"):
        assert imis._implementation() is rest_gateway


def test_nothing_outside_the_gateway_imports_an_implementation():
    package = "preference_center.imis"
    public = {package, f"{package}.types", f"{package}.errors", f"{package}.identifiers", f"{package}.missing_rows"}
    sandboxes = {
        "preference_center.management.commands.imis_sandbox": {f"{package}.sandbox"},
        "preference_center.management.commands.imis_rest_sandbox": {f"{package}.rest.sandbox_server"},
    }
    knowing = {
        (module, other)
        for module, imported in import_graph().items()
        if not module.startswith(package + ".") and module != package
        for other in imported
        if other.startswith(package + ".") and other not in public | sandboxes.get(module, set())
    }
    assert knowing == set()
