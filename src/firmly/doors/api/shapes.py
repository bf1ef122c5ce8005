"""The JSON the API answers with, as OpenAPI schemas, so that `/docs` shows it and a generated client gets
types: the command line's `--json` shapes (INTERFACES.md). They document the answers rather than validate
them on the way out (the hot paths build their JSON directly); schemathesis checks every answer of the live
server against them (tests/e2e/test_api_schema.py). An object may gain fields; those listed are always there.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]


def _obj(required: dict[str, Schema], optional: dict[str, Schema] | None = None, **extra: Any) -> Schema:
    return {"type": "object", "required": list(required), "properties": {**required, **(optional or {})}, **extra}


def _or_null(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def list_of(item: Schema) -> Schema:
    return {"type": "array", "items": item}


TEXT: Schema = {"type": "string"}
COUNT: Schema = {"type": "integer", "minimum": 0}
MONEY: Schema = {"type": "string", "description": "a decimal amount", "examples": ["1500.00"]}
TIME: Schema = {"type": "string", "format": "date-time", "description": "UTC, e.g. 2026-03-01T07:00:00+00:00"}
ERROR: Schema = _obj({"code": TEXT, "message": TEXT, "field": _or_null(TEXT)})
FAILURE: Schema = _obj({"error": ERROR})

EVENT_RESULT: Schema = _obj(
    {"id": _or_null(TEXT), "status": {"enum": ["stored", "duplicate", "rejected"]}},
    {"code": {"enum": ["invalid", "conflict"]}, "field": _or_null(TEXT), "reason": TEXT},
    description="One per event sent, in the order sent; a rejection names its field and reason.")
EVENTS_ANSWER: Schema = _obj(
    {"stored": COUNT, "duplicates": COUNT, "rejected": COUNT,
     "decisions": {**COUNT, "description": "decisions made or changed by the events stored"},
     "results": list_of(EVENT_RESULT)},
    {"error": {**ERROR, "description": "with 409 and 422: the first rejection"}})
EVENTS_ACCEPTED: Schema = _obj(
    {"stored": COUNT, "duplicates": COUNT, "rejected": COUNT, "results": list_of(EVENT_RESULT),
     "through": {**COUNT, "description": "the arrival number of the last event taken: they are decided once "
                                         "the workspace's `decided_through` reaches it (poll `Location`)"}})
_PROGRESS: dict[str, Schema] = {
    "events": {**COUNT, "description": "the arrival number of the last event the workspace has taken"},
    "decided_through": {**COUNT, "description": "every event up to this arrival number is decided"},
    "pending": {**COUNT, "description": "events acknowledged and not decided yet"}}
DECIDED_THROUGH: Schema = _obj({"through": COUNT, **_PROGRESS, "done": {
    "type": "boolean", "description": "every event up to `through` is decided: reads show their decisions"}})
WORKSPACE: Schema = _obj({"id": TEXT, "locale": TEXT, "timezone": TEXT, "clock": _or_null(TIME), **_PROGRESS})
EVENTS_REFUSED: Schema = {"anyOf": [EVENTS_ANSWER, FAILURE],
                          "description": "the per-event results when the events could be read, else only `error`"}

DECISION: Schema = _obj({
    "id": TEXT, "counterparty": TEXT, "rule": _or_null(TEXT), "at": TIME,
    "action": {**TEXT, "examples": ["reminder", "warning", "fee"]},
    "status": {**TEXT, "examples": ["applied", "scheduled", "proposed"]},
    "amount": _or_null(MONEY), "currency": _or_null(TEXT),
    "event": {**TEXT, "description": "the event that caused it"},
    "evidence": {**list_of(TEXT), "description": "the events behind it"},
    "step": _or_null({"type": "integer"}), "explanation": TEXT})

COUNTERPARTY_ROW: Schema = _obj({"key": TEXT, "kind": TEXT, "name": TEXT, "tier": TEXT, "status": TEXT})
RULE_STANDING: Schema = _obj({"strikes": COUNT, "step": _or_null({**TEXT, "description": "the ladder's step reached",
                                                                   "examples": ["warning"]}), "kept_streak": COUNT,
                              "broken": COUNT, "kept": COUNT})
COUNTERPARTY_PAGE: Schema = _obj({
    **COUNTERPARTY_ROW["properties"],
    "restrictions": list_of(_obj({"type": TEXT, "until": TIME, "rule": _or_null(TEXT)})),
    "rules": {"type": "object", "additionalProperties": RULE_STANDING, "description": "by rule id"},
    "account": _or_null(_obj({"balance": MONEY, "currency": TEXT, "due": MONEY})),
    "scores": {"type": "object", "description": "the scores that apply to this counterparty"},
    "email": _or_null(TEXT), "locale": _or_null(TEXT)}, {
    "contacts": {"type": "object", "additionalProperties": _obj({"name": TEXT, "email": TEXT}),
                 "description": "by role (counterparty.upserted's contacts), for ladder steps' `to:`"}})

PAGE_LINK: Schema = _obj({
    "key": TEXT,
    "url": {**TEXT, "format": "uri", "description": "the signed link to the counterparty's own page (no login)"},
    "expires_at": {**TIME, "description": "when the link stops opening the page (page_link_days from now)"}})
LINK_REVOKED: Schema = _obj({
    "key": TEXT, "revoked": {"type": "boolean", "description": "always true: every link made so far no longer opens"}})

ACCOUNT: Schema = _obj({
    "key": TEXT, "name": TEXT, "balance": MONEY, "currency": TEXT, "due": MONEY, "mode": _or_null(TEXT),
    "low_balance": _or_null(MONEY), "top_up": _or_null(MONEY), "credit_limit": _or_null(MONEY),
    "entries": list_of(_obj({"at": TIME, "amount": MONEY, "kind": {"enum": ["credit", "debit"]},
                           "event": TEXT, "service": _or_null(TEXT), "memo": TEXT})),
    "prices": {"type": "object", "additionalProperties": _obj({"title": TEXT, "price": MONEY,
                                                               "special": {"type": "boolean"}})}})

REPORT_ROW: Schema = _obj({"key": TEXT, "name": TEXT},
                          description="one per counterparty; the other fields depend on the report")

RULEBOOK_ROW: Schema = _obj({"id": TEXT, "version": TEXT, "hash": TEXT, "loaded_at": TIME,
                             "effective_from": _or_null(TIME), "loaded_by": _or_null(TEXT)})
RULEBOOK_LOADED: Schema = _obj({"id": TEXT, "version": TEXT, "hash": TEXT,
                                "new": {"type": "boolean", "description": "false: this version was already stored"},
                                "warnings": list_of(TEXT)})

SIMULATION: Schema = _obj({
    "rulebook": TEXT,
    "totals": {"type": "object", "additionalProperties": _obj({"current": COUNT, "simulated": COUNT}),
               "description": "by action"},
    "counterparties": list_of(_obj({"key": TEXT, "changes": list_of(_obj(
        {"action": TEXT, "current": COUNT, "simulated": COUNT}))}))})


def answer(schema: Schema, description: str = "OK", status: int = 200) -> dict[int | str, dict[str, Any]]:
    """A route's `responses` entry for its answer."""
    return {status: {"description": description, "content": {"application/json": {"schema": schema}}}}
