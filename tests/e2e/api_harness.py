"""The HTTP API under test: a real uvicorn server on a free loopback port, in a background thread.

`prepare` makes two workspaces in one database with tokens of every role in each:
A holds the clinic-en example (rulebook and events) plus two copies of Tom's story ("tom-2",
"tom-3"), so three suspensions wait for review; B has the same rulebook and no events.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from firmly import bootstrap
from firmly.domain.events import validate
from firmly.doors.api import create_app
from firmly.doors.web import testing
from firmly.service import ingest, rulebooks, tokens, workspace

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "src" / "firmly" / "examples"
CLINIC = EXAMPLES / "clinic-en"
ROLES = tokens.ROLES  # admin, operator, viewer, ingest
TOM_COPIES = ("tom-2", "tom-3")
METRICS_TOKEN = "scrape-" + uuid.uuid4().hex  # the installation's FIRMLY_METRICS_TOKEN on the test server


def read_events(path: Path) -> list[dict[str, Any]]:
    """The JSON objects of a .jsonl file; lines that are not JSON are left out (they are refused either way)."""
    out: list[dict[str, Any]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError:
            continue
        out.append(value)
    return out


def copies_of_tom(key: str) -> list[dict[str, Any]]:
    """Tom's five late cancellations (and his upsert) for another counterparty, with ids of its own."""
    out = []
    for ev in read_events(CLINIC / "events.jsonl"):
        if ev["counterparty"] != "tom":
            continue
        data = dict(ev["data"])
        if "appointment" in data:
            data["appointment"] = f"{key}-{data['appointment']}"
        if ev["type"] == "counterparty.upserted":
            data["name"] = f"Tom Copy {key}"
        out.append({**ev, "id": f"{key}-{ev['id']}", "counterparty": key, "data": data})
    return out


class Printable(logging.Filter):
    """Escapes what cannot be written as UTF-8 (a lone surrogate a client sent, echoed in an exception) in
    the server's log records, so that the captured log of a failing test can be reported (pytest-xdist
    sends reports as UTF-8 and stops a worker that has such a character)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = _printable(record.exc_text)
        record.msg, record.args = _printable(record.getMessage()), None
        return True


def _printable(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _escape_server_logs() -> None:
    for name in ("firmly.api", "uvicorn.error"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, Printable) for f in logger.filters):
            logger.addFilter(Printable())


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Run `app` on 127.0.0.1 on a port the kernel picks; yields the base URL, stops the server after."""
    _escape_server_logs()
    with testing.serve("", app) as base:
        yield base


@dataclass
class Api:
    """A running server over a prepared database, with a token for every (workspace, role)."""

    base: str
    database_url: str
    a: str
    b: str
    tokens: dict[tuple[str, str], str]
    token_ids: dict[tuple[str, str], str]
    _clients: list[httpx.Client] = field(default_factory=list)

    def client(self, ws: str | None = None, role: str = "admin") -> httpx.Client:
        """An HTTP client (keep-alive) that sends the token of `role` in workspace `ws` (default A)."""
        token = self.tokens[ws or self.a, role]
        c = httpx.Client(base_url=self.base, headers={"Authorization": f"Bearer {token}"}, timeout=30)
        self._clients.append(c)
        return c

    def anonymous(self) -> httpx.Client:
        c = httpx.Client(base_url=self.base, timeout=30)
        self._clients.append(c)
        return c

    def close(self) -> None:
        for c in self._clients:
            c.close()


def prepare(database_url: str) -> tuple[str, str, dict[tuple[str, str], str], dict[tuple[str, str], str]]:
    """Workspaces A (clinic data, three proposals) and B (rulebook only) with a token per role in each."""
    tag = uuid.uuid4().hex[:8]
    a, b = f"api-a-{tag}", f"api-b-{tag}"
    issued: dict[tuple[str, str], str] = {}
    ids: dict[tuple[str, str], str] = {}
    book = rulebooks.read(CLINIC / "rulebook.yaml")
    for ws in (a, b):
        store = bootstrap.store(database_url, ws)
        workspace.init(store, "en", "Europe/London", 0)
        rulebooks.load(store, book, 0)
        for role in ROLES:
            token = tokens.create(store, role, f"{role}-of-{ws}", 0)
            issued[ws, role] = token.token
            ids[ws, role] = token.row.id
    events = read_events(CLINIC / "events.jsonl") + [ev for key in TOM_COPIES for ev in copies_of_tom(key)]
    parsed: list[ingest.Parsed] = [("setup", n, validate(ev)) for n, ev in enumerate(events)]
    report = ingest.ingest(bootstrap.store(database_url, a), parsed)
    assert not report.rejected, report.rejected
    return a, b, issued, ids


@contextmanager
def running(database_url: str, rate: float | None = None) -> Iterator[Api]:
    a, b, issued, ids = prepare(database_url)
    with serve(create_app(database_url, rate, metrics_token=METRICS_TOKEN)) as base:
        api = Api(base, database_url, a, b, issued, ids)
        try:
            yield api
        finally:
            api.close()
