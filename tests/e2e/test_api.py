"""The HTTP API over real HTTP: a uvicorn server on a free loopback port, on SQLite and PostgreSQL.

Every endpoint, every role, cross-workspace attempts, idempotent retries, errors, rate limits, and
the examples' (and shared scenarios') events posted through the API giving the same decisions as
`firmly ingest` of the same files.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from firmly import bootstrap
from firmly.domain.clock import parse_instant
from firmly.domain.events import validate
from firmly.domain.ports import Store
from firmly.doors.api import create_app
from firmly.doors.cli import app as firmly_cli
from firmly.service import clock, ingest, queries, replay, review, rulebooks, tokens, wallclock, workspace
from firmly.service.group_commit import GroupCommit
from tests.contract.test_group_commit import busy
from tests.e2e.api_harness import (
    CLINIC,
    EXAMPLES,
    METRICS_TOKEN,
    ROOT,
    TOM_COPIES,
    Api,
    read_events,
    running,
    serve,
)

SHARED = ROOT.parent / "shared" / "scenarios"
STRICTER = (CLINIC / "stricter.yaml").read_bytes()
A_KEYS = {"tom", "lucy", "kim", "ann", "max", *TOM_COPIES}
PAGE_FIELDS = {"key", "kind", "name", "tier", "status", "restrictions", "rules", "account", "scores"}
DECISION_FIELDS = {"id", "counterparty", "rule", "at", "action", "status", "amount", "event", "evidence",
                   "explanation"}


@pytest.fixture
def api(database_url: str) -> Iterator[Api]:
    with running(database_url) as live:
        yield live


# -- helpers --------------------------------------------------------------------------------------
def upsert(key: str, name: str | None = None) -> dict[str, Any]:
    return {"id": f"{key}-cp", "type": "counterparty.upserted", "counterparty": key,
            "occurred_at": "2026-07-01T08:00:00+01:00",
            "data": {"kind": "client", "name": name or f"Client {key}", "locale": "en"}}


def late_cancellations(key: str, visits: int) -> list[dict[str, Any]]:
    """`key` upserted, then `visits` bookings each cancelled 5 hours before the visit (the rule asks 12)."""
    events = [upsert(key)]
    for n in range(visits):
        day = 2 + 4 * n
        events.append({"id": f"{key}-b{n}", "type": "appointment.booked", "counterparty": key,
                       "occurred_at": f"2026-07-{day:02d}T09:00:00+01:00",
                       "data": {"appointment": f"{key}-{n}", "starts_at": f"2026-07-{day + 3:02d}T10:00:00+01:00"}})
        events.append({"id": f"{key}-c{n}", "type": "appointment.cancelled", "counterparty": key,
                       "occurred_at": f"2026-07-{day + 3:02d}T05:00:00+01:00", "data": {"appointment": f"{key}-{n}"}})
    return events


def bad_rating(event_id: str, key: str = "rita") -> dict[str, Any]:
    return {"id": event_id, "type": "review.received", "counterparty": key,
            "occurred_at": "2026-07-01T10:00:00+01:00", "data": {"rating": 9}}


def assert_error(response: httpx.Response, status: int, code: str | None = None,
                 field: str | type[Any] | None = Any) -> dict[str, Any]:
    """The status, and the body `{"error": {"code", "message", "field"}}` as JSON with an X-Request-ID."""
    assert response.status_code == status, (response.request.method, response.request.url, response.text[:500])
    assert response.headers["content-type"].startswith("application/json"), response.headers
    assert response.headers.get("x-request-id"), response.headers
    error = response.json()["error"]
    assert {"code", "message", "field"} <= set(error), error
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    assert "Traceback" not in response.text
    if code is not None:
        assert error["code"] == code, error
    if field is not Any:
        assert error["field"] == field, error
    result: dict[str, Any] = error
    return result


def snapshot(c: httpx.Client, keys: tuple[str, ...] = ()) -> dict[str, Any]:
    """What a reader sees: every decision, the counterparty list and the pages of `keys`."""
    pages = {}
    for k in keys:
        page = c.get(f"/v1/counterparties/{k}")
        pages[k] = page.json() if page.status_code == 200 else page.status_code
    return {"decisions": ok(c.get("/v1/decisions")), "counterparties": ok(c.get("/v1/counterparties")),
            "pages": pages}


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, (response.request.method, response.request.url, response.text[:500])
    assert response.headers.get("x-request-id")
    return response.json()


def metric(c: httpx.Client, name: str, **labels: str) -> float:
    """The sum of the samples of `name` whose labels include `labels`, from /metrics."""
    text = ok_text(c.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}))
    return sum(s.value for family in text_string_to_metric_families(text) for s in family.samples
               if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()))


def ok_text(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text[:300]
    return response.text


def proposals(c: httpx.Client) -> dict[str, str]:
    """counterparty -> id of its proposed decision."""
    return {d["counterparty"]: d["id"] for d in ok(c.get("/v1/decisions", params={"status": "proposed"}))}


# -- POST /v1/events ----------------------------------------------------------------------------------
def test_a_batch_is_stored_decided_and_answered_per_event(api: Api) -> None:
    c = api.client(role="ingest")
    events = late_cancellations("nina", 3)
    body = ok(c.post("/v1/events", json=events))
    assert body["stored"] == len(events)
    assert (body["duplicates"], body["rejected"]) == (0, 0)
    assert body["decisions"] > 0
    assert body["results"] == [{"id": e["id"], "status": "stored"} for e in events]
    reader = api.client(role="viewer")
    page = ok(reader.get("/v1/counterparties/nina"))
    assert page["name"] == "Client nina"
    assert page["rules"]["late_change"]["broken"] == 3
    actions = [d["action"] for d in ok(reader.get("/v1/decisions", params={"counterparty": "nina",
                                                                              "status": "applied"}))
               if d["action"] != "reminder"]
    assert actions == ["feedback", "warning", "fee"]


def test_the_same_batch_twice_changes_nothing(api: Api) -> None:
    c = api.client(role="operator")
    events = [*late_cancellations("olga", 2), upsert("pete")]
    first = ok(c.post("/v1/events", json=events))
    assert first["stored"] == len(events)
    keys = ("olga", "pete", "tom")
    before = snapshot(c, keys)
    for _ in range(2):
        again = ok(c.post("/v1/events", json=events))
        assert (again["stored"], again["duplicates"], again["rejected"], again["decisions"]) == (0, len(events), 0, 0)
        assert again["results"] == [{"id": e["id"], "status": "duplicate"} for e in events]
    one = ok(c.post("/v1/events", json=events[1]))  # the same event alone: a duplicate too
    assert one["results"] == [{"id": events[1]["id"], "status": "duplicate"}]
    assert snapshot(c, keys) == before
    assert metric(c, "firmly_events_duplicate_total", workspace=api.a) == 2 * len(events) + 1


def test_a_single_event_its_retry_and_a_conflicting_reuse_of_its_id(api: Api) -> None:
    c = api.client()
    event = upsert("quinn", "Quinn Original")
    assert ok(c.post("/v1/events", json=event)) == {"stored": 1, "duplicates": 0, "rejected": 0, "decisions": 0,
                                                    "results": [{"id": "quinn-cp", "status": "stored"}]}
    retry = ok(c.post("/v1/events", json=event))
    assert retry["results"] == [{"id": "quinn-cp", "status": "duplicate"}]
    assert retry["stored"] == 0
    before = snapshot(c, ("quinn",))
    conflict = c.post("/v1/events", json=upsert("quinn", "Quinn Changed"))
    assert_error(conflict, 409, "conflict", "id")
    body = conflict.json()
    assert body["results"][0]["status"] == "rejected"
    assert body["results"][0]["code"] == "conflict"
    assert "quinn-cp" in body["results"][0]["reason"]
    assert snapshot(c, ("quinn",)) == before
    assert before["pages"]["quinn"]["name"] == "Quinn Original"


def test_a_mixed_batch_answers_207_with_each_result_in_order(api: Api) -> None:
    c = api.client()
    tom_upsert = read_events(CLINIC / "events.jsonl")[0]
    assert tom_upsert["id"] == "cp-tom"
    batch = [upsert("rosa"), bad_rating("rosa-review", "rosa"), upsert("sven"),
             {**tom_upsert, "data": {**tom_upsert["data"], "name": "Not Tom"}},
             {"type": "appointment.booked", "counterparty": "rosa", "occurred_at": "2026-07-01T10:00:00+01:00",
              "data": {"appointment": "r1", "starts_at": "2026-07-05T10:00:00+01:00"}}]
    response = c.post("/v1/events", json=batch)
    assert response.status_code == 207, response.text
    body = response.json()
    assert (body["stored"], body["duplicates"], body["rejected"]) == (2, 0, 3)
    results = body["results"]
    assert [r["status"] for r in results] == ["stored", "rejected", "stored", "rejected", "rejected"]
    assert [r["id"] for r in results] == ["rosa-cp", "rosa-review", "sven-cp", "cp-tom", None]
    assert (results[1]["code"], results[1]["field"]) == ("invalid", "data.rating")
    assert "9" in results[1]["reason"]
    assert (results[3]["code"], results[3]["field"]) == ("conflict", "id")
    assert results[4]["field"] == "id"
    assert ok(c.get("/v1/counterparties/sven"))["name"] == "Client sven"
    assert ok(c.get("/v1/counterparties/tom"))["name"] == "Tom Baker"
    assert response.headers.get("x-request-id")


@pytest.mark.parametrize(("event", "field"), [
    (bad_rating("r-1"), "data.rating"),
    ({"type": "appointment.no_show", "counterparty": "x", "occurred_at": "2026-07-01T10:00:00+01:00",
      "data": {"appointment": "a"}}, "id"),
    ({"id": "t-1", "type": "appointment.no_show", "counterparty": "x", "occurred_at": "2026-07-01 10:00",
      "data": {"appointment": "a"}}, "occurred_at"),
    ({"id": "t-2", "type": "appointment.no_show", "occurred_at": "2026-07-01T10:00:00+01:00",
      "data": {"appointment": "a"}}, "counterparty"),
    ({"id": "t-4", "type": "incident.reported", "counterparty": "x", "occurred_at": "2026-07-01T10:00:00+01:00",
      "data": {"severity": "apocalyptic"}}, "data.severity"),
    ({"id": "t-3", "type": "payment.received", "counterparty": "x", "occurred_at": "2026-07-01T10:00:00+01:00",
      "data": {"amount": 1500.5}}, "data.amount"),
], ids=["rating", "no-id", "time-without-offset", "no-counterparty", "severity", "float-money"])
def test_a_bad_event_is_422_with_its_field_and_nothing_is_stored(api: Api, event: dict[str, Any],
                                                                   field: str) -> None:
    c = api.client(role="ingest")
    reader = api.client(role="viewer")
    before = snapshot(reader)
    error = assert_error(c.post("/v1/events", json=event), 422, "invalid", field)
    assert error["message"]
    batch = c.post("/v1/events", json=[event, event])
    assert_error(batch, 422, "invalid", field)
    assert [r["status"] for r in batch.json()["results"]] == ["rejected", "rejected"]
    assert snapshot(reader) == before


def test_bodies_that_are_not_events(api: Api) -> None:
    c = api.client()
    for raw in (b"{nope", b"", b"[1, 2", b'{"id": "x"} trailing'):
        assert_error(c.post("/v1/events", content=raw, headers={"content-type": "application/json"}), 400,
                     "malformed_json")
    for raw in (b"42", b'"event"', b"null", b"true"):
        assert_error(c.post("/v1/events", content=raw), 422, "invalid")
    not_objects = c.post("/v1/events", json=[1, "two"])
    assert_error(not_objects, 422, "invalid")
    assert [r["status"] for r in not_objects.json()["results"]] == ["rejected", "rejected"]
    assert ok(c.post("/v1/events", json=[])) == {"stored": 0, "duplicates": 0, "rejected": 0, "decisions": 0,
                                                 "results": []}


def test_at_most_10000_events_in_one_request(api: Api) -> None:
    c = api.client()
    event = upsert("tara")
    assert_error(c.post("/v1/events", json=[event] * 10_001), 413, "too_many_events")
    assert_error(c.get("/v1/counterparties/tara"), 404, "not_found")
    body = ok(c.post("/v1/events", json=[event] * 10_000))
    assert (body["stored"], body["duplicates"], body["rejected"]) == (1, 9_999, 0)
    assert len(body["results"]) == 10_000
    assert ok(c.get("/v1/counterparties/tara"))["name"] == "Client tara"


class CountingWriter(GroupCommit):
    """The server's writer, counting the requests handed to it: the test knows when every post is queued."""

    def __init__(self) -> None:
        super().__init__()
        self.submitted = 0  # only the event loop's thread submits (and the test, before the posts)

    def submit(self, store: Store, parsed: list[ingest.Parsed], later: bool = False
               ) -> Future[ingest.IngestReport]:
        self.submitted += 1
        return super().submit(store, parsed, later)


def _clinic_workspace(database_url: str, name: str) -> tuple[Store, str]:
    """A workspace with the clinic's rulebook and no events, and an admin token for it."""
    store = bootstrap.store(database_url, name)
    workspace.init(store, "en", "Europe/London", 0)
    rulebooks.load(store, rulebooks.read(CLINIC / "rulebook.yaml"), 0)
    return store, tokens.create(store, "admin", f"admin-of-{name}", 0).token


def test_concurrent_single_event_posts_are_one_transaction_and_decide_as_one_ingest(database_url: str) -> None:
    """60 single-event posts at once while the writer is busy (10 of them retries, one id sent with two
    contents): all are stored in one transaction, each is answered for its own event, and the decisions are
    those of `firmly ingest` of the same events in one call. Then all of them again, at their own pace."""
    tag = uuid.uuid4().hex[:8]
    store, token = _clinic_workspace(database_url, f"crowd-{tag}")
    reference, reference_token = _clinic_workspace(database_url, f"crowd-ref-{tag}")
    # one no-show per client: its feedback does not depend on the order the posts reach the writer in
    no_shows: list[dict[str, Any]] = [
        {"id": f"ns-{k}", "type": "appointment.no_show", "counterparty": f"crowd{k}",
         "occurred_at": f"2026-07-01T09:{k:02d}:00+01:00", "data": {"appointment": f"crowd{k}-1"}}
        for k in range(40)]
    valid = no_shows + [upsert(f"crowd-u{k}") for k in range(8)]
    invalid = [bad_rating(f"crowd-bad{k}", f"crowd-bad{k}") for k in range(2)]
    twins = [upsert("crowd-x", "First Content"), upsert("crowd-x", "Second Content")]  # one id, two contents
    posts = [*valid, *valid[1::5], *invalid, *twins]
    random.Random(7).shuffle(posts)  # retries and originals interleaved
    headers = {"Authorization": f"Bearer {token}"}
    app = create_app(database_url)
    writer = CountingWriter()
    app.state.writer = writer  # every post goes through this one; the app's own stays idle

    started = time.monotonic()
    try:
        # one client for all threads (httpx's pool is thread-safe; a client each costs an SSL context each)
        with serve(app) as base, ThreadPoolExecutor(len(posts)) as pool, \
                httpx.Client(base_url=base, headers=headers, timeout=30,
                             limits=httpx.Limits(max_connections=len(posts))) as shared:
            def post(body: dict[str, Any]) -> httpx.Response:
                return shared.post("/v1/events", json=body)

            with busy(writer, store):
                sent = [pool.submit(post, body) for body in posts]
                while writer.submitted < 1 + len(posts):  # the busy writer's own request, then every post
                    assert time.monotonic() - started < 10, f"{writer.submitted - 1} of {len(posts)} posts queued"
                    time.sleep(0.005)
            responses = [f.result() for f in sent]
            assert writer.groups == 2, "the busy writer's own transaction, then one for all the posts"
            again = list(pool.map(post, valid))  # every event once more, unsynchronised: all duplicates
            whole = ingest.ingest(reference, [("crowd.jsonl", n, validate(e)) for n, e in enumerate(valid)],
                                  detailed=True)  # what `firmly ingest crowd.jsonl` does
            ours = ok(shared.get("/v1/decisions"))
            theirs = ok(shared.get("/v1/decisions", headers={"Authorization": f"Bearer {reference_token}"}))
            twin_page = ok(shared.get("/v1/counterparties/crowd-x"))
    finally:
        writer.close()
    by_id: dict[str, list[httpx.Response]] = defaultdict(list)
    for body, response in zip(posts, responses, strict=True):
        by_id[body["id"]].append(response)
    caused = whole.caused or Counter()
    assert all(caused[e["id"]] > 0 for e in no_shows), "each no-show decides something: not a vacuous comparison"
    for e in valid:
        answers = sorted((r.json() for r in by_id[e["id"]]), key=lambda b: b["duplicates"])
        assert all(r.status_code == 200 for r in by_id[e["id"]]), [r.text for r in by_id[e["id"]]]
        first, *retries = answers
        assert first == {"stored": 1, "duplicates": 0, "rejected": 0, "decisions": caused[e["id"]],
                         "results": [{"id": e["id"], "status": "stored"}]}, e["id"]
        assert retries == [{"stored": 0, "duplicates": 1, "rejected": 0, "decisions": 0,
                            "results": [{"id": e["id"], "status": "duplicate"}]}] * len(retries), e["id"]
        assert len(retries) == int(e in valid[1::5]), e["id"]
    for e in invalid:
        (response,) = by_id[e["id"]]
        assert_error(response, 422, "invalid", "data.rating")
        assert response.json()["results"][0]["status"] == "rejected"
    codes = sorted(r.status_code for r in by_id["crowd-x-cp"])
    assert codes == [200, 409], "one content of crowd-x-cp is stored, the other refused"
    winner = next(b for b, r in zip(posts, responses, strict=True) if b["id"] == "crowd-x-cp" and r.status_code == 200)
    assert twin_page["name"] == winner["data"]["name"], "the stored content is the one answered 200"
    assert_error(next(r for r in by_id["crowd-x-cp"] if r.status_code == 409), 409, "conflict", "id")
    assert sum(r.json()["decisions"] for r in responses) == whole.decisions
    assert ours == theirs, "the same decisions, with the same ids and explanations, as one `firmly ingest`"
    assert [(r.status_code, r.json()["results"], r.json()["decisions"]) for r in again] == [
        (200, [{"id": e["id"], "status": "duplicate"}], 0) for e in valid]


# -- counterparties -------------------------------------------------------------------------------------
def test_counterparty_list_filters_and_pages(api: Api) -> None:
    c = api.client(role="viewer")
    listed = ok(c.get("/v1/counterparties"))
    assert {r["key"] for r in listed} == A_KEYS
    assert all(set(r) >= {"key", "kind", "name", "tier", "status"} for r in listed)
    restricted = ok(c.get("/v1/counterparties", params={"status": "restricted"}))
    assert {r["key"] for r in restricted} == {"tom", *TOM_COPIES}
    assert {r["key"] for r in ok(c.get("/v1/counterparties", params={"kind": "client", "status": "active"}))} \
        == A_KEYS - {"tom", *TOM_COPIES}
    assert ok(c.get("/v1/counterparties", params={"kind": "supplier"})) == []
    family = [r for r in listed if r["key"] == "kim"]
    assert family == [{"key": "kim", "kind": "client", "name": "Kim Park", "tier": "family", "status": "active"}]
    page = ok(c.get("/v1/counterparties/tom"))
    assert set(page) >= PAGE_FIELDS
    assert (page["key"], page["name"], page["status"]) == ("tom", "Tom Baker", "restricted")
    assert page["restrictions"][0]["type"] == "require_prepayment"
    assert page["restrictions"][0]["until"].endswith("+00:00")
    assert page["rules"]["late_change"] == {"strikes": 5, "step": "require_prepayment", "kept_streak": 0,
                                            "broken": 5, "kept": 0}
    assert page["account"]["due"] == "25.00"
    assert_error(c.get("/v1/counterparties/nobody"), 404, "not_found")


def test_put_creates_and_updates_a_counterparty(api: Api) -> None:
    c = api.client(role="operator")
    created = ok(c.put("/v1/counterparties/zoe", json={"kind": "client", "name": "Zoe", "tier": "family",
                                                        "email": "zoe@example.org"}))
    assert set(created) >= PAGE_FIELDS
    assert (created["key"], created["name"], created["tier"], created["status"]) == ("zoe", "Zoe", "family",
                                                                                      "active")
    updated = ok(c.put("/v1/counterparties/zoe", json={"name": "Zoë"}))
    assert (updated["name"], updated["tier"]) == ("Zoë", "family")  # what is left out stays as it was
    assert ok(c.get("/v1/counterparties/zoe")) == updated
    assert "zoe" in {r["key"] for r in ok(c.get("/v1/counterparties", params={"kind": "client"}))}
    tom = ok(c.put("/v1/counterparties/tom", json={"tier": "vip"}))
    assert (tom["tier"], tom["name"], tom["rules"]["late_change"]["broken"]) == ("vip", "Tom Baker", 5)


@pytest.mark.parametrize(("body", "field"), [
    ({"kind": "alien"}, "kind"),
    ({"name": ""}, "name"),
    ({"prices": {"cleaning": "cheap"}}, "prices"),
    ({"locale": "fr"}, "locale"),
    ({"rulebooks": "smile"}, "rulebooks"),
])
def test_put_refuses_bad_fields_with_the_field(api: Api, body: dict[str, Any], field: str) -> None:
    c = api.client()
    before = ok(c.get("/v1/counterparties/tom"))
    assert_error(c.put("/v1/counterparties/tom", json=body), 422, "invalid", field)
    assert_error(c.put("/v1/counterparties/newbie", json=body), 422, "invalid", field)
    assert ok(c.get("/v1/counterparties/tom")) == before
    assert_error(c.get("/v1/counterparties/newbie"), 404, "not_found")


# -- decisions and reviews -----------------------------------------------------------------------------
def test_decisions_with_filters(api: Api) -> None:
    c = api.client(role="viewer")
    everything = ok(c.get("/v1/decisions"))
    assert everything, "the clinic example decides things"
    assert all(set(d) >= DECISION_FIELDS for d in everything)
    assert [d["at"] for d in everything] == sorted(d["at"] for d in everything)
    assert {d["counterparty"] for d in everything} <= A_KEYS
    toms = ok(c.get("/v1/decisions", params={"counterparty": "tom"}))
    assert toms == [d for d in everything if d["counterparty"] == "tom"]
    ladder = ok(c.get("/v1/decisions", params={"counterparty": "tom", "rule": "late_change", "status": "applied"}))
    assert [d["action"] for d in ladder if d["action"] != "reminder"] == ["feedback", "warning", "fee",
                                                                         "require_prepayment"]
    fee = next(d for d in ladder if d["action"] == "fee")
    assert (fee["amount"], fee["event"]) == ("25.00", "t3-cancel")
    no_show = ok(c.get("/v1/decisions", params={"rule": "no_show"}))
    assert no_show and {d["rule"] for d in no_show} == {"no_show"}
    proposed = ok(c.get("/v1/decisions", params={"status": "proposed"}))
    assert sorted(d["counterparty"] for d in proposed) == sorted(["tom", *TOM_COPIES])
    assert {(d["action"], d["step"]) for d in proposed} == {("suspend", 5)}
    assert ok(c.get("/v1/decisions", params={"counterparty": "nobody"})) == []


def test_review_approve_soften_dismiss(api: Api) -> None:
    c = api.client(role="operator")
    waiting = proposals(c)
    assert set(waiting) == {"tom", *TOM_COPIES}
    approved = ok(c.post(f"/v1/reviews/{waiting['tom']}/approve", json={"reason": "Five late cancellations."}))
    assert set(approved) >= DECISION_FIELDS
    assert (approved["id"], approved["status"], approved["action"]) == (waiting["tom"], "approved", "suspend")
    assert ok(c.get("/v1/counterparties/tom"))["status"] == "suspended"
    softened = ok(c.post(f"/v1/reviews/{waiting['tom-2']}/soften", json={"reason": "First time this long.",
                                                                          "step": 4}))
    assert softened["status"] == "softened"
    assert ok(c.get("/v1/counterparties/tom-2"))["status"] == "restricted"
    dismissed = ok(c.post(f"/v1/reviews/{waiting['tom-3']}/dismiss", json={"reason": "Family emergency."}))
    assert dismissed["status"] == "dismissed"
    assert ok(c.get("/v1/counterparties/tom-3"))["status"] == "restricted"
    assert proposals(c) == {}
    log = review.log(bootstrap.store(api.database_url, api.a))
    assert {(r["decision"], r["act"], r["reason"]) for r in log} == {
        (waiting["tom"], "approve", "Five late cancellations."),
        (waiting["tom-2"], "soften", "First time this long."),
        (waiting["tom-3"], "dismiss", "Family emergency.")}
    assert {r["author"] for r in log} == {f"token:operator-of-{api.a}"}
    # an already-decided proposal: 409, and it stays as it was
    for act in ("approve", "soften", "dismiss"):
        assert_error(c.post(f"/v1/reviews/{waiting['tom']}/{act}", json={"reason": "again", "step": 1}), 409,
                     "conflict")
    assert ok(c.get("/v1/decisions", params={"counterparty": "tom", "status": "approved"}))[0]["id"] == waiting["tom"]


def test_review_refusals(api: Api) -> None:
    c = api.client()
    target = proposals(c)["tom"]
    url = f"/v1/reviews/{target}"
    assert_error(c.post(f"{url}/approve", json={}), 422, "invalid", "reason")
    assert_error(c.post(f"{url}/dismiss", json={"reason": ""}), 422, "invalid", "reason")
    assert_error(c.post(f"{url}/approve"), 422, "invalid")
    assert_error(c.post(f"{url}/approve", content=b"{bad", headers={"content-type": "application/json"}), 422,
                 "invalid")
    assert_error(c.post(f"{url}/cancel", json={"reason": "x"}), 422, "invalid", "act")
    assert_error(c.post(f"{url}/soften", json={"reason": "x", "step": 0}), 422, "invalid", "step")
    for body in ({"reason": "x"}, {"reason": "x", "step": 5}, {"reason": "x", "step": 9}, {"reason": "   "}):
        response = c.post(f"{url}/soften", json=body)
        assert response.status_code in (400, 422), response.text
        assert_error(response, response.status_code)
    assert_error(c.post("/v1/reviews/d-0000000000000000/approve", json={"reason": "x"}), 404, "not_found")
    assert proposals(c)["tom"] == target


# -- accounts, reports, rulebooks, simulations -------------------------------------------------------------
def test_accounts(api: Api) -> None:
    c = api.client(role="viewer")
    account = ok(c.get("/v1/accounts/tom"))
    assert {"balance", "currency", "due", "entries"} <= set(account)
    assert (account["balance"], account["currency"], account["due"]) == ("0.00", "GBP", "25.00")
    assert [(e["kind"], e["amount"], e["event"]) for e in account["entries"]] == [("debit", "25.00", "t3-cancel")]
    assert all({"at", "amount", "kind", "event", "service", "memo"} <= set(e) for e in account["entries"])
    assert_error(c.get("/v1/accounts/nobody"), 404, "not_found")
    assert_error(c.get("/v1/accounts/lucy"), 404, "not_found")  # no rulebook of hers keeps an account


def test_reports(api: Api) -> None:
    c = api.client(role="viewer")
    cost = ok(c.get("/v1/reports/cost-to-serve"))
    assert {r["key"] for r in cost} == A_KEYS
    assert all({"key", "name", "effort_minutes", "revenue", "ratio", "flagged", "breakdown"} <= set(r) for r in cost)
    assert all({"by_topic", "by_service", "off_channel", "out_of_tariff_minutes"} <= set(r["breakdown"])
               for r in cost)
    assert ok(c.get("/v1/reports/partners")) == []  # the clinic has clients only
    assert ok(c.get("/v1/reports/suppliers")) == []
    assert isinstance(ok(c.get("/v1/reports/courtesy")), list)
    assert_error(c.get("/v1/reports/gossip"), 422, "invalid", "name")


def _broken_rulebook() -> tuple[bytes, int]:
    """The clinic rulebook with an unreadable notice period, and the line it is on."""
    text = (CLINIC / "rulebook.yaml").read_text(encoding="utf-8")
    lines = text.splitlines()
    line = next(n for n, s in enumerate(lines, 1) if "min_notice:" in s)
    return text.replace("min_notice: 12h", "min_notice: soonish").encode(), line


def test_rulebooks(api: Api) -> None:
    c = api.client()
    stored = ok(c.get("/v1/rulebooks"))
    assert [(r["id"], r["version"]) for r in stored] == [("smile", "2026-05")]
    assert {"id", "version", "hash", "loaded_at", "effective_from", "loaded_by"} <= set(stored[0])
    broken, line = _broken_rulebook()
    response = c.post("/v1/rulebooks", content=broken, headers={"content-type": "application/yaml"})
    error = assert_error(response, 422, "invalid")
    assert error["field"] is not None and "min_notice" in error["field"]
    assert any(p["line"] == line and "min_notice" in p["field"] for p in error["problems"]), error["problems"]
    assert f":{line}:" in error["message"]
    garbage = c.post("/v1/rulebooks", content=b"rules: [unclosed\n  - {", headers={"content-type": "text/plain"})
    assert all(isinstance(p["line"], int) for p in assert_error(garbage, 422, "invalid")["problems"])
    assert_error(c.post("/v1/rulebooks", content=b"\xff\xfe\x00"), 400)
    assert ok(c.get("/v1/rulebooks")) == stored
    loaded = ok(c.post("/v1/rulebooks", content=STRICTER, headers={"content-type": "application/yaml"}), 201)
    assert (loaded["id"], loaded["version"], loaded["new"]) == ("smile", "2026-06-strict", True)
    assert len(loaded["hash"]) == 64 and isinstance(loaded["warnings"], list)
    again = c.post("/v1/rulebooks", content=STRICTER, headers={"content-type": "application/yaml"})
    assert again.status_code in (200, 201) and again.json()["new"] is False
    listed = ok(c.get("/v1/rulebooks"))
    assert [(r["version"], r["hash"]) for r in listed] == [
        ("2026-05", stored[0]["hash"]), ("2026-06-strict", loaded["hash"])]
    assert str(listed[1]["loaded_by"]).startswith("token:")  # who loaded it: the token's name
    changed = STRICTER.replace(b"Bright Smile Dental", b"Bright Smile")
    assert_error(c.post("/v1/rulebooks", content=changed, headers={"content-type": "application/yaml"}), 409,
                 "conflict")


def test_simulation_changes_nothing(api: Api) -> None:
    c = api.client(role="operator")
    before = snapshot(c, ("ann", "tom"))
    result = ok(c.post("/v1/simulations", content=STRICTER, headers={"content-type": "application/yaml"}))
    fee = result["totals"]["fee"]
    assert fee["simulated"] - fee["current"] == 1  # under a 48-hour rule Ann would have paid a fee too
    assert [row["key"] for row in result["counterparties"]] == ["ann"]
    assert {"action", "current", "simulated"} <= set(result["counterparties"][0]["changes"][0])
    later = ok(c.post("/v1/simulations", params={"since": "2026-06-01T00:00:00+01:00"}, content=STRICTER))
    assert later["totals"].get("fee", {"current": 0, "simulated": 0}) == {"current": 0, "simulated": 0}
    assert snapshot(c, ("ann", "tom")) == before
    assert_error(c.post("/v1/simulations", params={"since": "yesterday"}, content=STRICTER), 422, "invalid",
                 "since")
    broken, _ = _broken_rulebook()
    assert_error(c.post("/v1/simulations", content=broken), 422, "invalid")
    assert ok(c.get("/v1/rulebooks"))[-1]["version"] == "2026-05"


# -- operations ------------------------------------------------------------------------------------------
def test_healthz_and_metrics(api: Api) -> None:
    anonymous = api.anonymous()
    health = anonymous.get("/healthz")
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert health.headers.get("x-request-id")
    scrape = anonymous.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert scrape.status_code == 200 and scrape.headers["content-type"].startswith("text/plain")
    assert f'workspace="{api.a}"' in scrape.text  # the operator's view: every workspace by name
    c = api.client(role="ingest")
    names = ("firmly_events_ingested_total", "firmly_events_duplicate_total", "firmly_events_rejected_total")
    before = [metric(anonymous, n, workspace=api.a) for n in names]
    posts = metric(anonymous, "firmly_request_seconds_count", method="POST", route="/v1/events", status="207")
    proposed = metric(anonymous, "firmly_decisions", workspace=api.a, action="suspend", status="proposed")
    assert proposed == 1 + len(TOM_COPIES)
    events = late_cancellations("uma", 1)
    c.post("/v1/events", json=events)
    assert c.post("/v1/events", json=[*events, bad_rating("uma-review")]).status_code == 207
    after = [metric(anonymous, n, workspace=api.a) for n in names]
    assert [x - y for x, y in zip(after, before, strict=True)] == [len(events), len(events), 1]
    assert metric(anonymous, "firmly_request_seconds_count", method="POST", route="/v1/events",
                  status="207") == posts + 1
    assert metric(anonymous, "firmly_decisions", workspace=api.a, action="feedback", status="applied") > 0
    api.client(role="viewer").get("/v1/counterparties/tom")
    assert metric(anonymous, "firmly_request_seconds_count", method="GET", route="/v1/counterparties/{key}") >= 1
    assert metric(anonymous, "firmly_events_ingested_total", workspace=api.b) == 0


def test_metrics_need_the_installations_token(api: Api) -> None:
    """/metrics names every workspace: neither an anonymous caller nor any workspace's own token reads it."""
    callers = {"anonymous": api.anonymous(), "a wrong token": api.anonymous(),
               **{f"{role} of A": api.client(role=role) for role in sorted(EVERYONE)}}
    for who, c in callers.items():
        headers = {"Authorization": "Bearer not-the-metrics-token"} if who == "a wrong token" else None
        refused = c.get("/metrics", headers=headers)
        assert_error(refused, 401, "unauthorized")
        assert refused.headers["www-authenticate"] == "Bearer", who
        assert api.a not in refused.text and "firmly_decisions" not in refused.text, who


def test_metrics_are_off_until_a_token_is_set(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FIRMLY_METRICS_TOKEN", raising=False)
    with running(database_url) as api, serve(create_app(database_url)) as base:
        refused = httpx.get(f"{base}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        assert_error(refused, 403, "forbidden")
        assert "FIRMLY_METRICS_TOKEN" in refused.json()["error"]["message"]
        assert api.a not in refused.text


EVENT_WITH_NUL = (b'{"id": "nul\\u0000", "type": "appointment.no_show", "counterparty": "c", '
                  b'"occurred_at": "2026-07-01T10:00:00+01:00", "data": {"appointment": "a"}}')
ODD_TEXT: list[tuple[str, str, bytes]] = [
    # a control character, which YAML does not allow
    ("POST", "/v1/rulebooks", b"rulebook: smile\x01\n"),
    ("POST", "/v1/simulations", b"rulebook: smile\x01\n"),
    # an escape for half a UTF-16 pair (a lone surrogate), in YAML and in JSON
    ("POST", "/v1/rulebooks", b'"\\ud800": 1\n'),
    ("POST", "/v1/simulations", b'"\\ud800": 1\n'),
    ("PUT", "/v1/counterparties/zed", b'{"name": "\\ud800"}'),
    # NUL, which PostgreSQL text cannot hold
    ("GET", "/v1/counterparties?kind=%00", b""),
    ("GET", "/v1/decisions?counterparty=a%00b", b""),
    ("GET", "/v1/counterparties/a%00b", b""),
    ("GET", "/v1/accounts/a%00b", b""),
    ("PUT", "/v1/counterparties/a%00b", b'{"name": "x"}'),
    ("PUT", "/v1/counterparties/zed", b'{"name": "x\\u0000y"}'),
    ("POST", "/v1/events", EVENT_WITH_NUL),
]


def test_odd_text_is_the_clients_error_never_a_server_error(api: Api) -> None:
    """What schemathesis found, kept as plain requests: each must be answered (a 4xx, or 2xx where the
    text can be kept), never a 5xx, and always with the error JSON."""
    headers = {"Authorization": f"Bearer {api.tokens[api.a, 'admin']}", "content-type": "application/json"}
    wrong = []
    for method, path, body in ODD_TEXT:
        response = httpx.request(method, f"{api.base}{path}", content=body, headers=headers, timeout=30)
        if response.status_code >= 500:
            wrong.append(f"{method} {path} {body!r} -> {response.status_code} {response.text[:160]}")
        elif response.status_code >= 400:
            assert_error(response, response.status_code)
    assert not wrong, "\n".join(wrong)
    assert ok(api.client().get("/healthz")) == {"status": "ok"}


def test_errors_are_json_with_a_request_id(api: Api) -> None:
    c = api.client()
    cases: list[tuple[httpx.Response, int]] = [
        (api.anonymous().get("/v1/decisions"), 401),
        (api.client(role="ingest").get("/v1/decisions"), 403),
        (c.get("/v1/counterparties/nobody"), 404),
        (c.get("/v1/nowhere"), 404),
        (c.delete("/v1/events"), 405),  # GET lists the stored events; nothing deletes them
        (c.delete("/v1/counterparties/tom"), 405),
        (c.post("/v1/events", content=b"{"), 400),
        (c.put("/v1/counterparties/x", json={"kind": 1}), 422),
        (c.post("/v1/events", json=bad_rating("e-1")), 422),
        (c.post("/v1/reviews/nothing/approve", json={"reason": "x"}), 404),
    ]
    for response, status in cases:
        assert_error(response, status)
    rids = {r.headers["x-request-id"] for r, _ in cases}
    assert len(rids) == len(cases), "each request gets its own id"
    mine = c.get("/v1/counterparties/nobody", headers={"X-Request-ID": "trace-1234"})
    assert mine.headers["x-request-id"] == "trace-1234"
    assert ok(c.get("/v1/rulebooks", headers={"X-Request-ID": "trace-5678"})) is not None
    assert c.get("/v1/rulebooks", headers={"X-Request-ID": "trace-5678"}).headers["x-request-id"] == "trace-5678"


# -- authentication, roles, workspaces, rate ----------------------------------------------------------------
def test_authentication(api: Api) -> None:
    good = api.tokens[api.a, "admin"]
    token_id = api.token_ids[api.a, "admin"]
    for header in (None, "", "Bearer", f"Basic {good}", f"Token {good}", "Bearer fy_nope_nope",
                   f"Bearer fy_{token_id}_wrongsecret", f"Bearer {good}x", f"Bearer xx_{good[3:]}"):
        headers = {} if header is None else {"Authorization": header}
        for method, path in (("GET", "/v1/decisions"), ("POST", "/v1/events"), ("GET", "/v1/counterparties/tom")):
            response = httpx.request(method, f"{api.base}{path}", headers=headers, json=upsert("intruder"))
            assert_error(response, 401, "unauthorized", "Authorization")
            assert response.headers.get("www-authenticate") == "Bearer"
            assert "Tom Baker" not in response.text
    assert_error(api.client().get("/v1/counterparties/intruder"), 404)
    assert ok(httpx.get(f"{api.base}/v1/decisions", headers={"Authorization": f"bearer {good}"}))


def test_the_counterparty_page_on_its_fast_path_is_the_querys_own_answer(api: Api) -> None:
    """GET /v1/counterparties/{key} is answered before FastAPI's router: the body must be exactly the page, with
    the request id, and what the fast path does not take (HEAD) still reaches the documented route."""
    viewer = api.client(role="viewer")
    fast = viewer.get("/v1/counterparties/tom", headers={"X-Request-ID": "page-1"})
    assert fast.status_code == 200 and fast.headers["x-request-id"] == "page-1"
    assert fast.headers["content-type"] == "application/json"
    store = bootstrap.store(api.database_url, api.a)
    assert fast.json() == json.loads(json.dumps(queries.counterparty(store, "tom")))
    assert viewer.head("/v1/counterparties/tom").status_code in (200, 405)  # the router's answer, not a 5xx
    assert api.client(role="ingest").get("/v1/counterparties/tom").status_code == 403


def test_a_busy_database_is_a_503_not_the_clients_fault() -> None:
    from starlette.requests import Request  # noqa: PLC0415 - only this test builds a bare request

    from firmly.domain.errors import StorageError  # noqa: PLC0415
    from firmly.doors.api.errors import response_for  # noqa: PLC0415

    request = Request({"type": "http", "method": "GET", "path": "/", "headers": [], "state": {"request_id": "r1"}})
    answer = response_for(request, StorageError("the database is busy: another process has been writing to it"))
    assert answer.status_code == 503
    assert json.loads(bytes(answer.body))["error"]["code"] == "unavailable"
    assert "r1" in json.loads(bytes(answer.body))["error"]["message"]


def test_the_openapi_says_every_v1_operation_needs_a_bearer_token(api: Api) -> None:
    """All but the vendors' deliveries (`/v1/hooks/{id}`), which the vendor signs instead."""
    schema = httpx.get(f"{api.base}/openapi.json").json()
    assert schema["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer", "description": "a token from `firmly token create`"}
    operations = [(path, op) for path, ops in schema["paths"].items() for op in ops.values()]
    assert sum(path.startswith("/v1/") for path, _ in operations) == 27  # routes' 15, connectors' 9, exceptions' 3
    for path, op in operations:
        needs_token = path.startswith("/v1/") and not path.startswith("/v1/hooks/")
        assert (op.get("security") == [{"bearer": []}]) == needs_token, path


def test_personal_exceptions_through_the_api(api: Api) -> None:
    """Set, list and end one; a viewer may read but not set; what is wrong is named, never a 500."""
    c, viewer = api.client(), api.client(role="viewer")
    body = {"rule": "no_show", "until": "2100-01-01T00:00:00+00:00", "reason": "a family emergency"}
    made = c.post("/v1/counterparties/tom/exceptions", json=body)
    assert made.status_code == 201, made.text
    exception = made.json()
    assert (exception["rule"], exception["state"], exception["ended"]) == ("no_show", "active", None)
    assert [e["id"] for e in ok(viewer.get("/v1/counterparties/tom/exceptions"))] == [exception["id"]]
    assert_error(viewer.post("/v1/counterparties/tom/exceptions", json=body), 403)
    assert_error(c.post("/v1/counterparties/nobody/exceptions", json=body), 404)
    assert_error(c.post("/v1/counterparties/tom/exceptions", json={**body, "rule": "nope"}), 400)
    assert_error(c.post("/v1/counterparties/tom/exceptions", json={**body, "until": "soon"}), 422)
    assert_error(c.post("/v1/counterparties/tom/exceptions", json={**body, "reason": ""}), 422)
    ended = c.post(f"/v1/counterparties/tom/exceptions/{exception['id']}/end", json={"reason": "back to normal"})
    assert ended.status_code == 200 and ended.json()["state"] == "ended", ended.text
    assert_error(c.post(f"/v1/counterparties/tom/exceptions/{exception['id']}/end", json={"reason": "again"}), 409)
    assert_error(c.post("/v1/counterparties/tom/exceptions/nothing/end", json={"reason": "r"}), 404)


def test_a_revoked_token_is_refused_within_5_seconds(api: Api) -> None:
    viewer = api.client(role="viewer")
    ok(viewer.get("/v1/counterparties"))  # the server now trusts this token for up to 5 s
    revoked_at = time.monotonic()
    tokens.revoke(bootstrap.store(api.database_url, api.a), api.token_ids[api.a, "viewer"], 0)
    with serve(create_app(api.database_url)) as fresh:  # a server that never saw it refuses it at once
        response = httpx.get(f"{fresh}/v1/counterparties", headers=viewer.headers)
        assert_error(response, 401, "unauthorized")
    while True:
        sent = time.monotonic()
        response = viewer.get("/v1/counterparties")
        if response.status_code == 401:
            break
        assert response.status_code == 200
        assert sent - revoked_at < 5.1, "the revoked token still works 5 s after it was revoked"
        time.sleep(0.2)
    assert_error(response, 401, "unauthorized")
    assert ok(api.client(role="operator").get("/v1/counterparties"))  # the others still work


def _review_call(act: str, key: str) -> Callable[[Api, httpx.Client, str], httpx.Response]:
    def call(api: Api, c: httpx.Client, role: str) -> httpx.Response:
        target = proposals(api.client())[key]
        return c.post(f"/v1/reviews/{target}/{act}", json={"reason": f"{role} decides", "step": 4}
                      if act == "soften" else {"reason": f"{role} decides"})
    return call


def _get(path: str) -> Callable[[Api, httpx.Client, str], httpx.Response]:
    return lambda api, c, role: c.get(path)


READ, ACT, ADMIN, SEND = ({"admin", "operator", "viewer"}, {"admin", "operator"}, {"admin"},
                          {"admin", "operator", "ingest"})
EVERYONE = {"admin", "operator", "viewer", "ingest"}
Call = Callable[[Api, httpx.Client, str], httpx.Response]
ENDPOINTS: list[tuple[str, set[str], Call]] = [
    ("POST /v1/events (one)", SEND, lambda api, c, role: c.post("/v1/events", json=upsert(f"by-{role}"))),
    ("POST /v1/events (batch)", SEND,
     lambda api, c, role: c.post("/v1/events", json=late_cancellations(f"batch-{role}", 2))),
    ("GET /v1/counterparties", READ, lambda api, c, role: c.get("/v1/counterparties", params={"kind": "client"})),
    ("GET /v1/counterparties/{key}", READ, lambda api, c, role: c.get("/v1/counterparties/tom")),
    ("PUT /v1/counterparties/{key}", ACT,
     lambda api, c, role: c.put(f"/v1/counterparties/put-{role}", json={"kind": "client", "name": role})),
    ("GET /v1/counterparties/{key}/link", ACT, lambda api, c, role: c.get("/v1/counterparties/tom/link")),
    ("POST /v1/counterparties/{key}/link/revoke", ACT,
     lambda api, c, role: c.post("/v1/counterparties/lucy/link/revoke")),
    ("GET /v1/decisions", READ, lambda api, c, role: c.get("/v1/decisions", params={"counterparty": "tom"})),
    ("POST /v1/reviews/{id}/approve", ACT, _review_call("approve", "tom")),
    ("POST /v1/reviews/{id}/soften", ACT, _review_call("soften", "tom-2")),
    ("POST /v1/reviews/{id}/dismiss", ACT, _review_call("dismiss", "tom-3")),
    ("GET /v1/accounts/{key}", READ, lambda api, c, role: c.get("/v1/accounts/tom")),
    ("GET /v1/rulebooks", READ, lambda api, c, role: c.get("/v1/rulebooks")),
    ("POST /v1/rulebooks", ADMIN, lambda api, c, role: c.post("/v1/rulebooks", content=STRICTER)),
    ("POST /v1/simulations", ACT, lambda api, c, role: c.post("/v1/simulations", content=STRICTER)),
    *[(f"GET /v1/reports/{name}", READ, _get(f"/v1/reports/{name}"))
      for name in ("cost-to-serve", "partners", "suppliers", "courtesy")],
    ("GET /healthz", EVERYONE, lambda api, c, role: c.get("/healthz")),
]  # /metrics takes no workspace's token: test_metrics_need_the_installations_token


@pytest.mark.parametrize("role", sorted(EVERYONE))
def test_every_role_against_every_endpoint(api: Api, role: str) -> None:
    c = api.client(role=role)
    admin = api.client()
    wrong = []
    for name, allowed, call in ENDPOINTS:
        response = call(api, c, role)
        if role in allowed:
            if not 200 <= response.status_code < 300:
                wrong.append(f"{name}: {role} got {response.status_code}, expected 2xx: {response.text[:200]}")
        elif response.status_code != 403:
            wrong.append(f"{name}: {role} got {response.status_code}, expected 403")
        else:
            assert_error(response, 403, "forbidden")
    assert not wrong, "\n".join(wrong)
    # what a refused token asked for did not happen
    waiting = proposals(admin)
    assert (set(waiting) == {"tom", *TOM_COPIES}) == (role not in ACT)
    assert (c_status(admin, f"put-{role}") == 200) == (role in ACT)
    assert (c_status(admin, f"by-{role}") == 200) == (role in SEND)
    assert (c_status(admin, f"batch-{role}") == 200) == (role in SEND)
    assert (len(ok(admin.get("/v1/rulebooks"))) == 2) == (role in ADMIN)


def _opened(api: Api, url: str) -> httpx.Response:
    """The client's page behind `url`, asked of the running server (the link starts with page_url)."""
    assert "/my/" in url, url
    return httpx.get(f"{api.base}/my/{url.split('/my/', 1)[1]}", timeout=30)


def test_the_client_page_link_is_made_and_revoked_through_the_api(api: Api) -> None:
    admin, operator = api.client(), api.client(role="operator")
    made = ok(admin.get("/v1/counterparties/tom/link"))
    assert set(made) == {"key", "url", "expires_at"} and made["key"] == "tom"
    days = (parse_instant(made["expires_at"]) - wallclock.now()) / 86_400_000_000
    assert 29.99 < days <= 30, days  # page_link_days, default 30
    page = _opened(api, made["url"])
    assert page.status_code == 200 and "Tom Baker" in page.text, page.text[:300]
    # the role checks: a viewer may not revoke, an ingest token may not even read a link
    assert_error(api.client(role="viewer").post("/v1/counterparties/tom/link/revoke"), 403, "forbidden")
    assert_error(api.client(role="ingest").get("/v1/counterparties/tom/link"), 403, "forbidden")
    assert _opened(api, made["url"]).status_code == 200, "a refused revocation revoked nothing"
    # another workspace's token finds no Tom, and unknown keys are 404 with no link made
    assert_error(api.client(api.b).get("/v1/counterparties/tom/link"), 404, "not_found")
    assert_error(api.client(api.b).post("/v1/counterparties/tom/link/revoke"), 404, "not_found")
    assert_error(admin.get("/v1/counterparties/nobody/link"), 404, "not_found")
    assert_error(admin.post("/v1/counterparties/nobody/link/revoke"), 404, "not_found")
    assert _opened(api, made["url"]).status_code == 200
    assert ok(operator.post("/v1/counterparties/tom/link/revoke")) == {"key": "tom", "revoked": True}
    refused = _opened(api, made["url"])
    assert refused.status_code == 403 and "Tom Baker" not in refused.text
    assert "withdrawn" in refused.text
    again = ok(operator.get("/v1/counterparties/tom/link"))
    assert again["url"] != made["url"]
    assert _opened(api, again["url"]).status_code == 200
    lucy = ok(admin.get("/v1/counterparties/lucy/link"))  # one counterparty's revocation leaves the others' links
    ok(admin.post("/v1/counterparties/tom/link/revoke"))
    assert _opened(api, lucy["url"]).status_code == 200
    assert _opened(api, again["url"]).status_code == 403


def c_status(c: httpx.Client, key: str) -> int:
    return c.get(f"/v1/counterparties/{key}").status_code


def test_a_workspace_never_sees_another(api: Api) -> None:
    a = api.client()
    b_admin, b_viewer = api.client(api.b), api.client(api.b, "viewer")
    a_before = snapshot(a, ("tom",))
    a_waiting = proposals(a)
    for b in (b_admin, b_viewer):
        for path in ("/v1/counterparties/tom", "/v1/accounts/tom", "/v1/counterparties/lucy"):
            response = b.get(path)
            assert_error(response, 404, "not_found")
            assert "Tom Baker" not in response.text and "Lucy" not in response.text
        assert ok(b.get("/v1/counterparties")) == []
        assert ok(b.get("/v1/decisions")) == []
        assert ok(b.get("/v1/decisions", params={"counterparty": "tom"})) == []
        assert ok(b.get("/v1/reports/cost-to-serve")) == []
        sim = ok(b_admin.post("/v1/simulations", content=STRICTER))
        assert sim["counterparties"] == []
    for act in ("approve", "soften", "dismiss"):
        assert_error(b_admin.post(f"/v1/reviews/{a_waiting['tom']}/{act}", json={"reason": "not mine", "step": 4}),
                     404, "not_found")
    # B writes under A's keys and event ids: its own data, A's untouched
    b_tom = ok(b_admin.put("/v1/counterparties/tom", json={"kind": "client", "name": "B's Tom"}))
    assert (b_tom["name"], b_tom["rules"]["late_change"]["broken"]) == ("B's Tom", 0)
    toms_story = [e for e in read_events(CLINIC / "events.jsonl") if e["counterparty"] == "tom"]
    stored = ok(b_admin.post("/v1/events", json=toms_story))
    assert stored["stored"] == len(toms_story), "the same ids in another workspace are new events there"
    b_waiting = proposals(b_admin)
    assert b_waiting["tom"] == a_waiting["tom"], "decision ids come from the facts, so B's equals A's"
    ok(b_admin.post(f"/v1/reviews/{b_waiting['tom']}/approve", json={"reason": "B's own"}))
    assert ok(b_admin.get("/v1/counterparties/tom"))["status"] == "suspended"
    assert ok(b_admin.post("/v1/rulebooks", content=STRICTER), 201)["new"] is True
    assert snapshot(a, ("tom",)) == a_before
    assert proposals(a) == a_waiting
    assert [r["version"] for r in ok(a.get("/v1/rulebooks"))] == ["2026-05"]
    assert metric(a, "firmly_events_ingested_total", workspace=api.a) == 0


def test_rate_limit_answers_429_with_retry_after(api: Api) -> None:
    with serve(create_app(api.database_url, rate=0.5)) as slow:  # a burst of 1, then one request per 2 s
        viewer = httpx.Client(base_url=slow, headers=api.client(role="viewer").headers, timeout=10)
        other = httpx.Client(base_url=slow, headers=api.client(role="admin").headers, timeout=10)
        with viewer, other:
            ok(viewer.get("/v1/rulebooks"))
            limited = viewer.get("/v1/rulebooks")
            assert_error(limited, 429, "rate_limited")
            wait = int(limited.headers["retry-after"])
            assert 1 <= wait <= 2, wait
            assert_error(viewer.post("/v1/events", json=upsert("flood")), 429, "rate_limited")
            ok(other.get("/v1/rulebooks"))  # one token's bucket, not the server's
            assert_error(httpx.get(f"{slow}/v1/rulebooks"), 401)  # no token: refused before the bucket
            time.sleep(wait)
            ok(viewer.get("/v1/rulebooks"))
    assert_error(api.client().get("/v1/counterparties/flood"), 404)


# -- the examples' events through the API and through `firmly ingest` ----------------------------------------
def _folders() -> list[Path]:
    found = sorted(p.parent for p in EXAMPLES.glob("*/scenario.json"))
    if SHARED.is_dir():
        found += sorted(p.parent for p in SHARED.glob("*/scenario.json"))
    return found


def _api_batch(folder: Path, files: list[str]) -> tuple[list[dict[str, Any]], int]:
    """The events of `files` as one list, and how many lines were not JSON (the CLI rejects those)."""
    events: list[dict[str, Any]] = []
    lines = 0
    for name in files:
        path = folder / name
        lines += sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
        events += read_events(path)
    return events, lines - len(events)


class Firmly:
    """The `firmly` command (the Typer app behind the console script) run in this process, so that a
    scenario does not pay an interpreter start-up per command; files are named relative to `folder`."""

    def __init__(self, folder: Path, database_url: str, workspace: str) -> None:
        self.folder, self.options = folder, ["--db", database_url, "--workspace", workspace]
        self.runner = CliRunner()

    def run(self, *args: str) -> Any:
        files = {"load": 2, "ingest": 1}
        start = files.get(args[1] if args[0] == "rulebook" else args[0], len(args))
        argv = [*args[:start], *(str(self.folder / a) if not a.startswith("-") else a for a in args[start:])]
        return self.runner.invoke(firmly_cli, [*argv, *self.options], catch_exceptions=False)

    def json(self, *args: str) -> Any:
        result = self.run(*args, "--json")
        assert result.exit_code == 0, f"`firmly {' '.join(args)}` exited {result.exit_code}: {result.stderr[-400:]}"
        return json.loads(result.stdout)


def _replay_through_api(folder: Path, item: dict[str, Any], c: httpx.Client, url: str, ws: str,
                        cli: Firmly) -> None:
    """One scenario step: through the API (or the service layer where the API has no door) into `ws`,
    through the `firmly` command into the other workspace; the two must answer alike."""
    if "review" in item:
        query = ["--counterparty", item["counterparty"], "--rule", item["rule"], "--status", "proposed"]
        ours = ok(c.get("/v1/decisions", params={"counterparty": item["counterparty"], "rule": item["rule"],
                                                 "status": "proposed"}))
        theirs = cli.json("decisions", *query)
        assert [d["id"] for d in ours] == [d["id"] for d in theirs]
        if not ours:
            return
        args = item.get("args", [])
        body: dict[str, Any] = {"reason": item["reason"]}
        if "--step" in args:
            body["step"] = int(args[args.index("--step") + 1])
        ok(c.post(f"/v1/reviews/{ours[-1]['id']}/{item['review']}", json=body))
        proc = cli.run("review", item["review"], theirs[-1]["id"], "--reason", item["reason"], *args)
        assert proc.exit_code == 0, proc.stderr
        return
    command = item.get("run", [])
    if command[:2] == ["rulebook", "load"]:
        expect = item.get("exit", 0)
        response = c.post("/v1/rulebooks", content=(folder / command[2]).read_bytes(),
                          headers={"content-type": "application/yaml"})
        assert response.status_code == (201 if expect == 0 else 422), response.text[:400]
        proc = cli.run(*command)
        assert proc.exit_code == expect, proc.stderr
    elif command[:1] == ["ingest"]:
        events, not_json = _api_batch(folder, command[1:])
        response = c.post("/v1/events", json=events)
        proc = cli.run(*command, "--json")
        assert proc.stdout.strip(), f"`firmly {' '.join(command)}` exited {proc.exit_code}: {proc.stderr[-600:]}"
        theirs = json.loads(proc.stdout)
        ours = response.json()
        assert (ours["stored"], ours["duplicates"], ours["rejected"] + not_json) == (
            theirs["stored"], theirs["duplicates"], theirs["rejected"]), (ours, theirs)
        assert ours["decisions"] == theirs["decisions"]
        assert response.status_code == (200 if ours["rejected"] == 0 else
                                        422 if ours["stored"] + ours["duplicates"] == 0 else 207), ours
    elif command[:1] == ["tick"]:
        clock.tick(bootstrap.store(url, ws), parse_instant(command[command.index("--as-of") + 1]))
        assert cli.run(*command).exit_code == 0
    elif command[:2] == ["exception", "set"]:
        options = dict(zip(command[3::2], command[4::2], strict=True))
        body = {"rule": options["--rule"], "until": options["--until"], "reason": options["--reason"]}
        if "--from" in options:
            body["from"] = options["--from"]
        response = c.post(f"/v1/counterparties/{command[2]}/exceptions", json=body)
        assert response.status_code == 201, response.text[:400]
        proc = cli.run(*command)
        assert proc.exit_code == 0, proc.stderr
        assert response.json()["id"] in proc.stdout, "the same exception, whichever door set it"
    elif command[:1] == ["replay"]:
        replay.replay(bootstrap.store(url, ws))
        assert cli.run(*command).exit_code == 0


@pytest.mark.scenario
@pytest.mark.parametrize("folder", _folders(), ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_events_posted_through_the_api_decide_as_firmly_ingest(folder: Path, database_url: str,
                                                               tmp_path: Path) -> None:
    spec = json.loads((folder / "scenario.json").read_text(encoding="utf-8"))
    tag = f"{folder.name}-{time.time_ns() % 10**9}"
    through_api, through_cli = f"http-{tag}", f"cli-{tag}"
    cli = Firmly(folder, database_url, through_cli)
    assert cli.run("init").exit_code == 0
    store = bootstrap.store(database_url, through_api)
    workspace.init(store, None, None, 0)  # the defaults of `firmly init`, as the CLI side got them
    token = tokens.create(store, "admin", "scenario", 0).token
    with serve(create_app(database_url)) as base, \
            httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=120) as c:
        for item in spec["items"]:
            _replay_through_api(folder, item, c, database_url, through_api, cli)
        ours = ok(c.get("/v1/decisions"))
        listed = ok(c.get("/v1/counterparties"))
    theirs = cli.json("decisions")
    assert ours, f"{folder.name} decides nothing: a comparison of nothing proves nothing"
    key = ("id", "counterparty", "rule", "action", "status", "amount", "at", "event", "evidence", "step")
    assert [tuple(d.get(k) for k in key) for d in ours] == [tuple(d.get(k) for k in key) for d in theirs]
    assert ours == theirs  # explanations too: the same words for the same facts
    assert listed == cli.json("counterparty", "list")


def test_shared_scenarios_are_compared_when_present() -> None:
    """Say so visibly when ../shared/scenarios is not beside this checkout; where it is, its scenarios
    are parametrized in the test above."""
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is not there: the shared scenarios were not posted through the API")
    assert any(SHARED.glob("*/scenario.json"))
