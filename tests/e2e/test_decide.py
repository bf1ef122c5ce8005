"""`firmly decide`: a process that only decides what servers acknowledged, on SQLite and PostgreSQL; and a
server told to leave deciding to it (`FIRMLY_SERVE_DECIDES=0`) decides nothing in the background."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from firmly import bootstrap
from firmly.domain.errors import FirmlyError
from firmly.doors.api import create_app
from firmly.doors.cli import app as firmly_cli
from firmly.service import settle
from tests.conftest import database_of_its_own
from tests.e2e.test_api import late_cancellations
from tests.e2e.test_api_async import ASYNC, _pending, _workspace


def _acknowledge(url: str, tokens: dict[str, str], n: int) -> None:
    """`n` clients' late cancellations posted with `Prefer: respond-async` to a server that does not decide, 1,000
    events a post (a post's events are decided together, in one transaction)."""
    with TestClient(create_app(url, rate=0)) as client:
        for name, token in tokens.items():
            events = [ev for k in range(n) for ev in late_cancellations(f"{name}-{k}", 3)]
            for i in range(0, len(events), 1_000):
                answer = client.post("/v1/events", json=events[i:i + 1_000],
                                     headers={**ASYNC, "Authorization": f"Bearer {token}"})
                assert answer.status_code == 202, answer.text


def test_decide_once_decides_what_waits_in_every_workspace_and_says_so(
        database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with database_of_its_own(database_url, "firmly_decide") as url:  # other tests' workspaces may have events waiting
        _decide_once(url, monkeypatch)


def _decide_once(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIRMLY_SERVE_DECIDES", "0")
    tag = uuid.uuid4().hex[:8]
    names = [f"dec-a-{tag}", f"dec-b-{tag}"]
    _acknowledge(database_url, {name: _workspace(database_url, name)[1] for name in names}, 400)
    time.sleep(0.5)  # a server that decided in the background would have begun by now
    assert [_pending(database_url, name) for name in names] == [(2_800, 2_800)] * 2
    lister = bootstrap.store(database_url, "", settled=False)
    with lister.read():
        assert set(names) <= set(lister.waiting_workspaces())
    shown = CliRunner().invoke(firmly_cli, ["decide", "--once", "--lang", "en", "--db", database_url],
                               catch_exceptions=False)
    assert shown.exit_code == 0, shown.output
    assert "events decided: 5600" in shown.output.replace(",", "").replace("\u202f", "").replace("\xa0", "")
    assert [_pending(database_url, name) for name in names] == [(2_800, 0)] * 2
    with lister.read():
        assert not set(names) & set(lister.waiting_workspaces())
    again = CliRunner().invoke(firmly_cli, ["decide", "--once", "--lang", "ru", "--db", database_url],
                               catch_exceptions=False)
    assert again.exit_code == 0 and "решено событий: 0" in again.output


def test_decide_all_stops_between_chunks_when_told(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIRMLY_SERVE_DECIDES", "0")
    tag = uuid.uuid4().hex[:8]
    name = f"dec-stop-{tag}"
    _acknowledge(database_url, {name: _workspace(database_url, name)[1]}, 1_000)  # 7,000 events, 7 posts: four chunks
    calls = []

    def stopping() -> bool:
        calls.append(1)
        return len(calls) > 2  # the round starts, takes one chunk, then is told to stop

    done, seen = settle.decide_all(lambda ws: bootstrap.store(database_url, ws or None, settled=False), stopping)
    assert (done, seen) == (settle.CHUNK, 1)
    assert _pending(database_url, name) == (7_000, 7_000 - settle.CHUNK)


def test_serve_decides_takes_only_yes_or_no(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIRMLY_SERVE_DECIDES", "0")
    assert not bootstrap.serve_decides()
    monkeypatch.delenv("FIRMLY_SERVE_DECIDES")
    assert bootstrap.serve_decides()
    monkeypatch.setenv("FIRMLY_SERVE_DECIDES", "maybe")
    with pytest.raises(FirmlyError, match="FIRMLY_SERVE_DECIDES"):
        bootstrap.serve_decides()


def test_a_decider_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'firmly.db'}"
    _workspace(url, "stopping")
    env = {**os.environ, "FIRMLY_DATABASE_URL": url}
    process = subprocess.Popen([sys.executable, "-m", "firmly", "decide", "--interval", "0.05"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(3)  # started, and looking every 0.05 s: nothing waits
        assert process.poll() is None
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
