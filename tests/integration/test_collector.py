"""The collector pause belongs to the bulk commands alone: the use cases a server runs (a what-if, an
ingest, a replay) leave it as they found it, while `firmly replay` pauses it for its own run only."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from firmly.adapters.memory import MemoryStore
from firmly.domain.engine import Engine
from firmly.domain.engine.parts import PartFold
from firmly.domain.rulebook import parse_rulebook
from firmly.doors.cli import app
from firmly.service import ingest, replay, rulebooks, simulate, workspace
from tests.contract.test_use_cases import EXAMPLE


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bool]]:
    """Whether the collector was on each time the engine folded history (whole, or this process's part of it)."""
    states: list[bool] = []

    def spy(real: Any) -> Any:
        def run(self: Any, *args: Any, **kwargs: Any) -> Any:
            states.append(gc.isenabled())
            return real(self, *args, **kwargs)
        return run

    monkeypatch.setattr(Engine, "run", spy(Engine.run))
    monkeypatch.setattr(PartFold, "run", spy(PartFold.run))
    assert gc.isenabled()
    yield states
    assert gc.isenabled()


def test_a_what_if_a_replay_and_an_ingest_in_a_server_leave_the_collector_on(seen: list[bool]) -> None:
    store = MemoryStore("gc")
    workspace.init(store, "en", "Europe/London", 0)
    book = parse_rulebook((EXAMPLE / "rulebook.yaml").read_text(), "rulebook.yaml")
    rulebooks.load(store, book, 0)
    report = ingest.ingest(store, ingest.parsed("t", [{"id": "e1", "type": "appointment.no_show",
                                                       "counterparty": "jo", "occurred_at": "2026-03-01T10:00:00Z",
                                                       "data": {"appointment": "a1"}}]))
    assert report.stored == 1
    simulate.simulate(store, book)
    replay.replay(store)
    assert seen and all(seen), seen


def test_the_replay_command_pauses_the_collector_for_its_run_only(seen: list[bool], tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'gc.db'}"
    runner = CliRunner()
    assert runner.invoke(app, ["init", "--db", url, "-w", "gc"]).exit_code == 0
    assert runner.invoke(app, ["rulebook", "load", str(EXAMPLE / "rulebook.yaml"), "--db", url, "-w", "gc"]
                         ).exit_code == 0
    done = runner.invoke(app, ["replay", "--db", url, "-w", "gc"])
    assert done.exit_code == 0, done.output
    assert seen and not any(seen), seen  # paused while it folded; the fixture checks it is on again after
