"""Group commit: a writer thread stores the ingest requests that wait as few transactions.

A database has one writer at a time, and each transaction costs about a millisecond before any event in it
(begin, the workspace row, the rulebooks, the commit). Requests that queue for the writer one by one pay that
each; taken together they pay it once, so a busy server answers sooner instead of later. Each request still
gets exactly its own results, as if it had been stored alone: events later in a group see those before them
(a retry of an event in the same group is a `duplicate`), and a group that fails is stored again request by
request, so one request's failure is never another's.

On PostgreSQL each workspace has a writer of its own (its transactions hold its own advisory lock), so
another workspace's request never waits for its transaction. Where one writer serves every workspace (SQLite,
one writer per database; the memory store), the workspaces with requests waiting take turns, a transaction
each.

A request larger than a transaction (`max_events`) is stored in slices. It is answered once its last slice is
stored (its results, in order, are its slices' results one after another); should a slice fail, it gets the error
and its remaining slices are not stored: the slices before it are, and sending the request again completes it
(events are idempotent by id: those stored come back as `duplicate`). A crash loses at most the slice in flight.

A request may ask to be answered once its events are stored, before they are decided (`later`, the API's
`Prefer: respond-async`): it shares transactions only with requests that ask the same. Its events are decided
by a settler thread right after (`settle.settle`, a chunk a transaction, taking turns with the writer on the
workspace's write lock), or by whichever read of the workspace comes first.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from firmly.domain.ports import Store
from firmly.service import ingest, settle
from firmly.service.ingest import IngestReport, Parsed, Rejection

# Per transaction: a crash loses at most the transaction in flight. Not smaller, though a smaller one would
# bound what another workspace waits for on SQLite: a request cut in slices is decided slice by slice, and an
# event dated before one of an earlier slice then refolds its counterparty, where stored as one it would not;
# the decisions come out the same, but the superseded ones stored on the way and the counts told differ.
MAX_EVENTS = 20_000
log = logging.getLogger("firmly.settle")


@dataclass(slots=True, eq=False)
class _Request:
    store: Store
    parsed: list[Parsed]
    later: bool = False  # answered once stored; decided after (`settle`)
    done: Future[IngestReport] = field(default_factory=Future)
    taken: int = 0  # items handed to the writer so far
    started: bool = False
    failed: bool = False
    report: IngestReport | None = None  # its slices' reports so far, merged


@dataclass(slots=True)
class _Slice:
    request: _Request
    parsed: list[Parsed]
    last: bool  # the request's last slice: its answer is due once this one is stored


def _where(store: Store) -> tuple[int, str]:
    """Which database and workspace a request writes to: requests to one of them can share a transaction."""
    return id(store.database), store.workspace


def _lane(store: Store) -> tuple[int, str] | None:
    """Which writer thread stores a request. PostgreSQL writes each workspace under a lock of its own, so each
    workspace gets its own writer there and never waits for another's transaction; SQLite has one writer per
    database anyway (and the memory store none of its own), so elsewhere one writer serves them all."""
    return _where(store) if store.parallel_workspaces else None


@dataclass(slots=True, eq=False)
class _Writer:
    queue: queue.SimpleQueue[_Request | None]
    thread: threading.Thread


class GroupCommit:
    """`submit` queues a request and returns at once; a writer thread starts with the first request.
    `backlog`: how many events may wait to be decided in a workspace (`later` requests past it fail, Backlog);
    `opener`: a store of a workspace, of its own, for the settler thread (None: no settler, reads settle)."""

    def __init__(self, max_events: int = MAX_EVENTS, backlog: int = settle.BACKLOG,
                 opener: Callable[[str], Store] | None = None) -> None:
        self.max_events = max_events
        self.backlog = backlog
        self._writers: dict[tuple[int, str] | None, _Writer] = {}
        self._lock = threading.Lock()
        self._counting = threading.Lock()
        self.groups = 0  # transactions written, for the metrics: requests / groups is how much was shared
        self._settler = _Settler(opener) if opener is not None else None

    def submit(self, store: Store, parsed: list[Parsed], later: bool = False) -> Future[IngestReport]:
        request = _Request(store, parsed, later)
        lane = _lane(store)
        with self._lock:  # queued under the lock, so that a close() meanwhile stops the writer after it
            writer = self._writers.get(lane)
            if writer is None:
                waiting: queue.SimpleQueue[_Request | None] = queue.SimpleQueue()
                thread = threading.Thread(target=self._run, args=(waiting,), name="firmly-writer", daemon=True)
                writer = self._writers[lane] = _Writer(waiting, thread)
                thread.start()
            writer.queue.put(request)
        return request.done

    def close(self) -> None:
        """Store what is queued, then stop the writers (a later submit starts another)."""
        with self._lock:
            writers, self._writers = list(self._writers.values()), {}
            for writer in writers:
                writer.queue.put(None)
        for writer in writers:
            writer.thread.join()
        if self._settler is not None:
            self._settler.close()

    def _run(self, arriving: queue.SimpleQueue[_Request | None]) -> None:
        # Per workspace, its requests in arrival order; the workspaces in the order of their turns
        waiting: dict[tuple[int, str], deque[_Request]] = {}
        stop = False
        while True:
            if not waiting:
                if stop:
                    return
                first = arriving.get()
                if first is None:
                    return
                waiting.setdefault(_where(first.store), deque()).append(first)
            while not stop:  # whatever else is queued by now (never past a close(): what follows is the next writer's)
                try:
                    more = arriving.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                else:
                    waiting.setdefault(_where(more.store), deque()).append(more)
            where = next(iter(waiting))
            requests = waiting.pop(where)
            group = self._take(requests, self.max_events)
            if requests:
                waiting[where] = requests  # its next slice after the other workspaces' turns
            if group:
                self._write(group)

    def _write(self, group: list[_Slice]) -> None:
        """Store a group, the settler told meanwhile that the writer is busy."""
        settler = self._settler
        if settler is not None:
            settler.busy(1)
        try:
            self._store(group)
        except Exception as exc:  # the writer must outlive any one group
            for part in group:
                self._fail(part.request, exc)
        finally:
            if settler is not None:
                settler.busy(-1)

    def _take(self, requests: deque[_Request], limit: int) -> list[_Slice]:
        """One workspace's next transaction: its waiting requests' next items, up to `limit`."""
        group: list[_Slice] = []
        size = 0
        while requests and size < limit:
            request = requests[0]
            if group and request.later != group[0].request.later:
                break  # acknowledged only, or decided too: one transaction does one or the other
            if request.failed or (not request.started and not request.done.set_running_or_notify_cancel()):
                requests.popleft()  # cancelled while queued, or a slice of it failed: the rest is not stored
                continue
            request.started = True
            items = request.parsed[request.taken:request.taken + limit - size]
            request.taken += len(items)
            size += len(items)
            last = request.taken >= len(request.parsed)
            group.append(_Slice(request, items, last))
            if last:
                requests.popleft()
        return group

    def _store(self, group: list[_Slice]) -> None:
        first = group[0].request
        try:
            if not first.later:  # what waits is decided first: a chunk a transaction, not all in this group's
                settle.settled(first.store)
            report = ingest.ingest(first.store, [item for part in group for item in part.parsed],
                                   detailed=True, later=first.later, backlog=self.backlog)
        except Exception as exc:  # handed to the requests that wait for it
            if len(group) == 1:
                self._fail(group[0].request, exc)
                return
            for part in group:  # alone, so that a failure is only its own request's
                if not part.request.failed:
                    self._store([part])
            return
        with self._counting:
            self.groups += 1
        if first.later and report.stored and self._settler is not None:
            self._settler.wake(first.store.workspace)
        for part, own in zip(group, split(report, [p.parsed for p in group]), strict=True):
            request = part.request
            whole = own if request.report is None else _merged(request.report, own)
            if part.last:
                request.done.set_result(whole)
            else:
                request.report = whole

    @staticmethod
    def _fail(request: _Request, exc: Exception) -> None:
        request.failed = True
        if not request.done.done():
            request.done.set_exception(exc)


def _merged(before: IngestReport, after: IngestReport) -> IngestReport:
    """A request's report over two slices: the second's results follow the first's."""
    return IngestReport(stored=before.stored + after.stored, duplicates=before.duplicates + after.duplicates,
                        decisions=before.decisions + after.decisions, rejected=before.rejected + after.rejected,
                        results=(before.results or []) + (after.results or []),
                        through=max(before.through, after.through))


def split(report: IngestReport, requests: list[list[Parsed]]) -> list[IngestReport]:
    """One group's report as one report per request (given as the items each sent). Results come in input
    order, one per item. A decision counts for the request whose event caused it; one caused by no event
    stored by the group (a timer the clock passed) counts for the request that
    holds the group's latest event."""
    results = report.results or []
    caused = report.caused or Counter()
    bounds = [0]
    for parsed in requests:
        bounds.append(bounds[-1] + len(parsed))
    mine = [results[bounds[i]:bounds[i + 1]] for i in range(len(requests))]
    latest = max(range(len(requests)), key=lambda i: max(  # of the events taken (a refused one may be far ahead)
        (item.at for (_, _, item), r in zip(requests[i], mine[i], strict=True)
         if not isinstance(item, Rejection) and r["status"] != "rejected"), default=-(2**62)))
    stored = [[r["id"] for r in part if r["status"] == "stored"] for part in mine]
    claimed = [sum(caused[event] for event in ids) for ids in stored]
    unclaimed = report.decisions - sum(claimed)
    return [IngestReport(stored=len(stored[i]), duplicates=sum(r["status"] == "duplicate" for r in part),
                         decisions=claimed[i] + (unclaimed if i == latest else 0),
                         rejected=[_rejection(parsed, r) for parsed, r in zip(requests[i], part, strict=True)
                                   if r["status"] == "rejected"],
                         results=part, through=report.through)
            for i, part in enumerate(mine)]


def _rejection(parsed: Parsed, result: dict[str, Any]) -> Rejection:
    where, line, item = parsed
    return item if isinstance(item, Rejection) else Rejection(where, line, result["id"], result["field"],
                                                              result["reason"])


QUIET = 0.1  # seconds without a transaction of this process's writers before the settler takes the write lock
PATIENCE = 2.0  # seconds the settler waits for such a pause at most: then it decides a chunk whatever comes


class _Settler:
    """One thread that decides what the workspaces of this process acknowledged, as soon as it can: a chunk at
    a time, each once the writers have paused for `QUIET` (acknowledging comes first: it is what senders wait
    for), or after `PATIENCE` without a pause, so that deciding keeps going under any load (and a backlog
    past half of its bound is decided by the appends themselves, see `settle.admit`)."""

    def __init__(self, opener: Callable[[str], Store]) -> None:
        self.opener = opener
        self.written = 0.0  # when this process's writers last stored a group (time.monotonic)
        self.writing = 0  # groups being stored now (a writer per workspace on PostgreSQL: one count for all)
        self._due: dict[str, None] = {}  # workspaces to settle, in the order they were woken for
        self._lock = threading.Lock()
        self._woken = threading.Event()
        self._thread: threading.Thread | None = None
        self._closing = False

    def wake(self, workspace: str) -> None:
        with self._lock:
            self._due[workspace] = None
            if self._thread is None:
                self._closing = False
                self._thread = threading.Thread(target=self._run, name="firmly-settler", daemon=True)
                self._thread.start()
        self._woken.set()

    def busy(self, change: int) -> None:
        """A writer starts (1) or ends (-1) storing a group."""
        with self._lock:
            self.writing += change
            self.written = time.monotonic()

    def _pause(self) -> None:
        """Until the writer pauses, or PATIENCE is up."""
        deadline = time.monotonic() + PATIENCE
        while not self._closing and (now := time.monotonic()) < deadline and (
                self.writing or now - self.written < QUIET):
            time.sleep(QUIET / 5)

    def close(self) -> None:
        """Stop after the chunk in hand (what is left waits for the next read or server)."""
        with self._lock:
            thread, self._thread = self._thread, None
            self._closing = True
        self._woken.set()
        if thread is not None:
            thread.join()

    def _run(self) -> None:
        while not self._closing:
            self._woken.wait()
            self._woken.clear()
            while not self._closing:
                with self._lock:
                    if not self._due:
                        break
                    workspace = next(iter(self._due))
                    del self._due[workspace]
                try:
                    store = self.opener(workspace)
                    while not self._closing:
                        self._pause()
                        if not settle.share_out(store, None, settle.CHUNK):
                            break
                except Exception:  # the thread outlives any failure: the next read settles, and says why
                    log.exception("firmly: deciding the events waiting in workspace %r failed", workspace)
