"""Ingest: decode, validate, store (the id is the idempotency key), decide, store decisions."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable

from firmly.domain.engine import CounterpartyState, Engine, attribute
from firmly.domain.errors import ValueRefused
from firmly.domain.events import Event
from firmly.domain.ports import Store
from firmly.service import future, tone, wallclock, workspace
from firmly.service.event_files import delimiter, parsed, pieces, read_file, split_array
from firmly.service.ingest_results import IngestReport, Parsed, Rejection
from firmly.service.policy import load_policy
from firmly.service.process import process

__all__ = ["CHUNK", "IngestReport", "Parsed", "Rejection", "delimiter", "ingest", "parsed", "pieces", "read_file",
           "split_array"]

CHUNK = 50_000  # events per transaction: a crash loses at most the chunk in flight, and a re-run is a no-op


def ingest(store: Store, parsed: Iterable[Parsed], progress: Callable[[int], None] | None = None,
           detailed: bool = False, now: int | None = None) -> IngestReport:
    """Store and decide; `detailed` adds each event's own result (stored, duplicate, rejected). `now`: the wall
    clock the events arrive at (default: the installed one, read as each chunk arrives)."""
    report = IngestReport(results=[], caused=Counter()) if detailed else IngestReport()
    return _ingest(store, parsed, progress, report, now)


def _ingest(store: Store, parsed: Iterable[Parsed], progress: Callable[[int], None] | None,
            report: IngestReport, now: int | None) -> IngestReport:
    batch: list[Parsed] = []
    for item in parsed:
        batch.append(item)
        if len(batch) >= CHUNK:
            _store_chunk(store, batch, report, now)
            if progress:
                progress(len(batch))
            batch = []
    if batch:
        _store_chunk(store, batch, report, now)
        if progress:
            progress(len(batch))
    return report


def _store_chunk(store: Store, batch: list[Parsed], report: IngestReport, now: int | None) -> None:
    """One chunk in one transaction. Should the database refuse a value the door let through, the chunk is
    stored again in halves down to the event at fault, which is rejected alone: its neighbours are kept. Any
    other failure (the database away or busy) stops the ingest and names the lines of the chunk."""
    mark = (report.stored, report.duplicates, report.decisions, len(report.rejected),
            len(report.results) if report.results is not None else 0,
            Counter(report.caused) if report.caused is not None else None)
    try:
        _ingest_chunk(store, batch, report, now)
    except Exception as exc:
        report.stored, report.duplicates, report.decisions = mark[0], mark[1], mark[2]
        del report.rejected[mark[3]:]
        if report.results is not None:
            del report.results[mark[4]:]
        report.caused = mark[5]
        if not _refused_value(exc):
            exc.add_note(f"while storing {_lines(batch)}; what came before is stored, and ingesting the same "
                         "input again skips it as duplicates")
            raise
        if len(batch) > 1:
            half = len(batch) // 2
            _store_chunk(store, batch[:half], report, now)
            _store_chunk(store, batch[half:], report, now)
            return
        name, line, item = batch[0]
        event = item.id if isinstance(item, Event) else None
        cause = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        rejection = Rejection(name, line, event, "event", f"the database refused a value of it ({cause})")
        report.rejected.append(rejection)
        if report.results is not None:
            report.results.append({"id": event, "status": "rejected", "code": "invalid", "field": "event",
                                   "reason": rejection.message})


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


def _attribute(states: dict[str, CounterpartyState], new: list[Event]) -> None:
    """Name the partner on events about an appointment booked into one (before they are stored, so a refold of
    the partner finds them): from earlier in this batch or from the client's bookings."""
    if not any(ev.partner is None and "appointment" in ev.data for ev in new):
        return
    booked: dict[str, dict[str, str]] = {k: dict(st.booked or {}) for k, st in states.items()}
    for ev in sorted(new, key=lambda e: (e.at, e.seq)):
        mine = booked.setdefault(ev.counterparty, {})
        attribute(mine, ev)
        if ev.partner is not None and "appointment" in ev.data:
            mine[str(ev.data["appointment"])] = ev.partner


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


def _ingest_chunk(store: Store, batch: list[Parsed], report: IngestReport, now: int | None) -> None:
    results = report.results
    wall = wallclock.now() if now is None else now
    batch = _in_time(batch, wall)
    with store.write():
        ws = workspace.current(store)
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
        if not new:
            return
        tone.attach(new)  # stored with the event; replay renews it under changed lexicons
        clients = {ev.counterparty for ev in new}
        states = store.load_states(clients)  # read once: for attribution and for the fold
        _attribute(states, new)
        store.append_events(new)
        engine = Engine(load_policy(store))
        # The engine clock follows the events, but never past the wall clock: an event dated a little ahead
        # (within the horizon) must not make everyone else's restrictions end or strikes expire early
        clock = max(ws.clock or -(2**62), min(max(ev.at for ev in new), wall))
        caused = process(store, engine, new, ws, clock, states, clients, wall=wall)
        report.decisions += caused.total()
        if report.caused is not None:
            report.caused.update(caused)
        store.set_clock(clock, ws.ticked)
        report.stored += len(new)
