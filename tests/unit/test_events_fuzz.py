"""Fuzzing the event decoder (`validate`, `decode_json`) with hostile values: every input is either an event
within every limit or an EventError naming the field, in a short message; nothing else is ever raised.
Fixed seed (derandomize) and a small budget: a few seconds."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from tests.hostile import events, raw_lines

from firmly.domain import limits
from firmly.domain.clock import parse_instant
from firmly.domain.events import Event, EventError, decode_json, validate

FUZZ = settings(max_examples=250, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def within(value: Any, depth: int = 0) -> None:
    """What an accepted event carries is within the documented limits."""
    assert depth <= limits.DEPTH
    if isinstance(value, str):
        assert len(value) <= limits.TEXT
    elif isinstance(value, float):
        assert math.isfinite(value) and abs(value) < limits.NUMBER
    elif isinstance(value, int) and not isinstance(value, bool):
        assert abs(value) < limits.NUMBER
    elif isinstance(value, dict):
        for key, item in value.items():
            assert len(key) <= limits.FIELD_NAME
            within(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            within(item, depth + 1)


def accepted(ev: Event) -> None:
    assert 0 < len(ev.id) <= limits.ID and 0 < len(ev.type) <= limits.TYPE
    assert 0 < len(ev.counterparty) <= limits.KEY
    assert ev.partner is None or len(ev.partner) <= limits.KEY
    assert ev.at == parse_instant(ev.occurred_at)
    within(ev.data)


def refused(exc: EventError) -> None:
    assert exc.field and exc.message
    assert len(str(exc)) < 400, str(exc)[:400]
    assert exc.event_id is None or len(exc.event_id) <= limits.ID


@FUZZ
@given(events())
@example({"id": "x", "type": "work.logged", "counterparty": "c", "occurred_at": "2026-03-01T10:00:00Z",
          "data": {"minutes": float("nan")}})
@example({"id": "x", "type": "custom.thing", "counterparty": "c", "occurred_at": "2026-03-01T10:00:00Z",
          "data": {"n": float("-inf")}})
def test_validate_keeps_within_the_limits_or_names_the_field(event: dict[str, Any]) -> None:
    try:
        accepted(validate(event))
    except EventError as exc:
        refused(exc)


@FUZZ
@given(raw_lines)
def test_decode_json_never_raises_anything_but_an_event_error(line: bytes) -> None:
    try:
        accepted(decode_json(line))
    except EventError as exc:
        refused(exc)


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(st.text(max_size=50))
def test_the_decoder_takes_any_text(text: str) -> None:
    try:
        accepted(decode_json(text))
    except EventError as exc:
        refused(exc)
