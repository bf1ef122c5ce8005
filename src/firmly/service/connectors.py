"""Connectors: set up the webhooks of the tools a business already uses, receive their deliveries, keep
what could not be mapped as dead letters and run them again.

A delivery is checked (the vendor's signature), mapped (domain/connectors, pure) and stored through the
ingest use case in one transaction with the aliases and the payload it came in: nothing is half-stored.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from firmly.domain.clock import iso, parse_instant
from firmly.domain.connectors import SOURCES, BadSignature, Context, Mapped, Source, Unmappable, csvfile, stages
from firmly.domain.connectors.common import form
from firmly.domain.durations import DurationError, parse_duration
from firmly.domain.durations import to_us as duration_us
from firmly.domain.errors import FirmlyError, NotFound
from firmly.domain.events import EventError, validate
from firmly.domain.ports import ConnectorRow, ConnectorStore, FailureRow, Store
from firmly.service import ingest, workspace

SHIPPED = Path(__file__).resolve().parents[1] / "connectors"  # column maps of known exports: `--map calcom`
KEYS = ("email", "phone")
STAGED = ("amocrm", "bitrix24")  # sources whose deals move through stages a map names
_decode = msgspec.json.Decoder()

__all__ = ["BadSignature", "Receipt", "add", "events", "failures", "listed", "receive", "remove", "rerun", "show"]


def path(connector_id: str) -> str:
    return f"/v1/hooks/{connector_id}"


def public(row: ConnectorRow) -> dict[str, Any]:
    """A connector as the command line and the API show it (never its secret)."""
    return {"id": row.id, "source": row.source, "name": row.name, "path": path(row.id),
            "options": json.loads(row.options)}


def add(store: ConnectorStore, source: str, name: str | None, secret: str | None, options: Mapping[str, Any],
        now: int, stage_map: tuple[str, str] | None = None) -> tuple[ConnectorRow, str | None]:
    """A new connector; returns it and the secret when firmly made one (shown once, to paste into the vendor's
    settings). `stage_map`: (YAML text, where it came from) for amoCRM and Bitrix24."""
    if source not in SOURCES:
        raise FirmlyError(f"unknown source {source!r}: firmly hears {', '.join(SOURCES)}")
    if stage_map is not None:
        if source not in STAGED:
            raise FirmlyError(f"--map is for amoCRM and Bitrix24 connectors, not {source}")
        options = {**options, "map": stages.parse(*stage_map)}
    key = options.get("key", "email")
    if key not in KEYS:
        raise FirmlyError(f"--key must be email or phone, got {key!r}")
    options = {k: v for k, v in options.items() if v is not None}
    if options.get("attended_after") is not None:
        try:
            parse_duration(options["attended_after"])
        except DurationError as exc:
            raise FirmlyError(f"--attended-after {exc}") from None
    made = None
    if not secret:
        made = secret = secrets.token_urlsafe(24)
    row = ConnectorRow(f"hk{secrets.token_hex(8)}", store.workspace, source, name or SOURCES[source].title,
                       secret, json.dumps(dict(options), sort_keys=True), now)
    with store.write():
        workspace.current(store)
        store.add_connector(row)
    return row, made


def listed(store: ConnectorStore) -> list[ConnectorRow]:
    with store.read():
        return store.connectors()


def _mine(store: ConnectorStore, connector_id: str) -> ConnectorRow:
    row = store.find_connector(connector_id)
    if row is None or row.workspace != store.workspace:
        raise NotFound(f"no connector {connector_id!r} in workspace {store.workspace!r} "
                       "(`firmly connector list` shows them)")
    return row


def show(store: ConnectorStore, connector_id: str) -> dict[str, Any]:
    with store.read():
        row = _mine(store, connector_id)
        open_failures = len(store.failures(row.id))
    return {**public(row), "failures": open_failures}


def remove(store: ConnectorStore, connector_id: str) -> None:
    with store.write():
        _mine(store, connector_id)
        store.remove_connector(connector_id)
    _SEEN.pop(connector_id, None)


@dataclass(slots=True)
class Receipt:
    """What a delivery became: events stored or already there, or a dead letter with its reason."""

    connector: str
    stored: int = 0
    duplicates: int = 0
    decisions: int = 0
    events: list[str] = field(default_factory=list)
    ignored: str | None = None
    failure: FailureRow | None = None
    field: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"connector": self.connector, "stored": self.stored, "duplicates": self.duplicates,
                               "decisions": self.decisions, "events": self.events}
        if self.ignored:
            out["ignored"] = self.ignored
        if self.failure is not None:
            out["failed"] = {"id": self.failure.id, "reason": self.failure.reason, "field": self.field}
        return out


_SEEN: dict[str, tuple[float, ConnectorRow | None]] = {}
_TTL = 5.0  # seconds a connector found is trusted before it is read again: a removal takes effect within this


def find(store: ConnectorStore, connector_id: str) -> ConnectorRow:
    """A connector by its public id, whatever its workspace (the delivery's URL names only the connector); kept
    for a few seconds, as API tokens are, so that a busy webhook does not pay a transaction for it."""
    now = time.monotonic()
    cached = _SEEN.get(connector_id)
    if cached is not None and now - cached[0] < _TTL:
        row = cached[1]
    else:
        with store.read():
            row = store.find_connector(connector_id)
        if len(_SEEN) > 10_000:
            _SEEN.clear()
        _SEEN[connector_id] = (now, row)
    if row is None:
        raise NotFound(f"no connector {connector_id!r}: check the webhook's URL in the vendor's settings")
    return row


def receive(store_for: Callable[[str], ConnectorStore], connector_id: str, body: bytes,
            headers: Mapping[str, str], now: int, url: str = "") -> Receipt:
    """Check, map and store one delivery. BadSignature: refused, nothing stored; anything signed that cannot be
    mapped becomes a dead letter (the vendor is answered 2xx, so it keeps the webhook on). `url`: the address
    the delivery came to (Square signs it); a connector's `url` option says it when a proxy changes it."""
    row = find(store_for(""), connector_id)
    source = SOURCES[row.source]
    source.verify(row.secret, body, headers, now, str(json.loads(row.options).get("url") or url))
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = body.decode("utf-8", "backslashreplace")
    return _deliver(store_for(row.workspace), row, source, text, now)


def _deliver(store: ConnectorStore, row: ConnectorRow, source: Source, text: str, now: int,
             failure_id: str | None = None) -> Receipt:
    digest = hashlib.sha256(text.encode()).hexdigest()
    receipt = Receipt(row.id)
    with store.write():
        workspace.current(store)
        try:
            payload = _payload(source, text)
            if not isinstance(payload, dict):
                raise Unmappable("body", "must be a JSON object")
            ctx = Context(row.id, row.source, json.loads(row.options),
                          store.aliases(row.id, source.vendor_ids(payload)))
            mapped = source.translate(payload, ctx)
            parsed = _validated(mapped)
        except msgspec.DecodeError as exc:
            return _dead(store, row, receipt, digest, text, now, "body", f"is not valid JSON ({exc})", failure_id)
        except Unmappable as exc:
            return _dead(store, row, receipt, digest, text, now, exc.field, exc.message, failure_id)
        except BadSignature as exc:
            if failure_id is None:
                raise  # a live delivery from elsewhere: refused, nothing stored
            return _dead(store, row, receipt, digest, text, now, "account", str(exc), failure_id)
        receipt.ignored = mapped.ignored
        report = ingest.ingest(store, parsed, detailed=True)
        receipt.stored, receipt.decisions = report.stored, report.decisions
        receipt.duplicates = report.duplicates + len(report.rejected)  # same vendor id, other envelope: kept first
        receipt.events = [ev["id"] for ev in mapped.events]
        store.put_aliases(row.id, mapped.aliases)
        store.keep_payload(row.id, digest, text, now, receipt.events)
        after = ctx.options.get("attended_after")
        if after:
            _expect(store, row.id, mapped, duration_us(parse_duration(after)))
        if failure_id is not None:
            store.settle_failure(failure_id, "done", "re-run: stored")
    return receipt


def _payload(source: Source, text: str) -> Any:
    """JSON, or for the CRMs that post forms (amoCRM, Bitrix24) form data with PHP-style keys."""
    if source.forms and not text.lstrip().startswith(("{", "[")):
        return form(text)
    return _decode.decode(text)


def csv_map(name: str) -> dict[str, Any]:
    """A CSV column map: a shipped one by its name (calcom), else the file at that path."""
    shipped = SHIPPED / f"{name}-bookings.yaml"
    path = shipped if "/" not in name and shipped.is_file() else Path(name)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FirmlyError(f"cannot read the map {path}: {exc}") from None
    return csvfile.parse_map(text, str(path))


def set_map(store: ConnectorStore, connector_id: str, text: str, where: str) -> dict[str, Any]:
    """Give a CRM connector its stage map (checked first: every problem named by line); dead letters a missing
    stage made can then be re-run."""
    crm_map = stages.parse(text, where)
    with store.write():
        row = _mine(store, connector_id)
        if row.source not in STAGED:
            raise FirmlyError(f"a stage map is for amoCRM and Bitrix24 connectors; {connector_id} is {row.source}")
        options = {**json.loads(row.options), "map": crm_map}
        store.set_connector_options(connector_id, json.dumps(options, sort_keys=True))
    _SEEN.pop(connector_id, None)
    return crm_map


def _validated(mapped: Mapped) -> list[ingest.Parsed]:
    """Every event of a delivery valid, or none stored: one bad field makes the whole delivery a dead letter."""
    parsed: list[ingest.Parsed] = []
    for n, raw in enumerate(mapped.events):
        try:
            parsed.append(("delivery", n, validate(raw)))
        except EventError as exc:
            raise Unmappable(exc.field, f"{exc.message} (event {raw.get('id')})") from None
    return parsed


def _dead(store: ConnectorStore, row: ConnectorRow, receipt: Receipt, digest: str, text: str, now: int,
          field_name: str, message: str, failure_id: str | None) -> Receipt:
    reason = f"{field_name}: {message}"
    if failure_id is not None:
        store.settle_failure(failure_id, "open", reason)
        failure = FailureRow(failure_id, row.id, now, reason, text, "open")
    else:
        failure = FailureRow(f"dl{digest[:16]}", row.id, now, reason, text, "open")
        if not any(f.id == failure.id for f in store.failures(row.id, None)):  # the same body again: one letter
            store.add_failure(row.id, failure)
    receipt.failure, receipt.field = failure, field_name
    return receipt


OVER = frozenset({"appointment.cancelled", "appointment.no_show", "appointment.attended"})


def _expect(store: ConnectorStore, connector_id: str, mapped: Mapped, after_us: int) -> None:
    """`attended_after`: a booked or moved visit is expected to be attended at its start + the duration, unless a
    cancellation, a no-show or an attendance comes first."""
    for ev in mapped.events:
        appointment = ev["data"].get("appointment")
        if appointment is None:
            continue
        if ev["type"] in ("appointment.booked", "appointment.rescheduled"):
            store.expect_attendance(connector_id, str(appointment), ev["counterparty"],
                                    parse_instant(ev["data"]["starts_at"]) + after_us)
        elif ev["type"] in OVER:
            store.expect_attendance(connector_id, str(appointment), ev["counterparty"], None)


def attend(store: Store, as_of: int) -> int:
    """Record as attended the visits whose `attended_after` passed by `as_of` with nothing else heard of them:
    clock-made events with ids and times of their own, so a replay or a second tick makes the same ones."""
    with store.read():
        due = store.attendance_due(as_of)
    if not due:
        return 0
    raws = [{"id": f"{appointment}:attended-after", "type": "appointment.attended", "counterparty": key,
             "occurred_at": iso(at), "data": {"appointment": appointment, "time_from": "attended_after"}}
            for _, appointment, key, at in due]
    with store.write():
        report = ingest.ingest(store, ingest.parsed("attended_after", raws))
        for connector_id, appointment, key, _ in due:
            store.expect_attendance(connector_id, appointment, key, None)
        for event_id in [str(r["id"]) for r in raws]:
            store.keep_payload(next(c for c, a, _, _ in due if f"{a}:attended-after" == event_id),
                               "clock", "", as_of, [event_id])
    return report.stored


@dataclass(slots=True)
class Imported:
    file: str
    receipt: Receipt


def import_files(store: ConnectorStore, source_name: str, connector_id: str | None,
                 payloads: list[tuple[str, dict[str, Any]]], now: int) -> tuple[ConnectorRow, list[Imported]]:
    """Files of a source that is imported, not posted (iCalendar, CSV), in the order given: successive snapshots of
    one feed, compared with what the connector remembers. Without `connector_id`, the workspace's first connector
    of that source (made on the first import)."""
    source = SOURCES[source_name]
    if connector_id is not None:
        with store.read():
            row = _mine(store, connector_id)
        if row.source != source_name:
            raise FirmlyError(f"connector {connector_id} hears {row.source}, not {source_name}")
    else:
        found = [r for r in listed(store) if r.source == source_name]
        row = found[0] if found else add(store, source_name, None, "-", {}, now)[0]
    done = []
    for name, payload in payloads:
        text = json.dumps(payload, ensure_ascii=False, sort_keys=True)
        done.append(Imported(name, _deliver(store, row, source, text, now)))
    return row, done


def failures(store: ConnectorStore, connector_id: str, every: bool = False) -> list[FailureRow]:
    with store.read():
        _mine(store, connector_id)
        return store.failures(connector_id, None if every else "open")


def rerun(store: ConnectorStore, connector_id: str, failure_id: str | None, now: int) -> list[Receipt]:
    """Map the dead letters (one, or all open ones) again, under the connector's current settings."""
    with store.read():
        row = _mine(store, connector_id)
        letters = store.failures(connector_id)
    if failure_id is not None:
        letters = [f for f in letters if f.id == failure_id]
        if not letters:
            raise NotFound(f"no open dead letter {failure_id!r} for connector {connector_id!r}")
    source = SOURCES[row.source]
    return [_deliver(store, row, source, f.body, now, f.id) for f in letters]


def payload(store: ConnectorStore, event_id: str) -> tuple[str, str]:
    """(connector, the original body) an event came in, for audit."""
    with store.read():
        workspace.current(store)
        found = store.payload_of(event_id)
    if found is None:
        raise NotFound(f"event {event_id!r} did not come through a connector (or came before payloads were kept)")
    return found


def events(store: ConnectorStore, counterparty: str | None, kind: str | None, source: str | None,
           limit: int = 10_000) -> list[dict[str, Any]]:
    with store.read():
        workspace.current(store)
        rows = store.listed_events(counterparty, kind, source, limit)
    for r in rows:
        r["data"] = _decode.decode(r["data"])
    return rows
