"""schemathesis against the live server's /openapi.json: no server errors, responses as the schema says.

The server runs over the clinic-en example (tests/e2e/api_harness.py), so generated keys sometimes hit
real counterparties and decisions; every request carries an admin token of workspace A.

The schema is loaded from the running server, so the operations are driven with Hypothesis here
(`operation.as_strategy()` under `@given`) rather than collected by `@schema.parametrize()`:
`schemathesis.pytest.from_fixture` (the lazy loader that would allow it) fails under pytest 9.2 in
schemathesis 4.32.5 (`'Function' object has no attribute '_nodeid'`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Iterator
from typing import Any

import httpx
import jsonschema_rs
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import content_type_conformance, not_a_server_error, response_schema_conformance
from schemathesis.core.result import Ok

from tests.e2e.api_harness import CLINIC, Api, running

CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
EXAMPLES = {schemathesis.GenerationMode.POSITIVE: int(os.environ.get("API_SCHEMA_EXAMPLES", "15")),
            schemathesis.GenerationMode.NEGATIVE: int(os.environ.get("API_SCHEMA_EXAMPLES", "10"))}


@pytest.fixture
def live(database_url: str) -> Iterator[Api]:
    with running(database_url) as api:
        yield api


def test_the_api_keeps_its_schema(live: Api) -> None:
    schema = schemathesis.openapi.from_url(f"{live.base}/openapi.json")
    admin = {"Authorization": f"Bearer {live.tokens[live.a, 'admin']}"}
    failures: list[str] = []
    labels: list[str] = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operation = result.ok()
        labels.append(operation.label)
        for mode, count in EXAMPLES.items():

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=count, deadline=None, database=None, derandomize=True,
                      suppress_health_check=list(HealthCheck),
                      phases=[Phase.explicit, Phase.generate, Phase.shrink])
            def check(case: schemathesis.Case[Any]) -> None:
                case.call_and_validate(headers=admin, checks=CHECKS)

            try:
                check()
            except Unsatisfiable:  # nothing to make invalid (no parameters, or free-form strings only)
                continue
            except (Exception, BaseExceptionGroup) as exc:  # schemathesis' FailureGroup is a BaseExceptionGroup
                failures.append(f"{operation.label} ({mode.value}): {exc}")  # every operation runs; all are told
    assert len(labels) >= 15, labels  # the thirteen /v1 operations, /healthz and /metrics
    assert not failures, "\n\n".join(failures)


def test_real_answers_match_their_documented_shapes(live: Api) -> None:
    """A successful answer of every /v1 operation over real data, checked against the schema /openapi.json gives
    it (generated requests rarely name a real counterparty or decision, so this does not leave it to chance)."""
    spec = httpx.get(f"{live.base}/openapi.json").json()
    c = live.client()
    proposal = next(d for d in c.get("/v1/decisions", params={"status": "proposed"}).json())["id"]
    stricter = (CLINIC / "stricter.yaml").read_bytes()
    hook = c.post("/v1/connectors", json={"source": "calcom", "secret": "shape-secret"}).json()["id"]
    crm = c.post("/v1/connectors", json={"source": "amocrm"}).json()["id"]
    delivery = json.dumps({"triggerEvent": "BOOKING_CREATED", "createdAt": "2026-05-01T09:00:00Z", "payload": {
        "uid": "shape-uid", "startTime": "2026-05-09T09:00:00Z", "attendees": [{"email": "shape@example.org"}]}})
    signature = hmac.new(b"shape-secret", delivery.encode(), hashlib.sha256).hexdigest()
    calls: list[tuple[str, str, str, dict[str, Any]]] = [
        ("post", "/v1/hooks/{connector}", f"/v1/hooks/{hook}", {"content": delivery, "headers": {
            "X-Cal-Signature-256": signature, "Content-Type": "application/json"}}),
        ("post", "/v1/connectors", "/v1/connectors", {"json": {"source": "telegram"}}),
        ("get", "/v1/connectors", "/v1/connectors", {}),
        ("get", "/v1/connectors/{connector}", f"/v1/connectors/{hook}", {}),
        ("get", "/v1/connectors/{connector}/failures", f"/v1/connectors/{hook}/failures", {}),
        ("post", "/v1/connectors/{connector}/rerun", f"/v1/connectors/{hook}/rerun", {}),
        ("put", "/v1/connectors/{connector}/map", f"/v1/connectors/{crm}/map", {
            "content": b"stages:\n  '142': {event: appointment.attended}\n"}),
        ("get", "/v1/events", "/v1/events", {"params": {"source": hook}}),
        ("delete", "/v1/connectors/{connector}", f"/v1/connectors/{crm}", {}),
        ("get", "/v1/counterparties", "/v1/counterparties", {}),
        ("get", "/v1/counterparties/{key}", "/v1/counterparties/tom", {}),
        ("put", "/v1/counterparties/{key}", "/v1/counterparties/new-client",
         {"json": {"kind": "client", "name": "New Client", "email": "new@example.org"}}),
        ("get", "/v1/counterparties/{key}/link", "/v1/counterparties/tom/link", {}),
        ("post", "/v1/counterparties/{key}/link/revoke", "/v1/counterparties/tom/link/revoke", {}),
        ("get", "/v1/decisions", "/v1/decisions", {}),
        ("post", "/v1/reviews/{decision}/{act}", f"/v1/reviews/{proposal}/approve", {"json": {"reason": "agreed"}}),
        ("get", "/v1/accounts/{key}", "/v1/accounts/tom", {}),
        ("post", "/v1/counterparties/{key}/exceptions", "/v1/counterparties/tom/exceptions", {"json": {
            "rule": "no_show", "until": "2100-01-01T00:00:00+00:00", "reason": "a family emergency"}}),
        ("get", "/v1/counterparties/{key}/exceptions", "/v1/counterparties/tom/exceptions", {}),
        ("post", "/v1/counterparties/{key}/exceptions/{exception}/end", "/v1/counterparties/tom/exceptions/{x}/end",
         {"json": {"reason": "back to normal"}}),
        *[("get", "/v1/reports/{name}", f"/v1/reports/{name}", {})
          for name in ("cost-to-serve", "partners", "suppliers", "courtesy")],
        ("get", "/v1/rulebooks", "/v1/rulebooks", {}),
        ("post", "/v1/rulebooks", "/v1/rulebooks", {"content": stricter, "headers": {"Content-Type": "text/plain"}}),
        ("post", "/v1/simulations", "/v1/simulations", {"content": stricter,
                                                         "headers": {"Content-Type": "text/plain"}}),
        ("post", "/v1/events", "/v1/events", {"json": [
            {"id": "shape-1", "type": "appointment.booked", "counterparty": "tom", "occurred_at":
             "2026-05-01T09:00:00+00:00", "data": {"appointment": "shape-a", "starts_at": "2026-05-09T09:00:00+00:00"}},
            {"id": "shape-2", "type": "appointment.booked", "counterparty": "tom", "occurred_at": "not a time"}]}),
        ("post", "/v1/events", "/v1/events", {"headers": {"Prefer": "respond-async"}, "json": [
            {"id": "shape-3", "type": "appointment.booked", "counterparty": "tom", "occurred_at":
             "2026-05-02T09:00:00+00:00", "data": {"appointment": "shape-b", "starts_at": "2026-05-09T10:00:00+00:00"}},
            {"id": "shape-4", "type": "appointment.booked", "counterparty": "tom", "occurred_at": "not a time"}]}),
        ("get", "/v1/events/through/{through}", "/v1/events/through/1", {}),
        ("get", "/v1/workspace", "/v1/workspace", {}),
    ]
    checked = set()
    for method, template, written, options in calls:
        path = written  # the exception's id: of the one set a step before
        if "{x}" in written:
            path = written.replace("{x}", c.get("/v1/counterparties/tom/exceptions").json()[-1]["id"])
        got = c.request(method.upper(), path, **options)
        assert 200 <= got.status_code < 300, (path, got.status_code, got.text[:300])
        documented = spec["paths"][template][method]["responses"][str(got.status_code)]
        schema = documented["content"]["application/json"]["schema"]
        jsonschema_rs.Draft202012Validator(schema).validate(got.json())
        assert schema.get("properties") or schema.get("items", {}).get("properties"), (path, schema)  # not `{}`
        checked.add((method, template))
    operations = {(m, p) for p, item in spec["paths"].items() if p.startswith("/v1/") for m in item}
    assert operations == checked, operations ^ checked
    conflict = {"id": "shape-1", "type": "appointment.attended", "counterparty": "tom",
                "occurred_at": "2026-05-09T09:00:00+00:00", "data": {"appointment": "shape-a"}}
    for body, status in ((conflict, 409), ([{"id": "shape-3"}], 422), ("just text", 422), ([{}] * 10_001, 413)):
        got = c.post("/v1/events", json=body)
        assert got.status_code == status, (body, got.text[:300])
        schema = spec["paths"]["/v1/events"]["post"]["responses"][str(status)]["content"]["application/json"]["schema"]
        jsonschema_rs.Draft202012Validator(schema).validate(got.json())
