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
(`digests`), and an event is never decided before one that arrived earlier about the same counterparty. Where
deciders share a workspace (PostgreSQL), an ingest that decides at once stores its events as waiting ones and
then decides them in their buckets (`decide_own`), as a decider would.

Settling runs `CHUNK` events a transaction. A read settles as a decider does first (below), then, for what
other transactions held, under the workspace's write lock (SQLite's one writer, PostgreSQL's advisory lock per
workspace), which waits for them: so it has everything that waited decided before it reads. Deciders
(`share_out`: `firmly decide`, each server's background thread, an append past half the backlog) share the
workspace instead (`Store.deciding`, the lock taken shared): each takes the buckets of counterparties
(domain/buckets.py) its chunk touches (`Store.claim_buckets`, a lock per bucket), as subject or as partner, and
decides only their events, so two deciders work at once on one workspace, each event decided once, and every
counterparty's events in the order they arrived. Appends share the workspace the same way: acknowledging never
waits for deciding.

Processes that only decide (`firmly decide`, `decide_all`) visit the workspaces with events waiting; each holds a
lease (`Store.deciders_alive`, renewed as it goes) and looks first at its share of the buckets among the live
deciders, then at any bucket nobody is at, so a decider that dies leaves nothing waiting for long.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import replace

from firmly.domain.buckets import bucket_of, share
from firmly.domain.engine import CounterpartyState
from firmly.domain.errors import Backlog
from firmly.domain.events import Event
from firmly.domain.ports import Store, WorkspaceInfo
from firmly.service import workspace
from firmly.service.deciding import decide

CHUNK = 2_000  # events decided per transaction: a read's settling waits at most about this long for deciders
BACKLOG = 200_000  # events that may wait to be decided in one workspace (FIRMLY_ASYNC_BACKLOG)
RATE = 5_000  # events decided per second, about, on a small server: what Retry-After is guessed from
LEASE = 15_000_000  # µs: a decider not heard from for this long has left, and its share goes to the others


def settle(store: Store, budget: int | None = None) -> int:
    """Decide the waiting events, a transaction per `CHUNK`, all of them or until `budget` are; returns how
    many were. First as a decider does, sharing the workspace (appends and deciders go on meanwhile); then, for
    the events of buckets other transactions held, taking it whole, which waits for them."""
    done = share_out(store, None, budget)
    while budget is None or done < budget:
        with store.write():
            decided = decide_waiting(store, CHUNK)
        if not decided:
            break
        done += decided
    return done


def share_out(store: Store, mine: Collection[int] | None = None, budget: int | None = None) -> int:
    """Decide the waiting events of the buckets `mine` (None: any), sharing the workspace with other deciders
    and appends, a transaction per `CHUNK`, until none of them that this process can take waits, or `budget`
    are decided; returns how many were."""
    done = 0
    while budget is None or done < budget:
        with store.deciding():
            decided = decide_waiting(store, CHUNK, mine, shared=True)
        if not decided:
            break
        done += decided
    return done


def decide_all(store_for: Callable[[str], Store], stopping: Callable[[], bool] = lambda: False,
               holder: str | None = None, now: Callable[[], int] | None = None) -> tuple[int, int]:
    """Decide what waits in every workspace, a chunk of each in turn, until none waits or `stopping()` says so
    (checked between chunks: the chunk in hand is finished). `holder`: this decider's name, for its lease (and
    `now`, the real time in µs, to renew it by): it looks at its share of the buckets first. Returns (events
    decided, workspaces visited)."""
    done, seen = 0, set[str]()
    while not stopping():
        lister = store_for("")
        with lister.write():
            mine = share(lister.deciders_alive(holder, now(), LEASE), holder) if holder and now else None
            names = lister.waiting_workspaces()
        decided = 0
        for name in names:
            if stopping():
                break
            store = store_for(name)
            got = share_out(store, mine, CHUNK)
            if not got and mine is not None:
                got = share_out(store, None, CHUNK)  # the others' buckets, where none of them is at work
            decided += got
            seen.add(name)
        if not decided:  # nothing waits (or what waits is in other deciders' hands)
            break
        done += decided
    return done, len(seen)


def leave(store_for: Callable[[str], Store], holder: str) -> None:
    """A decider's lease given up as it stops: its share goes to the others at once."""
    lister = store_for("")
    with lister.write():
        lister.decider_leaves(holder)


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


def decide_own(store: Store, new: list[Event], wall: int) -> Counter[str]:
    """After a synchronous post stored `new` as waiting ones (`Store.stage_events`, committed, one batch that
    arrived at `wall`): decide them, sharing the workspace. Its buckets are waited for (taken in one order by
    everyone who waits: no two wait for each other); what waited before them there is decided first, a
    transaction per `CHUNK`, then they are, from memory, in one transaction, with the buckets of the partners
    they touch (waited for in a next transaction if another holds one). Returns the decisions written, by the
    event that caused each; for events another process decided first (a decider between the two transactions),
    the decisions that name them."""
    left = {ev.seq: ev for ev in new}
    gone: list[Event] = []
    buckets = {bucket_of(key) for ev in new for key in (ev.counterparty, ev.partner) if key is not None}
    caused: Counter[str] = Counter()
    while left:
        with store.deciding():
            store.claim_buckets(buckets, wait=True)
            waiting = store.waiting_among(left)
            gone += [left.pop(seq) for seq in sorted(set(left) - waiting)]
            if left:
                buckets |= _decide_mine(store, left, buckets, wall, caused)
    if gone:
        keys = {ev.counterparty for ev in gone} | {ev.partner for ev in gone if ev.partner is not None}
        ids = {ev.id for ev in gone}
        with store.read():
            caused.update(fact[8] for fact in store.decision_facts(keys, texts=True).values() if fact[8] in ids)
    return caused


def _decide_mine(store: Store, left: dict[int, Event], buckets: set[int], wall: int, caused: Counter[str]
                 ) -> set[int]:
    """Inside a transaction holding `buckets`: what waits there before the events `left`, or else these (taken
    out of `left` once decided). Returns the partners' buckets another transaction held, to wait for next."""
    older = store.staged_events(1, buckets)
    if older and older[0][0].seq < min(left):  # decided as a decider would, with their partners' buckets
        if not decide_waiting(store, CHUNK, buckets, shared=True, ours=left, caused=caused):
            waiting = [ev for ev, _, _ in store.staged_events(CHUNK, buckets)]
            more = {bucket_of(p) for named in _partners(store, waiting).values() for p in named} - buckets
            if not more:  # nothing decided though every bucket it needs is held: a fault, not a wait
                raise RuntimeError(f"events waiting in workspace {store.workspace!r} could not be decided")
            return more
        return set()
    events = sorted(left.values(), key=lambda ev: ev.seq)
    states = store.load_states({ev.counterparty for ev in events})  # read once: for the partners and the fold
    more = {bucket_of(p) for st in states.values() if st.booked for p in st.booked.values()} - buckets
    if more and store.claim_buckets(more) != more:  # (every partner a client is booked into: a few too many)
        return more
    made, clock = decide(store, workspace.current(store), events, wall, store.admit_events, states)
    store.raise_clock(clock)
    caused.update(made)
    left.clear()
    return set()


def decide_waiting(store: Store, limit: int, mine: Collection[int] | None = None, shared: bool = False,
                   ours: dict[int, Event] | None = None, caused: Counter[str] | None = None) -> int:
    """Inside a write transaction: decide the oldest waiting events (of the buckets `mine`, if given), up to
    `limit`, batch by batch, each batch whole (which events of a batch are decided together changes what a visit
    is attributed to, so a batch is never cut, even when it alone is over the limit). `shared`: the transaction
    shares the workspace (`Store.deciding`), so only the events of the buckets it can take are decided, the
    others left waiting. Returns how many were decided. `ours`: a request's events by arrival number, those
    decided here taken out of it, their decisions counted into `caused` by the event that caused each."""
    ws = workspace.current(store)
    if not ws.pending:
        return 0
    if shared:  # the buckets of the oldest waiting events, taken; then their events read, now they are ours
        mine = store.claim_buckets(store.waiting_buckets(limit, mine))  # (another may decide some meanwhile)
        if not mine:
            return 0
    while True:  # one more than the limit read: it says whether the limit falls between two batches
        waiting = store.staged_events(limit + 1, mine)
        full = len(waiting) > limit
        if not full or waiting[0][1] != waiting[-1][1]:
            break
        limit *= 2  # one batch alone over the limit: it is decided whole all the same, as at once
    if full and waiting[limit - 1][1] != waiting[limit][1]:
        waiting = waiting[:limit]
    elif full:  # the last batch goes on past the limit: whole, in the next transaction
        waiting = [item for item in waiting if item[1] != waiting[-1][1]]
    read = _Read()
    if shared and mine is not None:
        waiting = _partnered(store, waiting, set(mine), read)
    return _decide_batches(store, ws, waiting, ours, caused, read)


def _decide_batches(store: Store, ws: WorkspaceInfo, waiting: list[tuple[Event, int, int]],
                    ours: dict[int, Event] | None, caused: Counter[str] | None, read: _Read) -> int:
    """The waiting events decided a batch at a time, by the wall clock each batch arrived at; the engine clock
    raised once, at the end (the workspace's row is locked from then to the commit). `read`: states read in this
    transaction already."""
    batches: list[tuple[int, list[Event]]] = []
    last = None
    for ev, batch, arrived in waiting:
        if batch != last:
            batches.append((arrived, []))
            last = batch
        batches[-1][1].append(ev)
    done = 0
    for arrived, events in batches:
        made, clock = decide(store, ws, events, arrived, store.admit_events, read.states_of(store, events))
        read.spent(events)
        ws = replace(ws, clock=clock)
        done += len(events)
        if ours is not None and events[0].seq in ours:  # a batch is one request's (or one group's) events
            for ev in events:
                del ours[ev.seq]
            if caused is not None:
                caused.update(made)
    if done and ws.clock is not None:
        store.raise_clock(ws.clock)
    return done


def _partnered(store: Store, waiting: list[tuple[Event, int, int]], taken: set[int], read: _Read
               ) -> list[tuple[Event, int, int]]:
    """Of the waiting events of the buckets taken, those this transaction may decide: those whose partners'
    buckets (of partners they may be booked into) it takes too. A bucket's events stop at the first batch with
    one it cannot decide: that batch's and the later ones wait, in order (a client's events of one batch are
    decided together)."""
    partners = _partners(store, [ev for ev, _, _ in waiting], read)
    more = {bucket_of(p) for named in partners.values() for p in named} - taken
    if more:
        taken |= store.claim_buckets(more)
    stopped: dict[int, int] = {}  # bucket -> the first batch of it that waits
    for ev, batch, _ in waiting:
        bucket = bucket_of(ev.counterparty)
        if bucket not in stopped and any(bucket_of(p) not in taken for p in partners.get(ev.counterparty, ())):
            stopped[bucket] = batch
    return [item for item in waiting if (bucket := bucket_of(item[0].counterparty)) in taken
            and item[1] < stopped.get(bucket, item[1] + 1)]


def _partners(store: Store, events: list[Event], read: _Read | None = None) -> dict[str, set[str]]:
    """Each client's partners these events may touch: those they name, and, for an event about an appointment
    that names none, every partner the client has a booking with (`deciding` names the one, as it decides). The
    states read for it are kept in `read`, for deciding."""
    found: dict[str, set[str]] = {}
    unnamed = set[str]()
    for ev in events:
        if ev.partner is not None:
            found.setdefault(ev.counterparty, set()).add(ev.partner)
        elif "appointment" in ev.data:
            unnamed.add(ev.counterparty)
    states = store.load_states(unnamed) if unnamed else {}
    if read is not None:
        read.keep(unnamed, states)
    for key, st in states.items():
        if st.booked:
            found.setdefault(key, set()).update(st.booked.values())
    return found


class _Read:
    """States read in this transaction and not changed since (those of the keys looked up and not found are new):
    deciding takes them rather than reading them again. Safe while the transaction holds their buckets."""

    def __init__(self) -> None:
        self.states: dict[str, CounterpartyState] = {}
        self.looked = set[str]()

    def keep(self, looked: Collection[str], states: dict[str, CounterpartyState]) -> None:
        self.looked.update(looked)
        self.states.update(states)

    def states_of(self, store: Store, events: list[Event]) -> dict[str, CounterpartyState]:
        """The states of these events' counterparties, read where not read already."""
        clients = {ev.counterparty for ev in events}
        have = {key: self.states[key] for key in clients & self.states.keys()}  # (each of them looked up)
        have.update(store.load_states(clients - self.looked))
        return have

    def spent(self, events: list[Event]) -> None:
        """These events are decided: the states they touched (counterparties and partners) read again next."""
        if self.looked:
            touched = {ev.counterparty for ev in events} | {ev.partner for ev in events if ev.partner is not None}
            self.looked -= touched
            for key in touched & self.states.keys():
                del self.states[key]


def admit(store: Store, ws: WorkspaceInfo, new: list[Event], arrived: int, bound: int) -> None:
    """Inside a write transaction: acknowledge `new` without deciding them, unless events wait already and more
    than `bound` would then (Backlog, nothing stored). Past half the bound, the request first decides a chunk of the
    waiting events, so that a backlog stops growing while senders outpace deciding: appends wait for it."""
    if ws.pending and ws.pending + len(new) > bound:  # (into an empty backlog any request fits)
        wait = max(1, min(60, math.ceil(ws.pending / RATE)))
        raise Backlog(f"{ws.pending} events wait to be decided in workspace {store.workspace!r}, and at most "
                      f"{bound} may: nothing of these {len(new)} was stored; send them again in {wait} s", wait)
    if ws.pending > bound // 2:
        decide_waiting(store, CHUNK, shared=True)
    store.stage_events(new, arrived)


def progress(ws: WorkspaceInfo) -> dict[str, int]:
    """How far deciding has come: the arrival number of the last event taken and of the last decided (every
    event up to it is), and how many wait."""
    return {"events": ws.events - 1, "decided_through": ws.decided - 1, "pending": ws.pending}
