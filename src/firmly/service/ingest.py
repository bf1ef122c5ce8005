"""Ingest: decode, validate, store (the id is the idempotency key), decide, store decisions."""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from firmly.domain import limits
from firmly.domain.engine import CounterpartyState, Engine, attribute
from firmly.domain.errors import FirmlyError, ValueRefused
from firmly.domain.events import CATALOGUE, DECIMALS, FLAGS, NUMBERS, Check, Event, EventError, decode_raw, validate
from firmly.domain.ports import Store
from firmly.domain.said import N_, Said, in_language
from firmly.service import future, tone, wallclock, workspace
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
    said: Said | None = None  # the message with its template, for the reader's language (see in_language)

    def __str__(self) -> str:
        return self.shown(self.message)

    def in_language(self, gettext: Callable[[str], str]) -> str:
        """FILE line N (event ID): field: the message in the language of `gettext` (place and field stay)."""
        return self.shown(self.reason(gettext))

    def reason(self, gettext: Callable[[str], str]) -> str:
        """The message alone in the language of `gettext`, for a table whose other columns give place and field."""
        return in_language(self.said, gettext) if self.said is not None else self.message

    def shown(self, message: str) -> str:
        place = f"{self.where} line {self.line}" if self.line is not None else self.where
        who = f" (event {self.event})" if self.event else ""
        return f"{place}{who}: {self.field}: {message}"

    @classmethod
    def of(cls, where: str, line: int | None, exc: EventError, event: str | None = None) -> Rejection:
        return cls(where, line, event if event is not None else exc.event_id, exc.field, exc.message, exc.said)

    @classmethod
    def saying(cls, where: str, line: int | None, event: str | None, field: str, said: Said) -> Rejection:
        return cls(where, line, event, field, str.__str__(said), said)

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
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))  # UTF-32 LE starts as UTF-16 LE does
csv.field_size_limit(2**31 - 1)  # cells are measured below, against limits.EVENT_BYTES, with the line named


def read_file(path: Path) -> Iterator[Parsed]:
    """Events from a .jsonl or .csv file, each with its line; bad lines become Rejections, and a file that is
    not text (or not UTF-8, UTF-16 or UTF-32 with a BOM) is one Rejection that says so."""
    name = path.name
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".jsonl", ".ndjson", ".json"):
        raise FirmlyError(f"{path}: events come as .jsonl (one JSON object per line) or .csv")
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise FirmlyError(f"cannot read {path}: {exc.strerror}") from None
    if suffix == ".csv":
        text = _text(name, content)
        if isinstance(text, Rejection):
            yield name, text.line or 1, text
        else:
            yield from _read_csv(name, text)
        return
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_BE)):
        text = _text(name, content)  # UTF-16 or -32 (Windows tools): read as text, then each line as UTF-8
        if isinstance(text, Rejection):
            yield name, text.line or 1, text
            return
        content = text.encode("utf-8")
    content = content.removeprefix(codecs.BOM_UTF8)
    for number, line in enumerate(content.splitlines(), 1):
        if not line.strip():
            continue
        try:
            raw = decode_raw(line)
        except EventError as exc:
            yield name, number, Rejection.of(name, number, exc)
            continue
        yield name, number, _validated(name, number, raw)


def _text(name: str, content: bytes) -> str | Rejection:
    """A file's text: UTF-8 (a BOM is skipped), or UTF-16/32 by its BOM. A legacy 8-bit encoding (Windows-1251,
    Latin-1) is refused rather than guessed: a wrong guess would be stored for good (events are never edited),
    and on short files no detector tells Windows-1251 from Latin-1 or Big5 reliably."""
    for bom, codec in _BOMS:
        if content.startswith(bom):
            try:
                return content.decode(codec)
            except UnicodeDecodeError as exc:
                return _not_text(name, content, exc, codec.removesuffix("-sig").upper())
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as exc:
        return _not_text(name, content, exc, "UTF-8")


def _not_text(name: str, content: bytes, exc: UnicodeDecodeError, codec: str) -> Rejection:
    line = content.count(b"\n", 0, exc.start) + 1
    template = N_("is not {codec} text (byte {byte}): perhaps Windows-1251 or Latin-1; save it as UTF-8 (in "
                  "Excel: \"CSV UTF-8\") and ingest it again") if codec == "UTF-8" else \
        N_("is not {codec} text (byte {byte}): save it as UTF-8 (in Excel: \"CSV UTF-8\") and ingest it again")
    return Rejection.saying(name, line, None, "file", Said(template, codec=codec, byte=f"0x{content[exc.start]:02x}"))


def parsed(name: str, items: list[Any]) -> list[Parsed]:
    """Events already decoded (a request's body), each validated and numbered by its place from 0."""
    return [(name, n, _validated(name, n, raw)) for n, raw in enumerate(items)]


def pieces(name: str, items: list[bytes]) -> list[Parsed]:
    """Events still in JSON, one document each (the items of a body that did not decode as a whole), each
    decoded and validated alone: a piece that is not UTF-8 or nests too deeply is refused, its neighbours kept."""
    out: list[Parsed] = []
    for n, piece in enumerate(items):
        try:
            out.append((name, n, _validated(name, n, decode_raw(piece))))
        except EventError as exc:
            out.append((name, n, Rejection.of(name, n, exc)))
    return out


_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{},]')  # a JSON string (skipped whole) or a bracket or comma


def split_array(body: bytes) -> list[bytes] | None:
    """The items of a JSON array as they are written, found without decoding them (so without looking into
    their text or recursing into them), or None when the body is not an array."""
    start = len(body) - len(body.lstrip())
    if body[start:start + 1] != b"[":
        return None
    items: list[bytes] = []
    depth, begin = 0, start + 1
    for token in _TOKEN.finditer(body, start):
        mark = token.group()
        if mark[0] == 0x22:  # a string: its brackets and commas are text
            continue
        if mark in (b"[", b"{"):
            depth += 1
        elif mark in (b"]", b"}"):
            depth -= 1
            if depth == 0:
                last = body[begin:token.start()]
                if last.strip() or items:
                    items.append(last)
                return items if not body[token.end():].strip() else None
        elif depth == 1:
            items.append(body[begin:token.start()])
            begin = token.end()
    return None


def _validated(name: str, number: int, raw: object) -> Event | Rejection:
    try:
        return validate(raw)
    except EventError as exc:
        return Rejection.of(name, number, exc)


_WHOLE = re.compile(r"-?(0|[1-9][0-9]{0,14})")  # ASCII: "²" and "١" are text; "00042" keeps its zeros
_NUMBER = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,15})?")


def _cell(value: str, check: Check | None) -> Any:
    """A CSV cell as the catalogue wants the field (domain/events.py): a number where it holds a number, true or
    false where it holds a flag, text where it holds text (an appointment "1001", an invoice "00042", money).
    A field outside the catalogue is a whole number or true/false when it reads as one, else text."""
    if check is None:
        if value in ("true", "false"):
            return value == "true"
        return int(value) if _WHOLE.fullmatch(value) else value
    if check in NUMBERS and _NUMBER.fullmatch(value):
        number = float(value)
        return int(number) if number.is_integer() and "." not in value else number
    if check in FLAGS and value in ("true", "false"):
        return value == "true"
    return value  # text, or a value the check refuses with its own words


ENVELOPE = ("id", "type", "counterparty", "occurred_at")  # the columns every CSV of events has
_DECIMAL_COMMA = re.compile(r"-?[0-9]{1,15},[0-9]{1,15}")


def delimiter(text: str) -> str:
    """The separator of a CSV's cells, read from its header: a comma, or the semicolon a spreadsheet in a
    Russian (or German, French...) locale writes, where the comma is the decimal sign."""
    header = next((line for line in text.splitlines() if line.strip()), "")
    return ";" if header.count(";") > header.count(",") else ","


def _read_csv(name: str, text: str) -> Iterator[Parsed]:
    sign = delimiter(text)
    reader = csv.DictReader(io.StringIO(text), delimiter=sign)
    try:
        columns = reader.fieldnames or []
    except csv.Error as exc:
        yield name, 1, Rejection.saying(name, 1, None, "header", Said(N_("is not a CSV row ({why})"), why=str(exc)))
        return
    lacking = [c for c in ENVELOPE if c not in columns]
    if lacking:  # every row would be refused for it: one message about the header says it once
        yield name, 1, Rejection.saying(name, 1, None, "header", Said(
            N_("lacks the column(s) {lacking}; a CSV of events has the columns id, type, counterparty, "
               "occurred_at, then data.FIELD or data; its header is: {header}"),
            lacking=", ".join(lacking), header=sign.join(c for c in columns if c) or "(empty)"))
        return
    rows = iter(reader)
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except csv.Error as exc:
            yield name, reader.line_num, Rejection.saying(name, reader.line_num, None, "csv",
                                                          Said(N_("is not a CSV row ({why})"), why=str(exc)))
            continue
        yield _csv_row(name, reader.line_num, row, sign)


def _csv_row(name: str, number: int, row: dict[str | Any, Any], sign: str) -> Parsed:
    """One CSV row as an event, or the rejection naming its cell."""
    too_long = [(c, v) for c, v in row.items() if isinstance(v, str) and len(v) > limits.EVENT_BYTES]
    if too_long:
        column, value = too_long[0]
        return name, number, Rejection.saying(name, number, None, column or "cell", Said(
            N_("is a cell of {length} characters; at most {most}"), length=len(value), most=limits.EVENT_BYTES))
    data: dict[str, Any] = {}
    if row.get("data"):
        try:
            loaded = decode_raw(row["data"])
        except EventError as exc:
            return name, number, Rejection.saying(name, number, row.get("id"), "data", Said(
                N_("is not a JSON object ({why})"), why=exc.message))
        if isinstance(loaded, dict):
            data.update(loaded)
    checks = CATALOGUE.get(row.get("type") or "", ((), {}))[1]
    for column, cell in row.items():
        if column is None or column in ("id", "type", "counterparty", "occurred_at", "data") or cell in (None, ""):
            continue
        field = column.removeprefix("data.")
        check = checks.get(field)
        if sign == ";" and check in DECIMALS and _DECIMAL_COMMA.fullmatch(cell):
            cell = cell.replace(",", ".")  # noqa: PLW2901 - where ";" splits cells, "," is the decimal sign
        data[field] = _cell(cell, check)
    raw = {k: row.get(k) or None for k in ("id", "type", "counterparty", "occurred_at")}
    raw["data"] = data
    return name, number, _validated(name, number, raw)


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
