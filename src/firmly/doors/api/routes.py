"""The `/v1` routes: parse, call one use case, answer with the command line's JSON shapes."""

from __future__ import annotations

import asyncio
import hashlib
import time
from typing import Annotated, Any, Literal

import msgspec
from fastapi import APIRouter, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, Field

from firmly.domain import limits
from firmly.domain.clock import TimeError, iso, parse_instant
from firmly.domain.events import EventError, decode_raw
from firmly.domain.ports import Storage
from firmly.domain.rulebook import parse_rulebook
from firmly.doors.api.auth import Actor, Admin, Principal, Reader, Sender
from firmly.doors.api.errors import ApiError
from firmly.doors.api.shapes import (
    ACCOUNT,
    COUNTERPARTY_PAGE,
    COUNTERPARTY_ROW,
    DECISION,
    EVENTS_ACCEPTED,
    EVENTS_ANSWER,
    EVENTS_REFUSED,
    FAILURE,
    LINK_REVOKED,
    PAGE_LINK,
    REPORT_ROW,
    RULEBOOK_LOADED,
    RULEBOOK_ROW,
    SIMULATION,
    answer,
    list_of,
)
from firmly.service import (
    accounts,
    ingest,
    own_page,
    queries,
    reports,
    review,
    rulebooks,
    simulate,
    wallclock,
)
from firmly.service.ingest import IngestReport


class ErrorBody(BaseModel):
    code: str
    message: str
    field: str | None = None


class ErrorOut(BaseModel):
    """Every failure: `{"error": {"code", "message", "field"}}`."""

    error: ErrorBody


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": text} for status, text in (
        (400, "bad request"), (401, "no valid token"), (403, "the token's role may not do this"),
        (404, "not found in this workspace"), (409, "conflicts with what is stored"), (422, "invalid input"),
        (429, "too many requests: see Retry-After"), (503, "the database is not available"))}
router = APIRouter(prefix="/v1", responses=ERRORS)
MAX_EVENTS = 10_000
MAX_BYTES = 64 * 1024 * 1024  # 10,000 generous events; a bigger body is refused before it is read
_json = msgspec.json.Decoder()
_encode = msgspec.json.Encoder().encode

EVENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "type", "counterparty", "occurred_at"],
    "properties": {
        "id": {"type": "string", "description": "the idempotency key", "maxLength": limits.ID},
        "type": {"type": "string", "example": "appointment.cancelled", "maxLength": limits.TYPE},
        "counterparty": {"type": "string", "maxLength": limits.KEY},
        "occurred_at": {"type": "string", "format": "date-time", "maxLength": limits.TIME_TEXT,
                        "description": "with its UTC offset, from 1970 up to 2200"},
        "data": {"type": "object", "description": "the type's fields (EVENTS.md), within the limits the README "
                                                  "lists: texts up to 65,536 characters, 20 levels deep"},
    },
}


_BOOKED = {"id": "bk-1001", "type": "appointment.booked", "counterparty": "patient-42",
           "occurred_at": "2026-03-01T09:15:00+03:00",
           "data": {"appointment": "a-1001", "starts_at": "2026-03-05T14:00:00+03:00", "service": "consultation"}}
EVENT_EXAMPLES: dict[str, Any] = {
    "one": {"summary": "one event", "value": _BOOKED},
    "list": {"summary": "a list (a batch from a booking system)", "value": [
        _BOOKED,
        {"id": "bk-1001-cancel", "type": "appointment.cancelled", "counterparty": "patient-42",
         "occurred_at": "2026-03-05T08:40:00+03:00", "data": {"appointment": "a-1001", "by": "client"}}]},
}


def _now() -> int:
    return wallclock.now()  # the system clock, or FIRMLY_NOW


# -- events -----------------------------------------------------------------------------------------
@router.post("/events", tags=["events"], summary="Send one event or a list of up to 10,000",
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {
                 "oneOf": [EVENT_SCHEMA, {"type": "array", "items": EVENT_SCHEMA, "maxItems": MAX_EVENTS}]},
                 "examples": EVENT_EXAMPLES}}}},
             responses={**answer(EVENTS_ANSWER, "every event stored or already there"),
                        **answer(EVENTS_ACCEPTED, "with `Prefer: respond-async`: the events are stored, and "
                                 "decided right after; `Location` tells how far deciding has come", 202),
                        **answer(EVENTS_ANSWER, "some events stored, some rejected: see `results`", 207),
                        **answer(EVENTS_REFUSED, "the event's id is stored with other content", 409),
                        **answer(FAILURE, "more than 10,000 events, or over 64 MiB", 413),
                        **answer(EVENTS_REFUSED, "no event could be stored", 422),
                        **answer(FAILURE, "with `Prefer: respond-async`: too many events wait to be decided; "
                                 "nothing was stored, send again after Retry-After seconds", 503)})
async def post_events(request: Request, who: Sender,
                      prefer: Annotated[str | None, Header(description="`respond-async` (RFC 7240): answer 202 "
                                                                       "once the events are stored, before they "
                                                                       "are decided")] = None) -> Response:
    """Stores new events, decides on them and answers per event: `stored`, `duplicate` (the same id and
    content was sent before: a retry changes nothing) or `rejected` with the field and the reason.

    With `Prefer: respond-async` the answer comes once the events are stored (202, the same results, no
    `decisions` count yet, and `through`: the arrival number deciding must reach), with
    `Preference-Applied: respond-async` and a `Location` to poll; deciding follows at once, and every read of
    the workspace (counterparties, decisions, reports, the web UI, the command line) decides what waits first,
    so none shows an event without its decisions. Past `FIRMLY_ASYNC_BACKLOG` events waiting to be decided
    the answer is 503 with `Retry-After`, and nothing of the request is stored."""
    size = request.headers.get("content-length")
    if size is not None and size.isdigit() and int(size) > MAX_BYTES:
        raise ApiError(413, "too_large", f"the body is over {MAX_BYTES // (1024 * 1024)} MiB; send smaller batches")
    raw = await request.body()
    try:
        decoded = _json.decode(raw)
    except msgspec.DecodeError as exc:
        raise ApiError(400, "malformed_json", f"the body is not valid JSON: {exc}") from None
    except (UnicodeDecodeError, RecursionError):  # one event's text or nesting: refuse it, keep its neighbours
        return await _post_pieces(request, who, raw)
    single = isinstance(decoded, dict)
    items = [decoded] if single else decoded
    if not isinstance(items, list):
        raise ApiError(422, "invalid", "send one event object or a list of them")
    if len(items) > MAX_EVENTS:
        raise ApiError(413, "too_many_events", f"{len(items)} events in one request; send at most {MAX_EVENTS}")
    # Validation of a big body runs beside the event loop; a small one costs less than the hop
    parsed = ingest.parsed("body", items) if len(items) <= 32 else await run_in_threadpool(ingest.parsed, "body", items)
    return await _stored(request, who, parsed, single, _respond_async(prefer))


def _respond_async(prefer: str | None) -> bool:
    """Whether a Prefer header (RFC 7240: preferences separated by commas, each with optional parameters
    after `;`) asks for `respond-async`."""
    return prefer is not None and any(p.split(";", 1)[0].split("=", 1)[0].strip().lower() == "respond-async"
                                      for p in prefer.split(","))


async def _post_pieces(request: Request, who: Principal, raw: bytes) -> Response:
    """A body that did not decode as a whole (text that is not UTF-8, nesting past Python's stack): each event
    of the list decoded alone, so that only the ones at fault are refused."""
    pieces = ingest.split_array(raw)
    if pieces is None:  # one event, or not a list: its own fault, told in plain words
        try:
            decode_raw(raw)
        except EventError as exc:
            raise ApiError(400, "malformed_json", f"the body {exc.message}") from None
        raise ApiError(400, "malformed_json", "the body is not valid JSON")
    if len(pieces) > MAX_EVENTS:
        raise ApiError(413, "too_many_events", f"{len(pieces)} events in one request; send at most {MAX_EVENTS}")
    parsed = await run_in_threadpool(ingest.pieces, "body", pieces)
    return await _stored(request, who, parsed, False, _respond_async(request.headers.get("prefer")))


async def _stored(request: Request, who: Principal, parsed: list[ingest.Parsed], single: bool,
                  later: bool) -> Response:
    report: IngestReport = await asyncio.wrap_future(request.app.state.writer.submit(who.store, parsed, later))
    metrics = request.app.state.metrics
    metrics.events.labels(who.workspace).inc(report.stored)
    metrics.duplicates.labels(who.workspace).inc(report.duplicates)
    metrics.rejected.labels(who.workspace).inc(len(report.rejected))
    results = report.results or []
    rejected = len(report.rejected)
    payload = {"stored": report.stored, "duplicates": report.duplicates, "rejected": rejected,
               "decisions": report.decisions, "results": results}
    if rejected == 0:
        status = 200
    elif single and results and results[0].get("code") == "conflict":
        status = 409
    elif rejected == len(parsed):
        status = 422
    else:
        status = 207
    if status >= 400:
        first = results[0] if results else {}
        payload["error"] = {"code": first.get("code", "invalid"), "message": first.get("reason", "rejected"),
                            "field": first.get("field")}
    elif later:  # stored (or there already): decided after, and told at the Location
        del payload["decisions"]
        payload["through"] = report.through
        location = f"/v1/events/through/{report.through}"
        return Response(_encode(payload), status_code=202, media_type="application/json",
                        headers={"Location": location, "Preference-Applied": "respond-async"})
    return Response(_encode(payload), status_code=status, media_type="application/json")


# -- counterparties ---------------------------------------------------------------------------------
class CounterpartyIn(BaseModel):
    """The fields of `counterparty.upserted` (EVENTS.md); what is left out stays as it was."""

    kind: Literal["client", "partner", "supplier"] | None = None
    name: str | None = Field(None, max_length=limits.TEXT)
    tier: str | None = Field(None, max_length=limits.TIER)
    email: str | None = None
    phone: str | None = None
    locale: Literal["ru", "en"] | None = None
    timezone: str | None = None
    prices: dict[str, str] | None = Field(None, description="service code -> decimal price, e.g. \"1000.00\"")
    switching_cost: str | None = None
    rulebooks: list[str] | None = None


@router.get("/counterparties", tags=["counterparties"], summary="Counterparties, with filters",
            response_model=None, responses=answer(list_of(COUNTERPARTY_ROW)))
def list_counterparties(who: Reader, kind: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
    return [{"key": r.key, "kind": r.kind, "name": r.name, "tier": r.tier, "status": r.status}
            for r in queries.counterparties(who.store, kind, status)]


@router.get("/counterparties/{key}", tags=["counterparties"], summary="The conduct page of one counterparty",
            response_model=None, responses=answer(COUNTERPARTY_PAGE))
def get_counterparty(key: str, who: Reader) -> Response:
    # Usually answered before the router, by doors/api/fast.py, through the same function
    return counterparty_page(who.store, key)


def counterparty_page(store: Storage, key: str) -> Response:
    """The hottest read, a few indexed lookups (~0.3 ms), returned as bytes: a validation of the returned dict
    would cost more than the work itself. Called in a worker thread (a database call never runs on the loop)."""
    return Response(_encode(queries.counterparty(store, key)), media_type="application/json")


@router.put("/counterparties/{key}", tags=["counterparties"], summary="Create or update a counterparty",
            response_model=None, responses=answer(COUNTERPARTY_PAGE, "the conduct page after the change"))
def put_counterparty(key: str, body: CounterpartyIn, who: Actor, request: Request) -> dict[str, Any]:
    """Recorded as a `counterparty.upserted` event at the time of the request, so the history keeps it."""
    if len(key) > limits.KEY:
        raise ApiError(422, "invalid", f"a counterparty's key is at most {limits.KEY} characters, got {len(key)}",
                       "key")
    now = _now()
    data = body.model_dump(exclude_none=True)
    unique = time.time_ns() // 1000  # the wall clock may be fixed (FIRMLY_NOW): the id must differ still
    event_id = f"api-{key}-{unique}"
    if len(event_id) > limits.ID:  # a long key: the id names it by its hash, and still fits its column
        event_id = f"api-{hashlib.blake2b(key.encode('utf-8', 'surrogatepass'), digest_size=16).hexdigest()}-{unique}"
    envelope = {"id": event_id, "type": "counterparty.upserted", "counterparty": key,
                "occurred_at": iso(now), "data": data}
    report: IngestReport = request.app.state.writer.submit(who.store, ingest.parsed("body", [envelope])).result()
    if report.rejected:
        r = report.rejected[0]
        raise ApiError(422, "invalid", r.message, r.field.removeprefix("data."))
    return queries.counterparty(who.store, key)


@router.get("/counterparties/{key}/link", tags=["counterparties"],
            summary="A fresh signed link to the counterparty's own page, and when it expires",
            response_model=None, responses=answer(PAGE_LINK))
def get_page_link(key: str, who: Actor) -> dict[str, Any]:
    """The same link every message ends with (docs/client-page.md), made now, e.g. to send through a channel
    of one's own. Nothing is stored per link."""
    url, expires = own_page.fresh_link(who.store, key, _now())
    return {"key": key, "url": url, "expires_at": iso(expires)}


@router.post("/counterparties/{key}/link/revoke", tags=["counterparties"],
             summary="Make every link to the counterparty's own page made so far stop working",
             response_model=None, responses=answer(LINK_REVOKED))
def revoke_page_link(key: str, who: Actor) -> dict[str, Any]:
    """A link made after this (a new message's, or `GET …/link`) opens the page again."""
    own_page.revoke(who.store, key)
    return {"key": key, "revoked": True}


# -- decisions and the review queue -------------------------------------------------------------------
@router.get("/decisions", tags=["decisions"], summary="Decisions, oldest first, with their explanations",
            response_model=None, responses=answer(list_of(DECISION)))
def list_decisions(who: Reader, counterparty: str | None = None, rule: str | None = None,
                   status: str | None = None) -> list[dict[str, Any]]:
    return queries.decisions(who.store, counterparty, rule, status)


class ActIn(BaseModel):
    reason: str = Field(min_length=1, max_length=limits.TEXT, description="why: kept in the audit log")
    step: int | None = Field(None, ge=1, le=limits.COUNT, description="soften only: the lower step to apply instead")


@router.post("/reviews/{decision}/{act}", tags=["decisions"],
             summary="Approve, soften or dismiss a proposal; reopen a dismissed one; reinstate a termination",
             response_model=None,
             responses=answer(DECISION, "the decision after the act (reinstate: the decision that reinstated)"))
def act_on(decision: str, act: Literal["approve", "soften", "dismiss", "reopen", "reinstate"], body: ActIn,
           who: Actor) -> dict[str, Any]:
    row = review.act(who.store, decision, act, body.reason, f"token:{who.name or who.token}", body.step)
    return queries.public(row)


# -- accounts and reports -------------------------------------------------------------------------
@router.get("/accounts/{key}", tags=["accounts"], summary="Balance, amount due and the statement",
            response_model=None, responses=answer(ACCOUNT))
def get_account(key: str, who: Reader) -> dict[str, Any]:
    return accounts.show(who.store, key)


@router.get("/reports/{name}", tags=["reports"], summary="A report over all counterparties",
            response_model=None, responses=answer(list_of(REPORT_ROW)))
def get_report(name: Literal["cost-to-serve", "partners", "suppliers", "courtesy"],
               who: Reader) -> list[dict[str, Any]]:
    return reports.BY_NAME[name](who.store)


# -- rulebooks and what-if ------------------------------------------------------------------------
YAML_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "application/yaml": {"schema": {"type": "string"}}, "text/plain": {"schema": {"type": "string"}}}}}


async def _yaml(request: Request) -> str:
    raw = await request.body()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "bad_request", "a rulebook is UTF-8 text") from None


@router.get("/rulebooks", tags=["rulebooks"], summary="The rulebook versions stored",
            response_model=None, responses=answer(list_of(RULEBOOK_ROW)))
def list_rulebooks(who: Reader) -> list[dict[str, Any]]:
    return [{"id": r.id, "version": r.version, "hash": r.hash, "loaded_at": iso(r.loaded_at),
             "effective_from": iso(r.effective_from) if r.effective_from is not None else None,
             "loaded_by": r.loaded_by} for r in rulebooks.stored(who.store)]


@router.post("/rulebooks", tags=["rulebooks"], summary="Load a rulebook (YAML body)", status_code=201,
             openapi_extra=YAML_BODY, response_model=None, responses=answer(RULEBOOK_LOADED, "loaded", 201))
async def post_rulebook(request: Request, who: Admin) -> dict[str, Any]:
    """Validates first: every problem comes back with its line and field (422) and nothing is stored."""
    book = await run_in_threadpool(parse_rulebook, await _yaml(request), "request body")
    loaded = await run_in_threadpool(rulebooks.load, who.store, book, _now(), f"token:{who.name or who.token}")
    return {"id": loaded.id, "version": loaded.version, "hash": loaded.hash, "new": loaded.new,
            "warnings": [str(w) for w in book.warnings]}


@router.post("/simulations", tags=["rulebooks"], summary="What would change under another rulebook (YAML body)",
             openapi_extra=YAML_BODY, response_model=None, responses={**answer(SIMULATION), 429: {
                 "model": ErrorOut, "description": "a simulation is already running in this workspace (code busy), "
                 "or too many requests: see Retry-After"}})
async def post_simulation(request: Request, who: Actor,
                          since: Annotated[str | None, Query(description="count decisions from this time")] = None,
                          until: Annotated[str | None, Query(description="count decisions up to this time")] = None
                          ) -> dict[str, Any]:
    """History replayed in memory under the changed rulebook; nothing is stored. One simulation runs per
    workspace at a time; another meanwhile is answered 429 (`busy`) with Retry-After."""
    book = await run_in_threadpool(parse_rulebook, await _yaml(request), "request body")
    bounds = [_instant(v, n) if v else None for v, n in ((since, "since"), (until, "until"))]
    result: dict[str, Any] = await run_in_threadpool(simulate.simulate, who.store, book, bounds[0], bounds[1])
    return result


def _instant(value: str, name: str) -> int:
    try:
        return parse_instant(value)
    except TimeError as exc:
        raise ApiError(422, "invalid", str(exc), name) from None
