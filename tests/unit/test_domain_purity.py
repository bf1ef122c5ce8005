"""The core is pure (ARCHITECTURE.md "Layers"): no module under firmly/domain imports an I/O module,
reads the wall clock or imports anything from the outer layers. Checked with `ast`, not by hope."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import firmly.domain

DOMAIN = Path(firmly.domain.__file__).resolve().parent
PACKAGE_ROOT = DOMAIN.parent.parent  # the directory that holds the `firmly` package

IO_MODULES = frozenset({
    "sqlalchemy", "alembic", "sqlite3", "psycopg", "psycopg2", "asyncpg", "socket", "socketserver", "ssl",
    "http", "urllib", "urllib3", "requests", "httpx", "aiohttp", "smtplib", "aiosmtplib", "ftplib", "subprocess",
    "os", "pathlib", "io", "shutil", "tempfile", "glob", "fcntl", "select", "selectors", "asyncio",
    "multiprocessing",
})
CLOCK_MODULES = frozenset({"time"})
CLOCK_CALLS = frozenset({"now", "today", "utcnow"})  # datetime.now(), date.today(): the engine gets its clock
OUTER_LAYERS = ("firmly.adapters", "firmly.service", "firmly.doors", "firmly.bootstrap", "firmly.config")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(tree: ast.AST, module: str, is_package: bool) -> list[tuple[int, str]]:
    """Every module a source imports (absolute names), with its line; `from a import b` gives a.b too."""
    found: list[tuple[int, str]] = []
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names if alias.name != "*"]
        elif isinstance(node, ast.Call) and (name := _dynamic_import(node)) is not None:
            found.append((node.lineno, name))
    return found


def _dynamic_import(call: ast.Call) -> str | None:
    """The module of `__import__("x")` or `importlib.import_module("x")` with a literal name."""
    named = isinstance(call.func, ast.Name) and call.func.id == "__import__"
    attribute = isinstance(call.func, ast.Attribute) and call.func.attr == "import_module"
    if (named or attribute) and call.args and isinstance(call.args[0], ast.Constant):
        return str(call.args[0].value)
    return None


def impurities(source: str, module: str, is_package: bool = False) -> list[str]:
    tree = ast.parse(source)
    problems = []
    for line, name in imported(tree, module, is_package):
        top = name.split(".")[0]
        if top in IO_MODULES:
            problems.append(f"{module}:{line} imports the I/O module {name}")
        if top in CLOCK_MODULES:
            problems.append(f"{module}:{line} imports the clock module {name}")
        if any(name == layer or name.startswith(layer + ".") for layer in OUTER_LAYERS):
            problems.append(f"{module}:{line} imports {name} from an outer layer")
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in CLOCK_CALLS):
            problems.append(f"{module}:{node.lineno} reads the wall clock ({node.func.attr}())")
    return problems


DOMAIN_FILES = sorted(DOMAIN.rglob("*.py"))


def test_the_domain_has_modules_to_check() -> None:
    names = {module_name(p) for p in DOMAIN_FILES}
    assert {"firmly.domain.rulebook", "firmly.domain.events", "firmly.domain.engine.fold"} <= names


@pytest.mark.parametrize("path", DOMAIN_FILES, ids=lambda p: str(p.relative_to(DOMAIN)))
def test_a_domain_module_imports_no_io_no_clock_and_no_outer_layer(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    assert impurities(source, module_name(path), path.name == "__init__.py") == []


@pytest.mark.parametrize(("source", "expected"), [
    ("import os", "I/O module os"),
    ("import os.path as p", "I/O module os.path"),
    ("from pathlib import Path", "I/O module pathlib"),
    ("from sqlalchemy.engine import create_engine", "I/O module sqlalchemy.engine"),
    ("import http.client", "I/O module http.client"),
    ("from firmly.service import ingest", "firmly.service from an outer layer"),
    ("from firmly import adapters", "firmly.adapters from an outer layer"),
    ("from ...doors import cli", "firmly.doors from an outer layer"),
    ("from ... import service", "firmly.service from an outer layer"),
    ("def f():\n    import subprocess", "I/O module subprocess"),
    ("__import__('socket')", "I/O module socket"),
    ("import importlib\nimportlib.import_module('sqlite3')", "I/O module sqlite3"),
    ("import time", "clock module time"),
    ("from datetime import datetime\nx = datetime.now()", "reads the wall clock (now())"),
    ("import datetime\nx = datetime.date.today()", "reads the wall clock (today())"),
])
def test_the_check_catches_impure_imports(source: str, expected: str) -> None:
    found = impurities(source, "firmly.domain.engine.fold")
    assert any(expected in problem for problem in found), found


@pytest.mark.parametrize("source", [
    "import hashlib", "from decimal import Decimal", "from firmly.domain.clock import iso", "from . import state",
    "from ..events import Event", "import zen", "import yaml", "import msgspec",
])
def test_the_check_lets_pure_imports_pass(source: str) -> None:
    assert impurities(source, "firmly.domain.engine.fold") == []
