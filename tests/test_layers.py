"""The areas of ``service`` stand in one order, written in its package docstring and the README:
an area imports only the areas below it (reaching up with an event, ``service/events.py``)."""
from __future__ import annotations

import ast
from pathlib import Path

import service

SERVICE = Path(service.__file__).parent
# Imported by every area, importing none: the ground the areas stand on.
FOUNDATION = {"config", "errors", "db", "database", "extensions", "events", "geo", "codes", "text", "i18n", "audit",
              "idempotency", "rates"}
# The areas, lowest first; areas on one level may not import each other.
ORDER = [{"program"}, {"accounts"}, {"recipients", "vendors"}, {"assignments"}, {"volunteers"}, {"deliveries"},
         {"tasks"}, {"complaints"}, {"targets"}, {"public"}, {"dashboard"}, {"scheduler"}, {"demo"}]
# The composition root: may import anything; nothing in the areas imports it.
COMPOSITION = {"__init__", "app", "models", "wiring"}
LEVEL = {area: n for n, areas in enumerate(ORDER) for area in areas}


def area_of(module: str) -> str:
    """``service.deliveries.scheduling`` -> ``deliveries``."""
    return module.split(".")[1] if module.count(".") >= 1 else module


def imports(path: Path) -> set[str]:
    """Every ``service.*`` module the file imports, wherever the import stands (in functions too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "service":
                found.update(f"service.{alias.name}" for alias in node.names)
            elif node.module.startswith("service."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("service."))
    return found


def test_the_order_is_written_down_as_the_test_reads_it():
    doc = service.__doc__
    for areas in ORDER:
        for area in areas:
            assert area in doc, f"service/__init__.py does not name the area {area}"


def test_every_area_imports_only_areas_below_it():
    known = FOUNDATION | COMPOSITION | set(LEVEL)
    against = []
    for path in sorted(SERVICE.rglob("*.py")):
        relative = path.relative_to(SERVICE)
        here = relative.parts[0].removesuffix(".py")
        assert here in known, f"{relative}: an area the order does not name"
        if here in COMPOSITION:
            continue
        for module in sorted(imports(path)):
            there = area_of(module)
            if there == here or there in FOUNDATION:
                continue
            if there in COMPOSITION:
                against.append(f"{relative} imports the composition root ({module})")
            elif here in FOUNDATION:
                against.append(f"{relative} (foundation) imports the area {there} ({module})")
            elif LEVEL[there] >= LEVEL[here]:
                against.append(f"{relative} ({here}) imports {module} ({there}), which is not below it")
    assert against == []


def test_the_actor_is_named_by_a_scope_only():
    """Who the audit trail says acted comes from one place: a ``Scope`` naming itself in the session
    (``Scope.act_in``); nothing else sets the session's actor."""
    setters = set()
    for path in SERVICE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "set_actor":
                setters.add(path.relative_to(SERVICE).as_posix())
    assert setters == {"accounts/scope.py"}
