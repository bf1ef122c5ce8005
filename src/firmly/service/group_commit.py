"""Group commit: one writer thread per process stores every ingest request that is waiting as one transaction.

A database has one writer at a time, and each transaction costs about a millisecond before any event in it
(begin, the workspace row, the rulebooks, the commit). Requests that queue for the writer one by one pay that
each; taken together they pay it once, so a busy server answers sooner instead of later. Each request still
gets exactly its own results, as if it had been stored alone: events later in a group see those before them
(a retry of an event in the same group is a `duplicate`), and a group that fails is stored again request by
request, so one request's failure is never another's.
"""

from __future__ import annotations

import queue
import threading
from collections import Counter
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from firmly.domain.ports import Store
from firmly.service import ingest
from firmly.service.ingest import IngestReport, Parsed, Rejection

MAX_EVENTS = 20_000  # per group: a group is one transaction, and a crash loses at most the group in flight


@dataclass(slots=True)
class _Request:
    store: Store
    parsed: list[Parsed]
    done: Future[IngestReport] = field(default_factory=Future)


class GroupCommit:
    """`submit` queues a request and returns at once; the writer thread starts with the first request."""

    def __init__(self, max_events: int = MAX_EVENTS) -> None:
        self.max_events = max_events
        self._queue: queue.SimpleQueue[_Request | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.groups = 0  # transactions written, for the metrics: requests / groups is how much was shared

    def submit(self, store: Store, parsed: list[Parsed]) -> Future[IngestReport]:
        request = _Request(store, parsed)
        with self._lock:  # queued under the lock, so that a close() meanwhile stops the writer after it
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="firmly-writer", daemon=True)
                self._thread.start()
            self._queue.put(request)
        return request.done

    def close(self) -> None:
        """Store what is queued, then stop the writer (a later submit starts another)."""
        with self._lock:
            thread, self._thread = self._thread, None
            if thread is not None:
                self._queue.put(None)
        if thread is not None:
            thread.join()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            group, size, stop = [first], len(first.parsed), False
            while size < self.max_events:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                group.append(more)
                size += len(more.parsed)
            by_workspace: dict[tuple[int, str], list[_Request]] = {}
            for request in group:
                where = (id(getattr(request.store, "engine", request.store)), request.store.workspace)
                by_workspace.setdefault(where, []).append(request)
            for requests in by_workspace.values():
                try:
                    self._store(requests)
                except Exception as exc:  # the writer must outlive any one group
                    for request in requests:
                        if not request.done.done():
                            request.done.set_exception(exc)
            if stop:
                return

    def _store(self, requests: list[_Request]) -> None:
        live = [r for r in requests if r.done.set_running_or_notify_cancel()]
        if live:
            self._write(live)

    def _write(self, live: list[_Request]) -> None:
        try:
            report = ingest.ingest(live[0].store, [item for r in live for item in r.parsed], detailed=True)
        except Exception as exc:  # handed to the requests that wait for it
            if len(live) == 1:
                live[0].done.set_exception(exc)
                return
            for request in live:  # alone, so that a failure is only its own request's
                self._write([request])
            return
        self.groups += 1
        for request, own in zip(live, split(report, [r.parsed for r in live]), strict=True):
            request.done.set_result(own)


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
                         results=part)
            for i, part in enumerate(mine)]


def _rejection(parsed: Parsed, result: dict[str, Any]) -> Rejection:
    where, line, item = parsed
    return item if isinstance(item, Rejection) else Rejection(where, line, result["id"], result["field"],
                                                              result["reason"])
