"""Many processes on one PostgreSQL database agree with one process on SQLite: three `firmly serve` leaving
deciding to two `firmly decide`, two `firmly worker` sending to an SMTP server, 20,000 events of the clinic
workload posted through all three servers at once (half answered once stored), a decider and a worker killed
with SIGKILL at random moments and started again. The decisions in force, the counterparties' states, the
ledger and the outbox equal those of a single ingest on SQLite, and every message went out once."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from firmly import bootstrap
from firmly.service import clock
from tests.conftest import database_of_its_own, forget_workspace
from tests.e2e import many_processes as mp
from tests.e2e.test_outbox import SmtpSink

EVENTS = 20_000
CLIENTS = 2_000


@pytest.mark.postgres
def test_three_servers_two_deciders_and_killed_workers_agree_with_one_process(postgres_url: str,
                                                                              tmp_path: Path) -> None:
    # A database of its own: the workers send every workspace's due messages, and other tests' would come first
    with database_of_its_own(postgres_url, "firmly_many") as url:
        _agree(url, tmp_path)


def _agree(postgres_url: str, tmp_path: Path) -> None:
    events, wall = mp.workload(tmp_path / "clinic.jsonl", EVENTS, CLIENTS)
    forget_workspace(postgres_url, mp.NAME)
    _, sender = mp.prepare(postgres_url, wall)
    sink = SmtpSink()
    sink.controller.start()
    try:
        with mp.fleet(postgres_url, wall, sink.url, tmp_path) as (crew, bases):
            stop = threading.Event()
            chaos = mp.havoc(crew, stop)
            try:
                mp.post_all(bases, sender, events, 500)
                mp.settle_down(postgres_url, 120)  # decided and sent while deciders and workers are killed
                deadline = time.monotonic() + 30
                while min(crew.kills["decide"], crew.kills["worker"]) < 2 and time.monotonic() < deadline:
                    time.sleep(0.1)
            finally:
                stop.set()
                chaos.join()
            mp.settle_down(postgres_url, 60)
            # none stopped of itself (a decider that met an error would leave its share to the others, unseen)
            assert not crew.stopped(), {name: crew.log(name)[-800:] for name in crew.stopped()}
    finally:
        sink.controller.stop()
    assert crew.kills["decide"] >= 2 and crew.kills["worker"] >= 2, crew.kills
    many = bootstrap.store(postgres_url, mp.NAME, settled=False)
    with many.read():
        sent = {r.id for r in many.outbox(limit=10**9) if r.status == "sent"}
    accepted = Counter(m.message_id.strip("<>").split("@")[0] for m in sink.mails)
    assert len(sent) > 20 and set(accepted) == sent  # every message due went out, and only those
    resent = sum(n - 1 for n in accepted.values())
    assert resent <= crew.kills["worker"]  # a killed worker resends at most the message in flight

    end = time.time_ns() // 1000  # both clocks moved to the same moment, after every worker's last tick
    clock.tick(many, end, now=end)
    one = mp.reference(f"sqlite:///{tmp_path / 'one.db'}", events, wall, end)
    expected, found = mp.dump(one), mp.dump(many)
    for name, dumped in (("one", expected), ("many", found)):  # kept beside the logs, to read when they differ
        (tmp_path / f"{name}.json").write_text(json.dumps(dumped, ensure_ascii=False, indent=1), encoding="utf-8")
    assert len(expected["decisions"]) > 1_000 and expected["outbox"]
    for part in ("decisions", "states", "postings"):
        assert found[part] == expected[part], part
    # The outbox holds every letter of the single process, and may hold a few more: a reminder that a worker's
    # tick fired on the wall clock while the event that cancels it (dated earlier) had not arrived yet. It was
    # written (and sent) then; once that event arrives the reminder's decision is cancelled, as in the single
    # process, which folded the cancellation before its one tick and so never wrote the letter
    letters = {tuple(row) for row in found["outbox"]}
    assert letters >= {tuple(row) for row in expected["outbox"]}
    in_force = {d["id"]: d for d in found["decisions"]}
    early = [row for row in letters.difference(tuple(row) for row in expected["outbox"])]
    assert all(in_force[row[1]]["action"] == "reminder" and in_force[row[1]]["status"] == "cancelled"
               for row in early), early
    assert len(early) <= len(letters) // 10
    # The one figure of a state that follows the path: how far a counterparty's timers were fired, the moment of
    # the last tick that found one of them due (a worker's, during the ingest, or the last one). Events of the
    # counterparty that arrive after such a tick are folded again as late ones, with the same decisions
    assert found["fired_until"].keys() == expected["fired_until"].keys()
