"""Booking tools' CSV exports, read through a column map: each row is a booking as it stands when exported, and
successive exports are compared with what the connector remembers of each booking (its start, its status, its
no-show mark), so an export imported again stores nothing.

```yaml
columns:                  # firmly's field -> the export's column
  id: uid                 # the booking's id (required)
  email: attendee1        # a cell holding an e-mail ("Jane Roe (jane@example.com)" is fine)
  name: attendee1         # the text before " (" is the name
  starts_at: startTime    # required
  status: timeStatus
  service: title
  changed_at: createdAt   # the time that dates the events (required)
  no_show: noShowGuestsCount   # a number above 0, or true/yes, marks a no-show
time_format: iso          # or a strptime pattern such as "%d.%m.%Y %H:%M"
timezone: UTC             # for times written without an offset
statuses:                 # status value -> what it means; values not listed mean nothing new
  cancelled: {event: appointment.cancelled, by: unknown}
  rejected: {event: appointment.cancelled, by: provider}
```
The map shipped for Cal.com's bookings export (Insights → Download) is `firmly/connectors/calcom-bookings.yaml`;
its columns follow calcom/cal.com packages/features/insights/server/events.ts (`getCsvData`): `id`, `uid`,
`title`, `createdAt`, `timeStatus`, `startTime`, `endTime`, `userEmail`, `noShowHost`, `noShowGuests`,
`noShowGuestsCount`, `attendee1`… as "Name (email)".
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from firmly.domain.clock import iso, to_us
from firmly.domain.connectors.common import (
    BadSignature,
    Context,
    Mapped,
    Unmappable,
    appointment,
    counterparty,
    envelope,
    event_id,
    when,
)
from firmly.domain.errors import FirmlyError, InvalidInput, Problem
from firmly.domain.yamlmap import YamlProblem, load_with_lines

SOURCE = "csv"
COLUMNS = ("id", "email", "name", "phone", "starts_at", "status", "service", "changed_at", "no_show")
EVENTS = ("appointment.cancelled", "appointment.attended", "appointment.no_show", "none")
_EMAIL = re.compile(r"[^\s()<>,;]+@[^\s()<>,;]+")


def parse_map(text: str, where: str) -> dict[str, Any]:
    try:
        value, lines = load_with_lines(text)
    except YamlProblem as exc:
        raise InvalidInput([Problem(where, exc.line, "map", exc.message)]) from None
    problems: list[Problem] = []
    if not isinstance(value, dict) or not isinstance(value.get("columns"), dict):
        raise InvalidInput([Problem(where, 1, "columns", "the map needs `columns:`, firmly's field -> column")])
    for name in value["columns"]:
        if name not in COLUMNS:
            problems.append(Problem(where, lines.get(("columns", str(name)), 1), f"columns.{name}",
                                    f"must be one of {', '.join(COLUMNS)}"))
    for name in ("id", "starts_at", "changed_at"):
        if name not in value["columns"]:
            problems.append(Problem(where, lines.get(("columns",), 1), f"columns.{name}", "is required"))
    statuses = value.get("statuses") or {}
    if not isinstance(statuses, dict):
        statuses = {}
        problems.append(Problem(where, lines.get(("statuses",), 1), "statuses", "must map values to events"))
    checked: dict[str, dict[str, str]] = {}
    for status, written in statuses.items():
        spec = {"event": written} if isinstance(written, str) else written
        if not isinstance(spec, dict) or spec.get("event") not in EVENTS:
            problems.append(Problem(where, lines.get(("statuses", str(status)), 1), f"statuses.{status}.event",
                                    f"must be one of {', '.join(EVENTS)}"))
            continue
        checked[str(status).lower()] = {k: str(v) for k, v in spec.items()}
    zone = str(value.get("timezone") or "UTC")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(Problem(where, lines.get(("timezone",), 1), "timezone", f"is not a time zone: {zone!r}"))
    if problems:
        raise InvalidInput(problems)
    return {"columns": {str(k): str(v) for k, v in value["columns"].items()}, "statuses": checked,
            "time_format": str(value.get("time_format") or "iso"), "timezone": zone}


def payload(name: str, text: str, spec: Mapping[str, Any]) -> dict[str, Any]:
    """One export as the mapping reads it: its rows with their line numbers, and the map (so a dead letter can be
    re-run as it was). FirmlyError when the file lacks a column the map names."""
    reader = csv.DictReader(text.splitlines(keepends=True))
    missing = sorted(c for c in spec["columns"].values() if c not in (reader.fieldnames or []))
    if missing:
        raise FirmlyError(f"{name}: the map names columns the file does not have: {', '.join(missing)}")
    rows, lines = [], []
    for record in reader:
        rows.append({k: v for k, v in record.items() if k is not None})
        lines.append(reader.line_num)
    return {"file": name, "map": dict(spec), "rows": rows, "lines": lines}


def verify(secret: str, body: bytes, headers: Mapping[str, str], now: int, url: str) -> None:
    raise BadSignature("CSV exports are imported (`firmly import csv FILE --map MAP`), not posted")


def vendor_ids(body: Mapping[str, Any]) -> list[str]:
    column = (body.get("map") or {}).get("columns", {}).get("id")
    return [f"{row.get(column)}#{part}" for row in body.get("rows") or [] if row.get(column)
            for part in ("start", "status", "no_show")]


def _time(value: str, spec: Mapping[str, Any], where: str) -> str:
    if spec["time_format"] == "iso":
        try:
            return when(value, where)
        except Unmappable:
            moment = datetime.fromisoformat(value) if value else None  # no offset: the map's zone
            if moment is None or moment.tzinfo is not None:
                raise
            return iso(to_us(moment.replace(tzinfo=ZoneInfo(spec["timezone"]))))
    try:
        moment = datetime.strptime(value, spec["time_format"])
    except ValueError:
        raise Unmappable(where, f"is not a time written as {spec['time_format']}: {value!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(spec["timezone"]))
    return iso(to_us(moment))


def _marked(value: str) -> bool:
    text = value.strip().lower()
    return text in ("true", "yes", "да", "1") or (text.isdigit() and int(text) > 0)


def translate(body: Mapping[str, Any], ctx: Context) -> Mapped:
    spec = body.get("map")
    if not isinstance(spec, Mapping):
        raise Unmappable("map", "the import carries no column map")
    columns: Mapping[str, str] = spec["columns"]
    out = Mapped()
    for row, line in zip(body.get("rows") or [], body.get("lines") or [], strict=False):
        def cell(name: str, row: Mapping[str, Any] = row) -> str:
            return str(row.get(columns[name]) or "").strip() if name in columns else ""

        where = f"line {line}"
        vendor = cell("id")
        if not vendor:
            raise Unmappable(f"{where}: {columns['id']}", "the booking's id is empty")
        raw_email = cell("email")
        found = _EMAIL.search(raw_email)
        key = counterparty(SOURCE, found.group(0) if found else None, None, cell("phone"), ctx.options) \
            if found or cell("phone") else f"{SOURCE}:{vendor}"
        at = _time(cell("changed_at"), spec, f"{where}: {columns['changed_at']}")
        time_from = f"column {columns['changed_at']}"
        starts = _time(cell("starts_at"), spec, f"{where}: {columns['starts_at']}")
        first = appointment(ctx, vendor)
        seen_start = ctx.aliases.get(f"{vendor}#start")
        if seen_start is None:
            upsert: dict[str, Any] = {"kind": "client"}
            name = cell("name").split(" (")[0].strip()
            if name and name != raw_email:
                upsert["name"] = name
            if found:
                upsert["email"] = key
            data: dict[str, Any] = {"appointment": first, "starts_at": starts}
            if cell("service"):
                data["service"] = cell("service")
            out.events.append(envelope(event_id(SOURCE, vendor, "client"), "counterparty.upserted", key, at, upsert,
                                       time_from))
            out.events.append(envelope(event_id(SOURCE, vendor, "booked"), "appointment.booked", key, at, data,
                                       time_from))
        elif seen_start != starts:
            out.events.append(envelope(event_id(SOURCE, vendor, "moved", starts), "appointment.rescheduled", key,
                                       at, {"appointment": first, "starts_at": starts, "by": "unknown"}, time_from))
        out.aliases[f"{vendor}#start"] = starts
        status = cell("status").lower()
        meaning = spec["statuses"].get(status)
        # A visit's outcome is known only once it began: dated no earlier than its start
        after = (starts, f"column {columns['starts_at']}") if starts > at else (at, time_from)
        if status and status != ctx.aliases.get(f"{vendor}#status") and meaning and meaning["event"] != "none":
            data = {"appointment": first}
            when_, from_ = (at, time_from) if meaning["event"] == "appointment.cancelled" else after
            if meaning["event"] == "appointment.cancelled":
                data["by"] = meaning.get("by", "unknown")
            out.events.append(envelope(event_id(SOURCE, vendor, status), meaning["event"], key, when_, data, from_))
        out.aliases[f"{vendor}#status"] = status
        if "no_show" in columns and _marked(cell("no_show")) and ctx.aliases.get(f"{vendor}#no_show") != "1":
            out.events.append(envelope(event_id(SOURCE, vendor, "no_show"), "appointment.no_show", key, after[0],
                                       {"appointment": first}, after[1]))
            out.aliases[f"{vendor}#no_show"] = "1"
    return out
