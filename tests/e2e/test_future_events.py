"""Time is bounded: an event dated beyond the wall clock's horizon is refused on its own, its neighbours are
stored, and what the outbox tells depends on the wall clock, never on another counterparty's events.

Through the command line and the HTTP API (its group commit), on SQLite and PostgreSQL. The wall clock is
fixed with FIRMLY_NOW, as a demo or a test fixes it.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner, Result

from firmly import bootstrap
from firmly.domain.clock import iso, parse_instant
from firmly.domain.events import validate
from firmly.doors.api import create_app
from firmly.doors.cli import app as firmly_cli
from firmly.service import clock, group_commit, ingest, outbox, rulebooks, tokens, workspace
from tests.e2e.api_harness import CLINIC, serve

NOW = "2026-12-02T12:00:00+00:00"
HOUR = 3_600_000_000
DAY = 24 * HOUR
BOB = {"id": "bob-2063", "type": "appointment.booked", "counterparty": "bob",
       "occurred_at": "2063-01-15T10:00:00+00:00",
       "data": {"appointment": "b1", "starts_at": "2063-01-20T10:00:00+00:00"}}
BOB_REFUSED = ("is 36 years in the future; events are facts that already happened "
               "(up to 1 day ahead is accepted, FIRMLY_FUTURE_HORIZON)")


def story(key: str, shift: int = 0) -> list[dict[str, Any]]:
    """A patient with an email, booked for 1 December and not coming: two reminders and a feedback to tell
    (moved by `shift` microseconds)."""
    def at(value: str) -> str:
        return iso(parse_instant(value) + shift)

    visit = f"{key}-v1"
    return [
        {"id": f"{key}-up", "type": "counterparty.upserted", "counterparty": key,
         "occurred_at": at("2026-11-30T09:00:00+00:00"),
         "data": {"kind": "client", "name": key.title(), "email": f"{key}@example.org"}},
        {"id": f"{key}-book", "type": "appointment.booked", "counterparty": key,
         "occurred_at": at("2026-11-30T10:00:00+00:00"),
         "data": {"appointment": visit, "starts_at": at("2026-12-01T14:00:00+00:00")}},
        {"id": f"{key}-noshow", "type": "appointment.no_show", "counterparty": key,
         "occurred_at": at("2026-12-01T15:00:00+00:00"), "data": {"appointment": visit}},
    ]


def new_workspace(url: str) -> str:
    name = f"future-{uuid.uuid4().hex[:8]}"
    store = bootstrap.store(url, name)
    workspace.init(store, "en", "Europe/London", parse_instant(NOW))
    rulebooks.load(store, rulebooks.read(CLINIC / "rulebook.yaml"), parse_instant(NOW))
    return name


def told(url: str, ws: str) -> list[tuple[str, str]]:
    """(recipient, action) of every message in the outbox."""
    store = bootstrap.store(url, ws)
    with store.read():
        actions = {d["id"]: d["action"] for d in store.decisions()}
    return sorted((row.recipient, actions[row.decision]) for row in outbox.listed(store, None))


def cli(url: str, *args: str, **env: str) -> Result:
    return CliRunner().invoke(firmly_cli, list(args), env={"FIRMLY_DATABASE_URL": url, "FIRMLY_NOW": NOW, **env})


def jsonl(path: Path, events: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def wall_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIRMLY_NOW", NOW)
    monkeypatch.delenv("FIRMLY_FUTURE_HORIZON", raising=False)


ZOE_TOLD = [("zoe@example.org", "feedback"), ("zoe@example.org", "reminder"), ("zoe@example.org", "reminder")]


def test_cli_refuses_a_far_future_event_and_stores_and_tells_its_neighbours(database_url: str, tmp_path: Path
                                                                            ) -> None:
    ws, alone = new_workspace(database_url), new_workspace(database_url)
    done = cli(database_url, "ingest", str(jsonl(tmp_path / "events.jsonl", [BOB, *story("zoe")])), "--json",
               "-w", ws)
    assert done.exit_code == 1  # something was refused
    report = json.loads(done.stdout)
    assert (report["stored"], report["rejected"]) == (3, 1)
    assert report["rejections"] == [{"file": "events.jsonl", "line": 1, "id": "bob-2063", "field": "occurred_at",
                                     "reason": BOB_REFUSED}]
    plain = cli(database_url, "ingest", str(tmp_path / "events.jsonl"), "-w", ws)  # the same, as a person reads it
    assert f"events.jsonl line 1 (event bob-2063): occurred_at: {BOB_REFUSED}" in plain.output
    assert "Traceback" not in plain.output

    listed = cli(database_url, "outbox", "list", "--json", "-w", ws)
    assert listed.exit_code == 0, listed.output
    assert len(json.loads(listed.stdout)) == 3
    assert told(database_url, ws) == ZOE_TOLD
    # exactly what zoe is told without bob's event at all
    assert cli(database_url, "ingest", str(jsonl(tmp_path / "zoe.jsonl", story("zoe"))), "-w", alone).exit_code == 0
    assert told(database_url, alone) == ZOE_TOLD
    assert cli(database_url, "counterparty", "show", "bob", "-w", ws).exit_code == 1  # nothing of bob is kept


def test_api_refuses_a_far_future_event_per_event_through_the_group_commit(database_url: str) -> None:
    ws = new_workspace(database_url)
    store = bootstrap.store(database_url, ws)
    sender = tokens.create(store, "ingest", "booking system", parse_instant(NOW)).token
    admin = tokens.create(store, "admin", "admin", parse_instant(NOW)).token
    with serve(create_app(database_url, None)) as base, \
            httpx.Client(base_url=base, headers={"Authorization": f"Bearer {sender}"}, timeout=30) as http:
        batch = http.post("/v1/events", json=[BOB, *story("zoe")])
        assert batch.status_code == 207, batch.text
        body = batch.json()
        assert (body["stored"], body["rejected"]) == (3, 1)
        assert body["results"][0] == {"id": "bob-2063", "status": "rejected", "code": "invalid",
                                      "field": "occurred_at", "reason": BOB_REFUSED}
        assert [r["status"] for r in body["results"][1:]] == ["stored"] * 3
        assert told(database_url, ws) == ZOE_TOLD

        # one event a request, all at once: the writer stores them as one group, each answered on its own.
        # Amy's visit is booked first: which request reaches the writer first is up to the threads, and her
        # no-show stored before her booking, or her booking before her email, would be told otherwise
        amy = story("amy")
        for ev in amy[:2]:
            assert http.post("/v1/events", json=ev).status_code == 200
        events = [BOB | {"id": "bob-2063-again"}, amy[2], story("ann")[0], story("cal")[0]]
        with ThreadPoolExecutor(len(events)) as pool:
            answers = list(pool.map(lambda e: http.post("/v1/events", json=e), events))
        assert [a.status_code for a in answers] == [422, 200, 200, 200]
        assert answers[0].json()["error"] == {"code": "invalid", "message": BOB_REFUSED, "field": "occurred_at"}
        assert told(database_url, ws) == sorted(ZOE_TOLD + [("amy@example.org", a) for _, a in ZOE_TOLD])

        # PUT records an upsert at the wall clock: taken, twice, even with the clock fixed
        for name in ("Zoe Z.", "Zoe Zed"):
            put = http.put("/v1/counterparties/zoe", json={"name": name}, headers={"Authorization": f"Bearer {admin}"})
            assert put.status_code == 200, put.text
            assert put.json()["name"] == name


def test_an_event_within_the_horizon_is_taken_but_the_clock_stays_at_the_wall_clock(database_url: str) -> None:
    ws = new_workspace(database_url)
    store = bootstrap.store(database_url, ws)
    now = parse_instant(NOW)
    ahead = {"id": "early", "type": "counterparty.upserted", "counterparty": "kim",
             "occurred_at": iso(now + 23 * HOUR), "data": {"name": "Kim"}}
    report = ingest.ingest(store, [("api", 0, validate(ahead))])
    assert (report.stored, report.rejected) == (1, [])
    with store.read():
        info = store.workspace_info()
    assert info is not None and info.clock == now  # the others are judged as of now, not 23 hours ahead
    beyond = ahead | {"id": "too-early", "occurred_at": iso(now + 25 * HOUR)}
    report = ingest.ingest(store, [("api", 0, validate(beyond))])
    assert report.stored == 0
    assert [(r.field, r.message) for r in report.rejected] == [(
        "occurred_at", "is 1 day and 1 hour in the future; events are facts that already happened "
                       "(up to 1 day ahead is accepted, FIRMLY_FUTURE_HORIZON)")]


def test_a_history_import_decides_but_does_not_tell(database_url: str) -> None:
    ws = new_workspace(database_url)
    store = bootstrap.store(database_url, ws)
    old = story("ivy", shift=-30 * DAY)  # a month ago: arriving today, it is history
    report = ingest.ingest(store, [("import", n, validate(e)) for n, e in enumerate(old, 1)])
    assert (report.stored, report.rejected) == (3, [])
    with store.read():
        made = sorted((d["action"], d["status"]) for d in store.decisions(counterparty="ivy"))
    assert made == [("feedback", "applied"), ("reminder", "applied"), ("reminder", "applied")]
    assert told(database_url, ws) == []
    # a fresh story arriving after it is told as usual
    ingest.ingest(store, [("live", n, validate(e)) for n, e in enumerate(story("zoe"), 1)])
    assert told(database_url, ws) == ZOE_TOLD


def test_fresh_decisions_are_told_even_where_the_clock_was_dragged_ahead(database_url: str) -> None:
    """A workspace whose engine clock an earlier far-future event moved to 2063 (stored before such events
    were refused) still tells what happens now: the outbox asks the wall clock, not the engine clock."""
    ws = new_workspace(database_url)
    store = bootstrap.store(database_url, ws)
    with store.write():
        store.set_clock(parse_instant(BOB["occurred_at"]), None)
    ingest.ingest(store, [("live", n, validate(e)) for n, e in enumerate(story("zoe"), 1)])
    assert told(database_url, ws) == ZOE_TOLD


def test_the_horizon_setting_is_honoured(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = new_workspace(database_url)
    now = parse_instant(NOW)
    events = [{"id": f"in-{h}h", "type": "counterparty.upserted", "counterparty": f"c{h}",
               "occurred_at": iso(now + h * HOUR), "data": {"name": f"C{h}"}} for h in (1, 3)]
    path = jsonl(tmp_path / "soon.jsonl", events)
    done = cli(database_url, "ingest", str(path), "--json", "-w", ws, FIRMLY_FUTURE_HORIZON="2h")
    report = json.loads(done.stdout)
    assert report["stored"] == 1
    assert [(r["id"], r["reason"]) for r in report["rejections"]] == [(
        "in-3h", "is 3 hours in the future; events are facts that already happened "
                 "(up to 2 hours ahead is accepted, FIRMLY_FUTURE_HORIZON)")]
    # under the default day, the second one is taken too
    assert json.loads(cli(database_url, "ingest", str(path), "--json", "-w", ws).stdout)["stored"] == 1

    bad = cli(database_url, "ingest", str(path), "-w", ws, FIRMLY_FUTURE_HORIZON="soon")
    assert bad.exit_code == 1
    assert "FIRMLY_FUTURE_HORIZON must be a duration like" in bad.output and "Traceback" not in bad.output
    wrong = cli(database_url, "ingest", str(path), "-w", ws, FIRMLY_NOW="yesterday")
    assert wrong.exit_code == 1
    assert "FIRMLY_NOW must be an RFC 3339 time" in wrong.output and "Traceback" not in wrong.output


def test_tick_never_moves_the_clock_beyond_the_horizon(database_url: str) -> None:
    ws = new_workspace(database_url)
    far = cli(database_url, "tick", "--as-of", "2063-01-15T10:00:00+00:00", "-w", ws)
    assert far.exit_code == 1
    assert "the clock cannot move to 2063-01-15T10:00:00+00:00: that is 36 years in the future" in far.output
    store = bootstrap.store(database_url, ws)
    with store.read():
        info = store.workspace_info()
    assert info is not None and info.clock != parse_instant("2063-01-15T10:00:00+00:00")
    assert cli(database_url, "tick", "--as-of", NOW, "-w", ws).exit_code == 0
    # the worker's round is its own wall clock (`--as-of` pretends one), so it is never refused
    assert clock.tick(store, parse_instant("2063-01-15T10:00:00+00:00"),
                      now=parse_instant("2063-01-15T10:00:00+00:00")).as_of > 0


def test_a_refused_far_future_event_never_takes_the_decisions_of_its_group() -> None:
    """In a group commit, decisions no stored event caused (timers the clock passed) count for the request
    holding the group's latest event: the latest one stored, not a refused one from 2063."""
    bob, amy = validate(BOB), validate(story("amy")[0])
    refused = {"id": bob.id, "status": "rejected", "code": "invalid", "field": "occurred_at", "reason": BOB_REFUSED}
    report = ingest.IngestReport(stored=1, decisions=2, results=[refused, {"id": amy.id, "status": "stored"}],
                                 caused=Counter())
    for_bob, for_amy = group_commit.split(report, [[("body", 0, bob)], [("body", 0, amy)]])
    assert (for_bob.decisions, len(for_bob.rejected)) == (0, 1)
    assert (for_amy.decisions, for_amy.stored) == (2, 1)
