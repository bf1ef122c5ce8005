"""Hostile events through the real API (uvicorn on a loopback port), on SQLite and PostgreSQL: a bad event in
a batch is rejected alone with its field and id, its neighbours are stored, a body that cannot be read is a
clear 4xx, never a 5xx, and a replay afterwards changes no decision."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.requests import Request

from firmly import bootstrap
from firmly.domain import limits
from firmly.domain.errors import ValueRefused
from firmly.domain.ports import Store
from firmly.doors.api import create_app, errors
from firmly.service import replay, rulebooks, tokens, workspace
from tests.e2e.api_harness import CLINIC, serve
from tests.hostile import events, raw_lines, to_json

AT = "2026-03-01T10:00:00+03:00"


@dataclass
class Live:
    client: httpx.Client
    store: Store


@pytest.fixture
def live(database_url: str) -> Iterator[Live]:
    store = bootstrap.store(database_url, f"hostile-api-{uuid.uuid4().hex[:8]}")
    workspace.init(store, "en", "Europe/London", 0)
    rulebooks.load(store, rulebooks.read(CLINIC / "rulebook.yaml"), 0)
    token = tokens.create(store, "admin", "hostile", 0).token
    with serve(create_app(database_url, rate=0)) as base, \
            httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
        yield Live(client, store)


def good(n: int) -> dict[str, Any]:
    return {"id": f"ok-{n}", "type": "appointment.booked", "counterparty": "anna", "occurred_at": AT,
            "data": {"appointment": f"a-{n}", "starts_at": "2026-03-05T10:00:00+03:00"}}


def encoded(event: dict[str, Any]) -> bytes:
    return json.dumps(event, ensure_ascii=False).encode()


def batch(*items: bytes) -> bytes:
    return b"[" + b",".join(items) + b"]"


def post(live: Live, body: bytes) -> httpx.Response:
    return live.client.post("/v1/events", content=body, headers={"content-type": "application/json"})


def stored(live: Live, *ids: str) -> set[str]:
    with live.store.read():
        return set(live.store.digests(set(ids)))


HOSTILE: list[tuple[bytes, str]] = [
    (encoded({**good(0), "id": "mins", "type": "work.logged", "data": {"minutes": 10**30}}), "data.minutes"),
    (encoded({**good(0), "id": "qty", "type": "service.rendered", "data": {"service": "x", "quantity": 1e308}}),
     "data.quantity"),
    (encoded({**good(0), "id": "late", "type": "grace.requested",
              "data": {"text": "please", "late_by": "99999999999999999999d"}}), "data.late_by"),
    (encoded({**good(0), "id": "y9999", "data": {"appointment": "z", "starts_at": "9999-12-31T23:00:00-05:00"}}),
     "data.starts_at"),
    (encoded({**good(0), "id": "i" * 201}), "id"),
    (encoded({**good(0), "id": "long-type", "type": "t" * 101}), "type"),
    (encoded({**good(0), "id": "long-key", "counterparty": "k" * 201}), "counterparty"),
    (encoded({**good(0), "id": "tier", "type": "counterparty.upserted", "data": {"tier": "t" * 101}}), "data.tier"),
    (b'{"id": "deep", "type": "x", "counterparty": "anna", "occurred_at": "' + AT.encode() + b'", "data": {"a": '
     + b"[" * 1000 + b"]" * 1000 + b"}}", "json"),
    (b'{"id": "latin", "type": "x", "counterparty": "zo\xeb", "occurred_at": "' + AT.encode() + b'"}', "json"),
]


def test_each_hostile_event_of_a_batch_is_rejected_alone(live: Live) -> None:
    items: list[bytes] = []
    for n, (hostile, _) in enumerate(HOSTILE):
        items += [encoded(good(n)), hostile]
    items.append(encoded(good(999)))
    response = post(live, batch(*items))
    assert response.status_code == 207, response.text
    answer = response.json()
    results = answer["results"]
    assert len(results) == len(items)
    assert [r["status"] for r in results[0::2]] == ["stored"] * (len(HOSTILE) + 1)
    assert [r["field"] for r in results[1::2]] == [field for _, field in HOSTILE]
    assert all(len(r["reason"]) < 300 for r in results[1::2])
    assert stored(live, *(f"ok-{n}" for n in range(len(HOSTILE))), "ok-999") == \
        {f"ok-{n}" for n in range(len(HOSTILE))} | {"ok-999"}
    assert replay.replay(live.store).rewritten == 0


@pytest.mark.parametrize(("hostile", "field"), HOSTILE[4:8], ids=["id", "type", "counterparty", "tier"])
def test_a_value_too_long_for_its_column_is_a_422_naming_it_on_either_database(live: Live, hostile: bytes,
                                                                               field: str) -> None:
    """Once a 503 "the database is not available" on PostgreSQL, and kept by SQLite."""
    response = post(live, hostile)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field
    assert "at most" in response.json()["error"]["message"]


@pytest.mark.parametrize("body", [
    b'{"id": "x", "type": "x", "counterparty": "\xff", "occurred_at": "' + AT.encode() + b'"}',
    b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    b'[{"id": "x"}, \xff]x',
])
def test_a_body_that_cannot_be_read_is_a_clear_400(live: Live, body: bytes) -> None:
    response = post(live, body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "malformed_json"
    assert error["message"].startswith("the body ")


def test_a_list_of_only_unreadable_events_is_a_422_naming_each(live: Live) -> None:
    response = post(live, batch(b"[" * 5000 + b"]" * 5000, b'"\xff"'))
    assert response.status_code == 422, response.text
    assert [(r["status"], r["field"]) for r in response.json()["results"]] == [("rejected", "json")] * 2


def test_a_batch_deeper_than_the_decoder_goes_keeps_its_good_events(live: Live) -> None:
    deep = b'{"id": "deep", "data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    response = post(live, batch(encoded(good(1)), deep, encoded(good(2))))
    assert response.status_code == 207, response.text
    assert [r["status"] for r in response.json()["results"]] == ["stored", "rejected", "stored"]
    assert "too deeply" in response.json()["results"][1]["reason"]


def test_put_counterparty_refuses_what_does_not_fit_by_name(live: Live) -> None:
    key = "k" * limits.KEY
    assert live.client.put(f"/v1/counterparties/{key}", json={"name": "Long Key Ltd"}).status_code == 200
    too_long = live.client.put(f"/v1/counterparties/{key}k", json={"name": "Longer"})
    assert too_long.status_code == 422
    assert too_long.json()["error"]["field"] == "key"
    tier = live.client.put("/v1/counterparties/anna", json={"tier": "t" * 101})
    assert (tier.status_code, tier.json()["error"]["field"]) == (422, "tier")
    unreadable = live.client.put("/v1/counterparties/anna", content=b'{"name": "zo\xeb"}',
                                 headers={"content-type": "application/json"})
    assert 400 <= unreadable.status_code < 500, unreadable.text
    assert "error" in unreadable.json()


def test_fuzzing_post_events_never_answers_5xx_and_keeps_the_good_events(live: Live) -> None:
    """Hostile events among good ones, as a list or alone: always a JSON answer below 500, each event of a
    list with its own result, the good ones stored; a replay after it all changes no decision."""
    runs = iter(range(10**6))

    @settings(max_examples=30, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(st.lists(st.one_of(events().map(to_json), raw_lines), min_size=1, max_size=4), st.booleans())
    def post_hostile(hostile: list[bytes], alone: bool) -> None:
        run = next(runs)
        goods = [encoded({**good(n), "id": f"fz-good-{run}-{n}"}) for n in range(2)]
        body = hostile[0] if alone else batch(goods[0], *hostile, goods[1])
        response = post(live, body)
        assert response.status_code < 500, response.text[:300]
        answer = response.json()
        assert "error" in answer or "results" in answer
        if alone or "results" not in answer:
            return
        assert len(answer["results"]) >= len(hostile) + 2  # a raw piece may hold a comma: two items
        for result in answer["results"]:
            assert result["status"] in ("stored", "duplicate", "rejected")
            if result["status"] == "rejected":
                assert result["field"] and result["reason"] and len(result["reason"]) < 400
        assert [r["status"] for r in (answer["results"][0], answer["results"][-1])] == ["stored", "stored"]
        assert stored(live, f"fz-good-{run}-0", f"fz-good-{run}-1") == {f"fz-good-{run}-0", f"fz-good-{run}-1"}

    post_hostile()
    assert replay.replay(live.store).rewritten == 0


def test_a_value_the_database_refuses_is_the_requests_fault_not_a_503() -> None:
    refusal = ValueRefused("value too long for type character varying(200)")
    response = errors.response_for(Request({"type": "http", "method": "POST", "path": "/v1/events",
                                            "headers": [], "state": {}}), refusal)
    assert response.status_code == 422
    assert "value too long" in json.loads(bytes(response.body))["error"]["message"]
