"""The house's size rules: no module over 400 lines, no function or method over 60, outside migrations and
tests. bench/ is project code and counts."""

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
NOT_PROJECT_CODE = {".venv", ".git", "tests", "migrations", "var", "staticfiles", "node_modules"}


def project_modules():
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if not NOT_PROJECT_CODE.intersection(relative.parts):
            yield relative.as_posix(), path.read_text()


def oversized():
    """["path: N lines", "path:function: N lines", ...] of what breaks the rules."""
    found = []
    for name, source in project_modules():
        lines = len(source.splitlines())
        if lines > MAX_MODULE_LINES:
            found.append(f"{name}: {lines} lines")
        for node in ast.walk(ast.parse(source, name)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    found.append(f"{name}:{node.name}: {length} lines")
    return found


def test_it_sees_the_modules_it_must_judge():
    names = {name for name, _ in project_modules()}
    assert {"sync/services/push.py", "bench/page.py", "preference_center/settings.py"} <= names
    assert not any(name.startswith(("tests/", ".venv/")) or "/migrations/" in name for name in names)


def test_it_finds_no_module_over_400_lines_and_no_function_over_60():
    found = oversized()
    assert not found, "split these:\n" + "\n".join(found)
