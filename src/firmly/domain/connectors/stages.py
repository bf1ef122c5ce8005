"""The stage map of a CRM connector (amoCRM, Bitrix24): which pipeline stage means which event, and which custom
fields hold the appointment's time, the service, an order's date or the client's e-mail and phone.

```yaml
stages:                       # stage id -> what reaching it means
  "53512345": {event: appointment.booked}
  "53512346": {event: appointment.cancelled, by: client}
  "53512347": {event: appointment.cancelled, by: provider}
  "53512348": {event: appointment.no_show}
  "142": {event: appointment.attended}
  "143": {event: ignore}       # a stage firmly has no use for, answered without a dead letter
fields:                       # custom field id (amoCRM) or code (Bitrix24) -> firmly's field
  starts_at: "771234"
  service: "771235"
  for_date: "771236"
  email: "771237"
  phone: "771238"
timezone: Europe/Moscow       # for times written without an offset (31.12.2026 10:00)
account: myclinic             # amoCRM only: the account's subdomain; deliveries from any other are refused
```
A stage that is not in the map is a dead letter; fix the map (`firmly connector map ID FILE`) and re-run it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from firmly.domain.clock import iso, to_us
from firmly.domain.errors import InvalidInput, Problem
from firmly.domain.yamlmap import YamlProblem, load_with_lines

EVENTS = ("appointment.booked", "appointment.rescheduled", "appointment.cancelled", "appointment.attended",
          "appointment.no_show", "order.submitted", "ignore")
FIELDS = ("starts_at", "service", "for_date", "email", "phone", "price")
BY = ("client", "provider", "partner", "unknown")


def parse(text: str, where: str) -> dict[str, Any]:
    """A checked stage map as plain values, or InvalidInput naming each problem's line and field."""
    try:
        value, lines = load_with_lines(text)
    except YamlProblem as exc:
        raise InvalidInput([Problem(where, exc.line, "map", exc.message)]) from None
    problems: list[Problem] = []

    def bad(path: tuple[str, ...], field: str, message: str) -> None:
        line = lines.get(path) or lines.get(path[:-1]) or 1
        problems.append(Problem(where, line, field, message))

    if not isinstance(value, dict) or not isinstance(value.get("stages"), dict) or not value["stages"]:
        raise InvalidInput([Problem(where, 1, "stages", "the map needs `stages:`, stage id -> {event: ...}")])
    stages: dict[str, dict[str, str]] = {}
    for stage, written in value["stages"].items():
        path = ("stages", str(stage))
        spec = {"event": written} if isinstance(written, str) else written
        if not isinstance(spec, dict) or spec.get("event") not in EVENTS:
            bad(path, f"stages.{stage}.event", f"must be one of {', '.join(EVENTS)}")
            continue
        if spec.get("by") is not None and spec["by"] not in BY:
            bad((*path, "by"), f"stages.{stage}.by", f"must be one of {', '.join(BY)}")
            continue
        stages[str(stage)] = {k: str(v) for k, v in spec.items() if v is not None}
    fields = value.get("fields") or {}
    if not isinstance(fields, dict):
        bad(("fields",), "fields", "must map firmly's fields to the CRM's field ids")
        fields = {}
    for name in fields:
        if name not in FIELDS:
            bad(("fields", str(name)), f"fields.{name}", f"must be one of {', '.join(FIELDS)}")
    zone = str(value.get("timezone") or "UTC")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        bad(("timezone",), "timezone", f"is not a time zone like Europe/Moscow: {zone!r}")
    if problems:
        raise InvalidInput(problems)
    parsed: dict[str, Any] = {"stages": stages, "fields": {str(k): str(v) for k, v in fields.items()},
                              "timezone": zone}
    if value.get("account"):
        parsed["account"] = str(value["account"])  # amoCRM: only this account's deliveries are taken
    return parsed


def local_time(value: object, zone: str) -> str | None:
    """A CRM's time: Unix seconds, RFC 3339, or a local `31.12.2026 10:00` / `2026-12-31 10:00` in `zone`."""
    text = str(value).strip()
    if text.isdigit():
        return iso(int(text) * 1_000_000)
    for pattern in ("%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"):
        try:
            moment = datetime.strptime(text, pattern).replace(tzinfo=ZoneInfo(zone))
        except ValueError:
            continue
        return iso(to_us(moment))
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(zone))
    return iso(to_us(moment))


def stage_events(ctx_map: dict[str, Any] | None, source: str, deal: str, stage: str, fields: dict[str, str],
                 at: str, time_from: str, stage_path: str, fallback_key: str) -> tuple[str, list[dict[str, Any]]]:
    """The events a deal's move to `stage` means under the connector's map: (counterparty, events)."""
    from firmly.domain.connectors.common import Unmappable, envelope, event_id  # noqa: PLC0415 - a cycle

    if not ctx_map:
        raise Unmappable("map", f"the connector has no stage map: add one with `firmly connector map ID FILE` "
                                f"(stage {stage} came)")
    spec = ctx_map["stages"].get(stage)
    if spec is None:
        raise Unmappable(stage_path, f"stage {stage} is not in the connector's stage map; add it "
                                     "(`firmly connector map ID FILE`) and re-run the dead letters")
    named = {name: fields.get(field_id) for name, field_id in ctx_map["fields"].items()}
    email, phone = named.get("email"), named.get("phone")
    key = (email.strip().lower() if email and "@" in email
           else "".join(ch for ch in phone if ch.isdigit() or ch == "+") if phone else fallback_key)
    kind = spec["event"]
    if kind == "ignore":
        return key, []
    data: dict[str, Any] = {"appointment": f"{source}:{deal}", "stage": stage}
    if kind in ("appointment.booked", "appointment.rescheduled"):
        raw = named.get("starts_at")
        starts = local_time(raw, ctx_map["timezone"]) if raw else None
        if starts is None:
            raise Unmappable(f"fields.starts_at ({ctx_map['fields'].get('starts_at', 'not mapped')})",
                             f"the appointment's time is missing or unreadable: {raw!r}")
        data["starts_at"] = starts
    if kind == "order.submitted":
        raw = named.get("for_date")
        day = local_time(raw, ctx_map["timezone"]) if raw else None
        if day is None:
            raise Unmappable(f"fields.for_date ({ctx_map['fields'].get('for_date', 'not mapped')})",
                             f"the order's date is missing or unreadable: {raw!r}")
        data = {"order": f"{source}:{deal}", "for_date": day[:10], "stage": stage}
    if named.get("service"):
        data["service"] = named["service"]
    if named.get("price") and kind == "appointment.booked":
        data["price"] = named["price"]
    if kind in ("appointment.cancelled", "appointment.rescheduled"):
        data["by"] = spec.get("by", "unknown")
    return key, [envelope(event_id(source, deal, stage, at), kind, key, at, data, time_from)]
