"""Every layer imports only what it may (ARCHITECTURE.md "Layers"), checked on the source with `ast`:
the domain imports no outer layer; the service no adapter, door or wiring; the doors no adapter and no
SQLAlchemy; the adapters no service or door; and only `bootstrap` wires adapters in."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from tests.unit.test_domain_purity import PACKAGE_ROOT, imported, module_name

FIRMLY = PACKAGE_ROOT / "firmly"

# layer (a package or module under firmly) -> the imports it must not have (module prefixes)
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "firmly.domain": ("firmly.service", "firmly.adapters", "firmly.doors", "firmly.bootstrap", "firmly.config"),
    "firmly.service": ("firmly.adapters", "firmly.doors", "firmly.bootstrap", "sqlalchemy", "alembic", "psycopg"),
    "firmly.doors": ("firmly.adapters", "sqlalchemy", "alembic", "psycopg", "sqlite3"),
    "firmly.adapters": ("firmly.service", "firmly.doors", "firmly.bootstrap"),
}
WIRING = "firmly.bootstrap"  # the one module outside firmly.adapters that may import them


def _sources() -> list[Path]:
    return sorted(p for p in FIRMLY.rglob("*.py") if "node_modules" not in p.parts)


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _breaches(module: str, source: str, where: str, is_package: bool = False) -> list[str]:
    found: list[str] = []
    for line, name in imported(ast.parse(source, where), module, is_package):
        for layer, banned in FORBIDDEN.items():
            if _within(module, layer) and any(_within(name, b) for b in banned):
                found.append(f"{where}:{line}: {layer} imports {name}")
        if _within(name, "firmly.adapters") and not _within(module, "firmly.adapters") and module != WIRING:
            found.append(f"{where}:{line}: only {WIRING} wires adapters, not {module}")
    return sorted(set(found))


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(FIRMLY)))
def test_each_module_imports_only_what_its_layer_may(path: Path) -> None:
    assert _breaches(module_name(path), path.read_text(encoding="utf-8"), str(path.relative_to(PACKAGE_ROOT)),
                     path.name == "__init__.py") == []


def test_the_check_catches_each_layer_reaching_past_its_ports() -> None:
    """The check itself can fail: relative and absolute imports, lazy ones inside functions too."""
    door = "from ...adapters.sql.store import SqlStore\nimport sqlalchemy.exc\n"
    assert len(_breaches("firmly.doors.api.probe", door, "probe.py")) == 4  # store, class, wiring, SQLAlchemy
    lazy = "def f():\n    from firmly.adapters import documents\n"
    assert _breaches("firmly.service.probe", lazy, "probe.py") == [
        "probe.py:2: firmly.service imports firmly.adapters",
        "probe.py:2: firmly.service imports firmly.adapters.documents",
        "probe.py:2: only firmly.bootstrap wires adapters, not firmly.service.probe"]
    assert _breaches("firmly.domain.probe", "import firmly.service.ingest\n", "probe.py") == [
        "probe.py:1: firmly.domain imports firmly.service.ingest"]
    assert _breaches("firmly.bootstrap", "from firmly.adapters import memory\n", "bootstrap.py") == []


MAX_LINES = 400
ON_PURPOSE = "Over 400 lines on purpose:"  # the module's docstring then says why it stays whole


def test_no_module_grows_past_400_lines_without_saying_why() -> None:
    """Small modules with names that explain themselves; the few that stay whole say why in their docstring."""
    long = {p: len(p.read_text(encoding="utf-8").splitlines()) for p in _sources()}
    unexplained = [f"{p.relative_to(FIRMLY)}: {n} lines" for p, n in long.items()
                   if n > MAX_LINES and ON_PURPOSE not in (ast.get_docstring(ast.parse(p.read_text("utf-8"))) or "")]
    assert unexplained == [], "split these modules, or say in the docstring why each stays whole"
