"""`POST /v1/events` with `Prefer: respond-async` over real HTTP, on SQLite and PostgreSQL: answered 202 once
stored, decided right after or by the first read (API, command line, web UI), the same decisions as a post
that decides at once, back-pressure past the backlog, partners named as ever, and nothing lost to a crash
between the answer and the deciding."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from typer.testing import CliRunner

from firmly import bootstrap
from firmly.adapters.sql.store import SqlStore
from firmly.domain.events import validate
from firmly.doors.api import create_app
from firmly.doors.cli import app as firmly_cli
from firmly.doors.web import testing
from firmly.service import ingest, rulebooks, tokens, users, workspace
from firmly.service.group_commit import GroupCommit
from tests.e2e.api_harness import CLINIC, EXAMPLES, read_events, serve
from tests.e2e.test_api import bad_rating, late_cancellations, upsert

ASYNC = {"Prefer": "respond-async"}
NETWORK = EXAMPLES / "network-en"


def _workspace(url: str, name: str, books: tuple[Path, ...] = (CLINIC / "rulebook.yaml",)) -> tuple[str, str]:
    """A fresh workspace with these rulebooks; its admin token and ingest token."""
    store = bootstrap.store(url, name)
    workspace.init(store, "en", "Europe/London", 0)
    for book in books:
        rulebooks.load(store, rulebooks.read(book), 0)
    return tokens.create(store, "admin", "admin", 0).token, tokens.create(store, "ingest", "crm", 0).token


def _client(base: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60)


def _pending(url: str, name: str) -> tuple[int, int]:
    """(events taken, events waiting) as stored, read without deciding anything."""
    store = bootstrap.store(url, name, settled=False)
    with store.read():
        ws = store.workspace_info(count=True)
    assert ws is not None
    return ws.events - 1, ws.pending


def _quiet_app(url: str) -> FastAPI:
    """The app with a writer that has no settler: what is acknowledged waits for a read (as after a crash)."""
    app = create_app(url)
    app.state.writer = GroupCommit(backlog=app.state.writer.backlog)
    return app


def _post(c: httpx.Client, events: list[dict[str, Any]], later: bool) -> httpx.Response:
    return c.post("/v1/events", json=events, headers=ASYNC if later else {})


def _seen(c: httpx.Client, keys: list[str]) -> dict[str, Any]:
    """What a reader sees over the API: every decision, the counterparties, the pages of `keys`."""
    return {"decisions": c.get("/v1/decisions").json(), "counterparties": c.get("/v1/counterparties").json(),
            "pages": {k: c.get(f"/v1/counterparties/{k}").json() for k in keys}}


def _stored(url: str, name: str, keys: list[str]) -> dict[str, Any]:
    """What the store holds: states, ledgers, outbox, events with their arrival order and partner."""
    store = bootstrap.store(url, name)
    with store.read():
        return {"states": store.load_states(keys), "postings": {k: store.postings(k) for k in keys},
                "outbox": sorted((r.decision, r.channel, r.recipient, r.subject, r.body, r.status)
                                 for r in store.outbox()),
                "events": [(e.id, e.seq, e.partner, e.tone) for e in store.all_events()]}


def test_an_async_post_is_answered_once_stored_and_the_first_read_decides_it(database_url: str) -> None:
    tag = uuid.uuid4().hex[:8]
    later, now = f"async-{tag}", f"sync-{tag}"
    (admin, sender), (ref_admin, ref_sender) = _workspace(database_url, later), _workspace(database_url, now)
    first = late_cancellations("amy", 2)
    second = [*late_cancellations("bob", 3), first[1], {**first[2], "data": {"appointment": "other"}},
              bad_rating("rated-bob", "bob")]
    with serve(_quiet_app(database_url)) as base, _client(base, sender) as post, _client(base, admin) as read, \
            _client(base, ref_sender) as ref_post, _client(base, ref_admin) as ref_read:
        assert _post(post, first, True).status_code == 202
        answer = _post(post, second, True)
        assert answer.status_code == 202, answer.text
        assert answer.headers["preference-applied"] == "respond-async"
        body = answer.json()
        assert "decisions" not in body
        assert (body["stored"], body["duplicates"], body["rejected"]) == (7, 1, 2)
        assert [r["status"] for r in body["results"]] == ["stored"] * 7 + ["duplicate", "rejected", "rejected"]
        assert [r.get("code") for r in body["results"][-2:]] == ["conflict", "invalid"]
        assert body["through"] == 12 and answer.headers["location"] == "/v1/events/through/12"
        # polling tells, and decides nothing
        for _ in range(2):
            poll = post.get(answer.headers["location"]).json()
            assert poll == {"through": 12, "events": 12, "decided_through": 0, "pending": 12, "done": False}
        assert read.get("/v1/workspace").json()["decided_through"] == 0
        for events in (first, second):
            assert _post(ref_post, events, False).status_code in (200, 207)
        # the first read decides what waits: the API's counterparty page
        page = read.get("/v1/counterparties/bob").json()
        assert page["name"] == "Client bob" and page["rules"]["late_change"]["strikes"] == 3
        assert post.get(answer.headers["location"]).json()["done"] is True
        assert _seen(read, ["amy", "bob"]) == _seen(ref_read, ["amy", "bob"])
        assert _stored(database_url, later, ["amy", "bob"]) == _stored(database_url, now, ["amy", "bob"])
        # a sync post after an async one that waits: decided after it, in arrival order
        assert _post(post, late_cancellations("cy", 1), True).status_code == 202
        assert _post(post, [upsert("dee")], False).status_code == 200
        assert _pending(database_url, later) == (16, 0)


def test_the_command_line_and_the_web_ui_decide_what_waits_before_they_read(database_url: str) -> None:
    tag = uuid.uuid4().hex[:8]
    name = f"readers-{tag}"
    _, sender = _workspace(database_url, name)
    users.create(bootstrap.store(database_url, name), "desk@example.org", "admin", "a long password here", 0)
    with serve(_quiet_app(database_url)) as base, _client(base, sender) as post:
        assert _post(post, late_cancellations("eve", 2), True).status_code == 202
        assert _pending(database_url, name) == (5, 5)
        shown = CliRunner().invoke(firmly_cli, ["decisions", "--json", "--db", database_url, "--workspace", name],
                                   catch_exceptions=False)
        assert shown.exit_code == 0, shown.output
        assert {d["action"] for d in json.loads(shown.output)} >= {"feedback", "warning"}
        assert _pending(database_url, name) == (5, 0)
        assert _post(post, [upsert("fay", "Fay Winters")], True).status_code == 202
        assert _pending(database_url, name) == (6, 1)
        with httpx.Client(base_url=base, timeout=60) as web:
            form = web.get("/login").text
            csrf = form.split('name="csrf" value="', 1)[1].split('"', 1)[0]
            web.post("/login", data={"csrf": csrf, "email": "desk@example.org", "password": "a long password here"})
            listed = web.get("/counterparties")
        assert listed.status_code == 200 and "Fay Winters" in listed.text
        assert _pending(database_url, name) == (6, 0)


def test_the_server_decides_right_after_the_answer_without_a_read(database_url: str) -> None:
    name = f"background-{uuid.uuid4().hex[:8]}"
    _, sender = _workspace(database_url, name)
    events = [ev for n in range(40) for ev in late_cancellations(f"k{n}", 3)]
    with serve(create_app(database_url)) as base, _client(base, sender) as post:
        answer = _post(post, events, True)
        assert answer.status_code == 202 and answer.json()["through"] == len(events)
        deadline = time.monotonic() + 60
        while not (poll := post.get(answer.headers["location"]).json())["done"]:
            assert poll["pending"] > 0 and time.monotonic() < deadline, poll
            time.sleep(0.05)
    assert poll == {"through": len(events), "events": len(events), "decided_through": len(events), "pending": 0,
                    "done": True}


def test_async_and_sync_posts_of_the_same_events_decide_the_same(database_url: str) -> None:
    """The clinic's events and two copies of Tom's story in posts of 7 (late events among them refold), one
    workspace asynchronously, the other deciding at once: decisions, pages, states, ledgers and outbox agree."""
    tag = uuid.uuid4().hex[:8]
    later, now = f"same-a-{tag}", f"same-s-{tag}"
    (admin, sender), (ref_admin, ref_sender) = _workspace(database_url, later), _workspace(database_url, now)
    events = read_events(CLINIC / "events.jsonl")
    keys = sorted({ev["counterparty"] for ev in events if isinstance(ev.get("counterparty"), str)})
    with serve(create_app(database_url)) as base, _client(base, sender) as post, _client(base, admin) as read, \
            _client(base, ref_sender) as ref_post, _client(base, ref_admin) as ref_read:
        for i in range(0, len(events), 7):
            assert _post(post, events[i:i + 7], True).status_code in (202, 422)
            assert _post(ref_post, events[i:i + 7], False).status_code in (200, 207, 422)
        seen = _seen(read, keys)
        assert seen == _seen(ref_read, keys)
        assert {d["action"] for d in seen["decisions"]} >= {"feedback", "warning", "fee"}
    assert _stored(database_url, later, keys) == _stored(database_url, now, keys)


def test_back_pressure_refuses_a_post_past_the_backlog_whole(database_url: str,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIRMLY_ASYNC_BACKLOG", "10")
    name = f"pressure-{uuid.uuid4().hex[:8]}"
    admin, sender = _workspace(database_url, name)
    app = _quiet_app(database_url)
    assert app.state.writer.backlog == 10
    with serve(app) as base, _client(base, sender) as post, _client(base, admin) as read:
        assert _post(post, late_cancellations("gus", 4), True).status_code == 202  # 9: under the bound
        refused = _post(post, late_cancellations("hal", 1), True)  # 9 + 3 > 10
        assert refused.status_code == 503, refused.text
        assert refused.json()["error"]["code"] == "backlog"
        assert int(refused.headers["retry-after"]) >= 1
        assert _pending(database_url, name) == (9, 9)  # nothing of it stored
        assert post.get("/v1/events/through/9").json()["done"] is False
        assert _post(post, late_cancellations("hal", 1), False).status_code == 200  # deciding at once: no bound
        assert _pending(database_url, name) == (12, 0)
        assert _post(post, late_cancellations("ivy", 1), True).status_code == 202
        assert read.get("/v1/counterparties/ivy").json()["name"] == "Client ivy"
        assert _post(post, late_cancellations("jon", 2), True).status_code == 202


def test_partners_are_named_on_events_that_arrive_async(database_url: str) -> None:
    tag = uuid.uuid4().hex[:8]
    later, now = f"partners-a-{tag}", f"partners-s-{tag}"
    books = (NETWORK / "rulebook.yaml", NETWORK / "suppliers.yaml")
    (admin, sender), (ref_admin, ref_sender) = _workspace(database_url, later, books), \
        _workspace(database_url, now, books)
    events = read_events(NETWORK / "events.jsonl")
    # a visit booked into a partner, and its attendance that names only the appointment, in separate posts
    visit = [{"id": "pat-book", "type": "appointment.booked", "counterparty": "pat",
              "occurred_at": "2026-06-20T09:00:00+01:00", "data": {"appointment": "pat-1", "partner": "northside",
                                                                   "starts_at": "2026-06-25T10:00:00+01:00"}},
             {"id": "pat-seen", "type": "appointment.attended", "counterparty": "pat",
              "occurred_at": "2026-06-25T11:00:00+01:00", "data": {"appointment": "pat-1"}}]
    keys = sorted({ev["counterparty"] for ev in events} | {"pat"})
    posts = [events[i:i + 5] for i in range(0, len(events), 5)] + [visit[:1], visit[1:]]
    with serve(create_app(database_url)) as base, _client(base, sender) as post, _client(base, admin) as read, \
            _client(base, ref_sender) as ref_post, _client(base, ref_admin) as ref_read:
        for part in posts:  # a booking and what follows it in different posts
            assert _post(post, part, True).status_code == 202
            assert _post(ref_post, part, False).status_code == 200
        report = read.get("/v1/reports/partners").json()
        assert report == ref_read.get("/v1/reports/partners").json()
        assert "northside" in {r["key"] for r in report}
    stored = _stored(database_url, later, keys)
    assert stored == _stored(database_url, now, keys)
    partners = {e[0]: e[2] for e in stored["events"]}
    assert partners["pat-seen"] == partners["pat-book"] == "northside"  # named while deciding
    assert all(partners[ev["id"]] == ev["data"]["partner"] for ev in events if "partner" in ev.get("data", {}))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def killed_server(database_url: str) -> Iterator[tuple[str, int]]:
    """`firmly serve` as a process of its own, to be killed."""
    port = _free_port()
    env = {**os.environ, "FIRMLY_DATABASE_URL": database_url}
    process = subprocess.Popen([sys.executable, "-m", "firmly", "serve", "--port", str(port)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        testing.wait_until_healthy(f"http://127.0.0.1:{port}", lambda: process.poll() is None, 60, 0.1)
        yield f"http://127.0.0.1:{port}", process.pid
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


def test_events_acknowledged_before_a_crash_are_decided_by_the_next_read(
        database_url: str, killed_server: tuple[str, int]) -> None:
    base, pid = killed_server
    tag = uuid.uuid4().hex[:8]
    later, now = f"crash-a-{tag}", f"crash-s-{tag}"
    _, sender = _workspace(database_url, later)
    _workspace(database_url, now)
    events = [ev for n in range(1_500) for ev in late_cancellations(f"p{n}", 3)][:10_000]
    with _client(base, sender) as post:
        answer = _post(post, events, True)
        os.kill(pid, signal.SIGKILL)  # deciding 10,000 events takes longer than this
    assert answer.status_code == 202 and answer.json()["stored"] == 10_000
    taken, waiting = _pending(database_url, later)
    assert taken == 10_000 and waiting > 0
    ingest.ingest(bootstrap.store(database_url, now), [("ref", n, validate(ev)) for n, ev in enumerate(events)])
    shown = CliRunner().invoke(firmly_cli, ["decisions", "--json", "--db", database_url, "--workspace", later],
                               catch_exceptions=False)
    assert shown.exit_code == 0
    assert _pending(database_url, later) == (10_000, 0)
    reference = bootstrap.store(database_url, now)
    with reference.read():
        expected = reference.decisions()
    assert len(json.loads(shown.output)) == len(expected) > 1_000
    store: SqlStore = bootstrap.store(database_url, later)
    with store.read():
        assert store.decisions() == expected
