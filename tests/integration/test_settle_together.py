"""Several servers settling one workspace at once (threads with stores of their own, as processes would have):
each event is decided once, in arrival order, as deciding at once would have, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import uuid

from firmly import bootstrap
from firmly.domain.clock import parse_instant
from firmly.service import ingest, rulebooks, settle, workspace
from tests.contract.test_arrivals import _visits
from tests.contract.test_group_commit import CLINIC

NOW = parse_instant("2026-03-20T00:00:00+03:00")


def test_settlers_running_at_once_decide_each_event_once(database_url: str) -> None:
    tag = uuid.uuid4().hex[:8]
    later, now = f"together-a-{tag}", f"together-s-{tag}"
    for name in (later, now):
        store = bootstrap.store(database_url, name)
        workspace.init(store, "en", "Europe/London", 0)
        rulebooks.load(store, rulebooks.read(CLINIC / "rulebook.yaml"), 0)
    sender = bootstrap.store(database_url, later, settled=False)  # (opening a store settles, by default)
    for part in range(12):
        ingest.ingest(sender, _visits(f"p{part}", 20), now=NOW, later=True)
        ingest.ingest(bootstrap.store(database_url, now), _visits(f"p{part}", 20), now=NOW)
    done: list[int] = []
    failed: list[BaseException] = []

    def run() -> None:
        try:
            store = bootstrap.store(database_url, later, settled=False)
            while decided := settle.settle(store, budget=1):  # a chunk, then the other settler's turn
                done.append(decided)
        except BaseException as exc:
            failed.append(exc)

    original = settle.CHUNK
    settle.CHUNK = 50  # small chunks, so that the settlers alternate
    try:
        threads = [threading.Thread(target=run) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        settle.CHUNK = original
    assert not failed, failed
    assert sum(done) == 480 and len(done) > 3
    mine, reference = bootstrap.store(database_url, later, settled=False), bootstrap.store(database_url, now)
    with mine.read(), reference.read():
        ws = mine.workspace_info()
        assert ws is not None and (ws.events, ws.decided) == (481, 481)
        assert mine.decisions() == reference.decisions()
        assert [(e.id, e.seq) for e in mine.all_events()] == [(e.id, e.seq) for e in reference.all_events()]
        keys = ["c0", "c1", "c2"]
        assert mine.load_states(keys) == reference.load_states(keys)
