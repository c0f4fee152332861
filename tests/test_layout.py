"""The house's layout: no import cycle between the project's modules, and each app depends one way.

Every `import` counts, at module level or inside a function. Tests, migrations and bench/ are not part of
the layout (they may import anything); settings may name a dotted path (LOGGING, ENGINE), which is no import.
"""

import ast
import graphlib
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
APPS = ("branding", "interests", "mailing", "ops", "preference_center", "subscribers", "sync")

# What an app must not import. `interests` is what is offered, `subscribers` the members, `sync` brings
# both in line with iMIS, `mailing` serves the mailing system: only the URLconf and `ops` (the monitoring
# of every app) reach into it.
FORBIDDEN = {
    # The brand knows nothing of members, interests or the sync: the member pages read it.
    "branding": {"interests", "subscribers", "sync", "mailing"},
    "interests": {"subscribers", "sync", "mailing"},
    "subscribers": {"sync", "mailing"},
    "sync": {"mailing"},
    "preference_center": {"mailing"},
}
# Infrastructure knows no app: not members, not interests, not the sync.
APPS_OF_THE_PROJECT = {"branding", "interests", "mailing", "ops", "subscribers", "sync"}
MAY_IMPORT_MAILING = {"preference_center.urls", "preference_center.settings"}


def _modules():
    """{dotted name: (path, is a package)} of the apps' own modules."""
    found = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if "migrations" in parts:
                continue
            is_package = parts[-1] == "__init__"
            found[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return found


def _imported_names(name, path, is_package, modules):
    package = name if is_package else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            for alias in node.names:  # `from package import module` imports that module
                yield f"{target}.{alias.name}" if f"{target}.{alias.name}" in modules else target


def _own(name, modules):
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def import_graph():
    """{module: the project's modules it imports}."""
    modules = _modules()
    return {
        name: {
            own
            for imported in _imported_names(name, path, is_package, modules)
            if (own := _own(imported, modules)) and own != name
        }
        for name, (path, is_package) in modules.items()
    }


def test_it_sees_the_imports_it_must_judge():
    graph = import_graph()
    assert "sync.outbox" in graph["sync.tasks"]  # at module level
    assert "sync.services.push" in graph["sync.admin.changes"]  # `from ..services import push`
    assert "subscribers.signals" in graph["sync.receivers"]
    assert "subscribers.checks" in graph["subscribers.apps"]  # inside a function


def test_it_finds_no_import_cycle():
    try:
        tuple(graphlib.TopologicalSorter(import_graph()).static_order())
    except graphlib.CycleError as exc:
        raise AssertionError(f"import cycle: {' -> '.join(exc.args[1])}") from None


def test_it_lets_each_app_depend_one_way():
    broken = set()
    for module, imported in import_graph().items():
        app = module.split(".")[0]
        for other in imported:
            other_app = other.split(".")[0]
            if other_app in FORBIDDEN.get(app, ()):
                broken.add((module, other))
            elif other_app == "mailing" and app not in ("mailing", "ops") and module not in MAY_IMPORT_MAILING:
                broken.add((module, other))
            elif module.startswith("preference_center.lib.") and other_app in APPS_OF_THE_PROJECT:
                broken.add((module, other))
    assert broken == set()  # the interests admin shows members and the sync through interests.admin.extensions


def test_it_lets_only_the_sync_and_discovery_call_the_imis_gateway():
    gateway = "preference_center.imis"
    callers = {
        module
        for module, imported in import_graph().items()
        if not module.startswith(gateway)
        # build or serve a test iMIS: not a call
        and module
        not in (
            "preference_center.management.commands.imis_sandbox",
            "preference_center.management.commands.imis_rest_sandbox",
        )
        and any(other == gateway or other.startswith(gateway + ".") for other in imported)
    }
    assert callers and {m for m in callers if m.split(".")[0] != "sync"} == {"interests.services.discovery"}
