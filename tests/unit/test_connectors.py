"""The pure parts of the connectors: form bodies, vendors' times, signatures, stage maps."""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import parse_qsl, urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmly.domain.connectors import calendly, stages
from firmly.domain.connectors.common import BadSignature, Unmappable, _pairs, form, when
from firmly.domain.errors import InvalidInput


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.dictionaries(st.text(min_size=1, max_size=12), st.text(max_size=20), max_size=6))
def test_form_bodies_decode_as_the_standard_library_does(fields: dict[str, str]) -> None:
    body = urlencode(fields)
    assert _pairs(body) == parse_qsl(body, keep_blank_values=True)


def test_php_style_keys_nest() -> None:
    body = urlencode({"leads[status][0][id]": "5", "leads[status][0][custom_fields][1][id]": "77", "account[id]": "9"})
    assert form(body) == {"leads": {"status": {"0": {"id": "5", "custom_fields": {"1": {"id": "77"}}}}},
                          "account": {"id": "9"}}


@pytest.mark.parametrize(("value", "expected"), [
    ("2026-11-20T13:00:00+0300", "2026-11-20T10:00:00+00:00"),
    ("2026-11-20T10:00:00.000Z", "2026-11-20T10:00:00+00:00"),
    ("2026-11-20T10:00:00.123456Z", "2026-11-20T10:00:00.123456+00:00"),
    ("2026-11-20T13:00:00+03:00", "2026-11-20T10:00:00+00:00"),
])
def test_vendors_times_are_read_with_their_offsets(value: str, expected: str) -> None:
    assert when(value, "x") == expected


def test_a_time_without_an_offset_is_unmappable_and_says_where() -> None:
    with pytest.raises(Unmappable) as refused:
        when("2026-11-20 10:00", "payload.startTime")
    assert refused.value.field == "payload.startTime" and "offset" in refused.value.message


def test_calendly_refuses_an_old_or_forged_signature() -> None:
    body, key, t = b'{"event": "invitee.created"}', "signing-key", 1_795_000_000
    v1 = hmac.new(key.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    headers = {"Calendly-Webhook-Signature": f"t={t},v1={v1}"}
    calendly.verify(key, body, headers, t * 1_000_000 + 60_000_000, "")  # a minute later: fine
    with pytest.raises(BadSignature, match="three minutes"):
        calendly.verify(key, body, headers, t * 1_000_000 + 600_000_000, "")
    with pytest.raises(BadSignature, match="does not match"):
        calendly.verify("another-key", body, headers, t * 1_000_000, "")


def test_a_stage_map_names_each_problem_by_its_line() -> None:
    text = "stages:\n  '1': {event: appointment.booked}\n  '2': {event: appointment.lost}\nfields:\n  colour: x\n" \
           "timezone: Mars/Olympus\n"
    with pytest.raises(InvalidInput) as refused:
        stages.parse(text, "stages.yaml")
    found = {(p.line, p.field) for p in refused.value.problems}
    assert found == {(3, "stages.2.event"), (5, "fields.colour"), (6, "timezone")}
