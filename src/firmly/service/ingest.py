"""Ingest: decode, validate, store (the id is the idempotency key), decide (at once, or later: `settle`),
store decisions."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from firmly.domain.errors import Collided, ValueRefused
from firmly.domain.events import Event
from firmly.domain.ports import Store
from firmly.service import future, settle, tone, wallclock, workspace
from firmly.service.deciding import decide
from firmly.service.event_files import delimiter, parsed, pieces, read_file, split_array
from firmly.service.ingest_results import IngestReport, Parsed, Rejection

__all__ = ["CHUNK", "IngestReport", "Parsed", "Rejection", "delimiter", "ingest", "parsed", "pieces", "read_file",
           "split_array"]

CHUNK = 50_000  # events per transaction: a crash loses at most the chunk in flight, and a re-run is a no-op


def ingest(store: Store, parsed: Iterable[Parsed], progress: Callable[[int], None] | None = None,
           detailed: bool = False, now: int | None = None, later: bool = False,
           backlog: int = settle.BACKLOG, alone: bool = False) -> IngestReport:
    """Store and decide; `detailed` adds each event's own result (stored, duplicate, rejected). `now`: the wall
    clock the events arrive at (default: the installed one, read as each chunk arrives). `later`: store only,
    and leave the deciding to `settle.settle` (the answer's `through` says which arrival number the events are
    decided at); should more than `backlog` events then wait to be decided, nothing is stored (Backlog).
    `alone`: deciding at once, take the workspace whole for each chunk even where deciders share it (a bulk import
    from the command line: one transaction a chunk and each event written once, where sharing costs a second
    transaction and a second write, measured 20% of `firmly ingest` on PostgreSQL)."""
    report = IngestReport(results=[], caused=Counter()) if detailed else IngestReport()
    return _ingest(store, parsed, progress, report, now, backlog if later else None, alone)


def _ingest(store: Store, parsed: Iterable[Parsed], progress: Callable[[int], None] | None,
            report: IngestReport, now: int | None, bound: int | None, alone: bool) -> IngestReport:
    batch: list[Parsed] = []
    for item in parsed:
        batch.append(item)
        if len(batch) >= CHUNK:
            _store_chunk(store, batch, report, now, bound, alone)
            if progress:
                progress(len(batch))
            batch = []
    if batch:
        _store_chunk(store, batch, report, now, bound, alone)
        if progress:
            progress(len(batch))
    return report


def _store_chunk(store: Store, batch: list[Parsed], report: IngestReport, now: int | None,
                 bound: int | None, alone: bool) -> None:
    """One chunk in one transaction. Should the database refuse a value the door let through, the chunk is
    stored again in halves down to the event at fault, which is rejected alone: its neighbours are kept. Any
    other failure (the database away or busy) stops the ingest and names the lines of the chunk."""
    mark = (report.stored, report.duplicates, report.decisions, len(report.rejected),
            len(report.results) if report.results is not None else 0,
            Counter(report.caused) if report.caused is not None else None)
    try:
        for attempt in range(3):
            try:
                _ingest_chunk(store, batch, report, now, bound, alone)
                break
            except Collided:  # another append stored one of these events just now: it is a duplicate, told so
                if attempt == 2:
                    raise
                _restore(report, mark)
    except Exception as exc:
        _restore(report, mark)
        if not _refused_value(exc):
            exc.add_note(f"while storing {_lines(batch)}; what came before is stored, and ingesting the same "
                         "input again skips it as duplicates")
            raise
        if len(batch) > 1:
            half = len(batch) // 2
            _store_chunk(store, batch[:half], report, now, bound, alone)
            _store_chunk(store, batch[half:], report, now, bound, alone)
            return
        name, line, item = batch[0]
        event = item.id if isinstance(item, Event) else None
        cause = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        rejection = Rejection(name, line, event, "event", f"the database refused a value of it ({cause})")
        report.rejected.append(rejection)
        if report.results is not None:
            report.results.append({"id": event, "status": "rejected", "code": "invalid", "field": "event",
                                   "reason": rejection.message})


def _restore(report: IngestReport, mark: tuple[Any, ...]) -> None:
    """The report as it was before a chunk whose transaction failed."""
    report.stored, report.duplicates, report.decisions = mark[0], mark[1], mark[2]
    del report.rejected[mark[3]:]
    if report.results is not None:
        del report.results[mark[4]:]
    report.caused = mark[5]


def _refused_value(exc: BaseException) -> bool:
    """A database's refusal of a value (too long, out of range), not of the request."""
    return isinstance(exc, OverflowError | ValueRefused)


def _lines(batch: list[Parsed]) -> str:
    """ "events.jsonl lines 1-50000": where a chunk came from, file by file."""
    spans: dict[str, list[int]] = {}
    for name, line, _ in batch:
        span = spans.setdefault(name, [line, line])
        span[0], span[1] = min(span[0], line), max(span[1], line)
    return " and ".join(f"{name} lines {first}-{last}" if first != last else f"{name} line {first}"
                        for name, (first, last) in spans.items())


def _in_time(batch: list[Parsed], now: int) -> list[Parsed]:
    """The batch with each event dated beyond the horizon turned into its Rejection, in its place."""
    horizon = wallclock.horizon()
    limit = now + horizon
    if not any(isinstance(item, Event) and item.at > limit for _, _, item in batch):
        return batch
    out: list[Parsed] = []
    for name, line, item in batch:
        if isinstance(item, Event) and item.at > limit:
            out.append((name, line, Rejection(name, line, item.id, "occurred_at",
                                              future.refusal(item.at - now, horizon))))
        else:
            out.append((name, line, item))
    return out


def _ingest_chunk(store: Store, batch: list[Parsed], report: IngestReport, now: int | None,
                  bound: int | None, alone: bool) -> None:
    wall = wallclock.now() if now is None else now
    batch = _in_time(batch, wall)
    if bound is None and not alone and store.parallel_workspaces:
        _stored_then_decided(store, batch, report, wall)
        return
    # Acknowledging shares the workspace with deciders and other appends (`deciding`); deciding at once takes it
    with store.deciding() if bound is not None else store.write():
        # Deciding at once: what waits is decided first (an event never overtakes one acknowledged before it)
        ws = workspace.current(store, count=True) if bound is not None else settle.caught_up(store)
        new = _new(store, batch, report)
        if new:
            tone.attach(new)  # stored with the event; replay renews it under changed lexicons
            if bound is not None:
                settle.admit(store, ws, new, wall, bound)
            else:
                caused, clock = decide(store, ws, new, wall, store.append_events)
                store.raise_clock(clock)
                report.decisions += caused.total()
                if report.caused is not None:
                    report.caused.update(caused)
            report.stored += len(new)
        report.through = max(report.through, new[-1].seq if new else ws.events - 1)


def _stored_then_decided(store: Store, batch: list[Parsed], report: IngestReport, wall: int) -> None:
    """Deciding at once where deciders share a workspace (PostgreSQL): the events are stored as acknowledged ones
    are, sharing the workspace, then decided bucket by bucket with what waited before them in their buckets
    (`settle.decide_own`), so synchronous posts to one workspace go on side by side, and beside the deciders,
    wherever their counterparties differ. Should deciding fail, the events are stored and wait: the next read,
    or a decider, decides them, and sending them again tells them as duplicates."""
    with store.deciding():
        ws = workspace.current(store)
        new = _new(store, batch, report)
        if new:
            tone.attach(new)
            store.stage_events(new, wall)
    report.stored += len(new)
    report.through = max(report.through, new[-1].seq if new else ws.events - 1)
    if new:
        caused = settle.decide_own(store, new, wall)
        report.decisions += caused.total()
        if report.caused is not None:
            report.caused.update(caused)


def _new(store: Store, batch: list[Parsed], report: IngestReport) -> list[Event]:
    """The batch's events not stored before, in order; the others counted and told as duplicates or
    rejected (an id stored with other content)."""
    results = report.results
    candidates = [(name, line, item) for name, line, item in batch if isinstance(item, Event)]
    report.rejected.extend(item for _, _, item in batch if isinstance(item, Rejection))
    known = store.digests({ev.id for _, _, ev in candidates})
    new: list[Event] = []
    for name, line, item in batch:
        if isinstance(item, Rejection):
            if results is not None:
                results.append({"id": item.event, "status": "rejected", "code": "invalid", "field": item.field,
                                "reason": item.message})
            continue
        ev = item
        seen = known.get(ev.id)
        if seen is None:
            known[ev.id] = ev.digest
            new.append(ev)
            status = "stored"
        elif seen == ev.digest:
            report.duplicates += 1
            status = "duplicate"
        else:
            rejection = Rejection(
                name, line, ev.id, "id",
                f"event {ev.id!r} is already stored with other content; events are never edited, "
                "so send a correction as a new event with its own id")
            report.rejected.append(rejection)
            if results is not None:
                results.append({"id": ev.id, "status": "rejected", "code": "conflict", "field": "id",
                                "reason": rejection.message})
            continue
        if results is not None:
            results.append({"id": ev.id, "status": status})
    return new
