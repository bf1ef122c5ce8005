"""Ingest: decode, validate, store (the id is the idempotency key), decide, store decisions."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from firmly.domain.engine import CounterpartyState, Engine, attribute
from firmly.domain.errors import FirmlyError
from firmly.domain.events import Event, EventError, validate
from firmly.domain.ports import Store
from firmly.service import future, tone, wallclock, workspace
from firmly.service.bulk import quiet_gc
from firmly.service.policy import load_policy
from firmly.service.process import process

CHUNK = 50_000  # events per transaction: a crash loses at most the chunk in flight, and a re-run is a no-op


@dataclass(slots=True)
class Rejection:
    where: str
    line: int | None
    event: str | None
    field: str
    message: str

    def __str__(self) -> str:
        place = f"{self.where} line {self.line}" if self.line is not None else self.where
        who = f" (event {self.event})" if self.event else ""
        return f"{place}{who}: {self.field}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.where, "line": self.line, "id": self.event, "field": self.field,
                "reason": self.message}


@dataclass(slots=True)
class IngestReport:
    stored: int = 0
    duplicates: int = 0
    decisions: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    results: list[dict[str, Any]] | None = None  # per event, in input order, when asked for (the API)
    caused: Counter[str] | None = None  # decisions written per causing event id, with the results

    def as_dict(self) -> dict[str, Any]:
        return {"stored": self.stored, "duplicates": self.duplicates, "rejected": len(self.rejected),
                "decisions": self.decisions, "rejections": [r.as_dict() for r in self.rejected]}


Parsed = tuple[str, int, Event | Rejection]
_decoder = msgspec.json.Decoder()


def read_file(path: Path) -> Iterator[Parsed]:
    """Events from a .jsonl or .csv file, each with its line; bad lines become Rejections."""
    name = path.name
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise FirmlyError(f"cannot read {path}: {exc.strerror}") from None
    if path.suffix.lower() == ".csv":
        yield from _read_csv(name, text.decode("utf-8-sig"))
        return
    if path.suffix.lower() not in (".jsonl", ".ndjson", ".json"):
        raise FirmlyError(f"{path}: events come as .jsonl (one JSON object per line) or .csv")
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            raw = _decoder.decode(line)
        except msgspec.DecodeError as exc:
            yield name, number, Rejection(name, number, None, "json", f"is not valid JSON ({exc})")
            continue
        yield name, number, _validated(name, number, raw)


def parsed(name: str, items: list[Any]) -> list[Parsed]:
    """Events already decoded (a request's body), each validated and numbered by its place from 0."""
    return [(name, n, _validated(name, n, raw)) for n, raw in enumerate(items)]


def _validated(name: str, number: int, raw: object) -> Event | Rejection:
    try:
        return validate(raw)
    except EventError as exc:
        return Rejection(name, number, exc.event_id, exc.field, exc.message)


def _cell(value: str) -> Any:
    """CSV cells are text; whole numbers and true/false become JSON values, money stays a string."""
    if value in ("true", "false"):
        return value == "true"
    if value.lstrip("-").isdigit():
        return int(value)
    return value


def _read_csv(name: str, text: str) -> Iterator[Parsed]:
    reader = csv.DictReader(io.StringIO(text))
    for row in reader:
        number = reader.line_num
        data: dict[str, Any] = {}
        if row.get("data"):
            try:
                loaded = _decoder.decode(row["data"])
            except msgspec.DecodeError as exc:
                yield name, number, Rejection(name, number, row.get("id"), "data", f"is not a JSON object ({exc})")
                continue
            if isinstance(loaded, dict):
                data.update(loaded)
        for column, value in row.items():
            if column is None or column in ("id", "type", "counterparty", "occurred_at", "data"):
                continue
            if value not in (None, ""):
                data[column.removeprefix("data.")] = _cell(value)
        raw = {k: row.get(k) or None for k in ("id", "type", "counterparty", "occurred_at")}
        raw["data"] = data
        yield name, number, _validated(name, number, raw)


def ingest(store: Store, parsed: Iterable[Parsed], progress: Callable[[int], None] | None = None,
           detailed: bool = False, now: int | None = None) -> IngestReport:
    """Store and decide; `detailed` adds each event's own result (stored, duplicate, rejected). `now`: the wall
    clock the events arrive at (default: the installed one, read as each chunk arrives)."""
    with quiet_gc():
        report = IngestReport(results=[], caused=Counter()) if detailed else IngestReport()
        return _ingest(store, parsed, progress, report, now)


def _ingest(store: Store, parsed: Iterable[Parsed], progress: Callable[[int], None] | None,
            report: IngestReport, now: int | None) -> IngestReport:
    batch: list[Parsed] = []
    for item in parsed:
        batch.append(item)
        if len(batch) >= CHUNK:
            _ingest_chunk(store, batch, report, now)
            if progress:
                progress(len(batch))
            batch = []
    if batch:
        _ingest_chunk(store, batch, report, now)
        if progress:
            progress(len(batch))
    return report


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
