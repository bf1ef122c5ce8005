"""Settling: deciding the events a workspace acknowledged before deciding them (`Prefer: respond-async`).

Such an event is stored durably at once, apart from the log (`Store.stage_events`: the table of arrivals, with
its arrival `seq`, its transaction's batch and the wall clock it arrived at), and the request is answered.
Deciding follows: `settle` takes the waiting events oldest first and decides each batch as the ingest that
decides at once would have (`deciding.decide`, the same function), by the wall clock it arrived at, moving it
into the log as it goes (`Store.admit_events`) and the workspace's `decided` mark past it. So the decisions of
events sent one way or the other are the same, and a crash between the answer and the deciding loses nothing:
the events wait in the table until someone settles them.

Every read settles first (`settled`; the doors call it where they reach a workspace, and so do `tick`, the
worker, the review queue and an ingest that decides at once, inside their own transactions: `caught_up`), so
nobody sees an acknowledged event without its decisions. A waiting event is in no read but the duplicate check
(`digests`), and an event is never decided before one that arrived earlier.

Settling runs `CHUNK` events a transaction, so that appends (and other servers' settling) take turns with it
on the workspace's write lock (SQLite's one writer, PostgreSQL's advisory lock per workspace): two servers
settling at once decide each event once, since each transaction takes the oldest waiting ones under the lock.

Processes that only decide (`firmly decide`, `decide_all`) visit the workspaces with events waiting, a chunk each in
turn, so that a busy workspace does not keep the others waiting; several of them take turns the same way.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from firmly.domain.errors import Backlog
from firmly.domain.events import Event
from firmly.domain.ports import Store, WorkspaceInfo
from firmly.service import workspace
from firmly.service.deciding import decide

CHUNK = 2_000  # events decided per transaction: appends wait at most about this long for the write lock
BACKLOG = 200_000  # events that may wait to be decided in one workspace (FIRMLY_ASYNC_BACKLOG)
RATE = 5_000  # events decided per second, about, on a small server: what Retry-After is guessed from


def settle(store: Store, budget: int | None = None) -> int:
    """Decide the waiting events, a transaction per `CHUNK`, all of them or until `budget` are; returns how
    many were."""
    done = 0
    while budget is None or done < budget:
        with store.write():
            decided = decide_waiting(store, CHUNK)
        if not decided:
            break
        done += decided
    return done


def decide_all(store_for: Callable[[str], Store], stopping: Callable[[], bool] = lambda: False) -> tuple[int, int]:
    """Decide what waits in every workspace, a chunk of each in turn, until none waits or `stopping()` says so
    (checked between chunks: the chunk in hand is finished). Returns (events decided, workspaces visited)."""
    done, seen = 0, set[str]()
    while not stopping():
        lister = store_for("")
        with lister.read():
            names = lister.waiting_workspaces()
        decided = 0
        for name in names:
            if stopping():
                break
            decided += settle(store_for(name), CHUNK)
            seen.add(name)
        if not decided:  # nothing waits (or what waits is another decider's chunk in hand)
            break
        done += decided
    return done, len(seen)


def settled(store: Store) -> WorkspaceInfo | None:
    """Before a read: every acknowledged event decided. One small read when none waits (None: no workspace)."""
    with store.read():
        ws = store.workspace_info()
    if ws is None or not ws.pending:
        return ws
    settle(store)
    with store.read():
        return store.workspace_info()


def caught_up(store: Store) -> WorkspaceInfo:
    """Inside a write transaction that decides (an ingest, a tick, a person's act): the waiting events decided
    first, in this transaction, so that none is overtaken. Returns the workspace as it is then."""
    ws = workspace.current(store)
    while ws.pending:
        decide_waiting(store, CHUNK)
        ws = workspace.current(store)
    return ws


def decide_waiting(store: Store, limit: int) -> int:
    """Inside a write transaction: decide the oldest waiting events, up to `limit`, batch by batch (a batch
    is cut only when it alone is over the limit). Returns how many were decided."""
    ws = workspace.current(store)
    if not ws.pending:
        return 0
    waiting = store.staged_events(limit)
    batches: list[tuple[int, list[Event]]] = []
    last = None
    for ev, batch, arrived in waiting:
        if batch != last:
            batches.append((arrived, []))
            last = batch
        batches[-1][1].append(ev)
    if len(batches) > 1 and len(waiting) == limit:
        batches.pop()  # it may go on past the limit: whole, in the next transaction
    done = 0
    for arrived, events in batches:
        decide(store, ws, events, arrived, store.admit_events)
        done += len(events)
        ws = workspace.current(store)
    return done


def admit(store: Store, ws: WorkspaceInfo, new: list[Event], arrived: int, bound: int) -> None:
    """Inside a write transaction: acknowledge `new` without deciding them, unless events wait already and more
    than `bound` would then (Backlog, nothing stored). Past half the bound, the request first decides a chunk of the
    waiting events, so that a backlog stops growing while senders outpace deciding: appends wait for it."""
    if ws.pending and ws.pending + len(new) > bound:  # (into an empty backlog any request fits)
        wait = max(1, min(60, math.ceil(ws.pending / RATE)))
        raise Backlog(f"{ws.pending} events wait to be decided in workspace {store.workspace!r}, and at most "
                      f"{bound} may: nothing of these {len(new)} was stored; send them again in {wait} s", wait)
    if ws.pending > bound // 2:
        decide_waiting(store, CHUNK)
    store.stage_events(new, arrived)


def progress(ws: WorkspaceInfo) -> dict[str, int]:
    """How far deciding has come: the arrival number of the last event taken and of the last decided (every
    event up to it is), and how many wait."""
    return {"events": ws.events - 1, "decided_through": ws.decided - 1, "pending": ws.pending}
