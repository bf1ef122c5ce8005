"""`/v1/hooks/{id}`: where the vendors deliver (no token: the vendor's own signature is checked), and
`/v1/connectors` to set them up (admin tokens), `GET /v1/events` to read stored events back with their source."""

from __future__ import annotations

import math
import time
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from firmly.domain.clock import iso
from firmly.domain.connectors import SOURCES, BadSignature
from firmly.doors.api.auth import Admin, Reader
from firmly.doors.api.errors import ApiError
from firmly.doors.api.routes import ERRORS
from firmly.doors.api.shapes import FAILURE, TEXT, _obj, answer, list_of
from firmly.service import connectors

router = APIRouter(prefix="/v1", responses=ERRORS)
MAX_BYTES = 1024 * 1024  # a booking tool's delivery is a few kilobytes

CONNECTOR: dict[str, Any] = _obj({"id": TEXT, "source": TEXT, "name": TEXT, "path": TEXT,
                                  "options": {"type": "object"}})
RECEIPT: dict[str, Any] = _obj(
    {"connector": TEXT, "stored": {"type": "integer"}, "duplicates": {"type": "integer"},
     "decisions": {"type": "integer"}, "events": list_of(TEXT)},
    {"ignored": TEXT, "failed": _obj({"id": TEXT, "reason": TEXT, "field": {"anyOf": [TEXT, {"type": "null"}]}})})
LETTER: dict[str, Any] = _obj({"id": TEXT, "received_at": TEXT, "reason": TEXT, "status": TEXT, "body": TEXT})
STAGE_MAP: dict[str, Any] = _obj({"stages": {"type": "object", "description": "stage id -> {event, by}"},
                                   "fields": {"type": "object", "description": "firmly's field -> the CRM's field"},
                                   "timezone": TEXT})
STORED_EVENT: dict[str, Any] = _obj({"id": TEXT, "type": TEXT, "counterparty": TEXT, "occurred_at": TEXT,
                                     "data": {"type": "object"}, "source": {"anyOf": [TEXT, {"type": "null"}]}})


def _now() -> int:
    return time.time_ns() // 1000


@router.post("/hooks/{connector}", tags=["connectors"], summary="A delivery from a booking tool, CRM or messenger",
             response_model=None,
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {
                 "type": "object", "description": "the vendor's own payload, as the vendor sends it"}}}}},
             responses={**answer(RECEIPT, "stored, already there, or nothing firmly follows"),
                        **answer(RECEIPT, "signed but not mappable: kept as a dead letter to re-run", 202),
                        **answer(FAILURE, "the signature or secret does not match: nothing stored", 401),
                        **answer(FAILURE, "no such connector", 404),
                        **answer(FAILURE, "over 1 MiB", 413),
                        **answer(FAILURE, "more deliveries a second than FIRMLY_RATE_LIMIT", 429)})
async def deliver(connector: str, request: Request) -> JSONResponse:
    """No token: the vendor signs the delivery with the connector's secret, and that is checked. A delivery that
    is signed but cannot be mapped is answered 202 and kept as a dead letter, so the vendor does not turn the
    webhook off; `firmly connector failures ID` lists them and `rerun` tries them again."""
    size = request.headers.get("content-length")
    if size is not None and size.isdigit() and int(size) > MAX_BYTES:
        raise ApiError(413, "too_large", "a delivery is at most 1 MiB")
    gate = request.app.state.gate
    if gate.bucket is not None:  # no token to count against: each connector has the rate a token has
        wait = gate.bucket.take(f"hook:{connector}")
        if wait > 0:
            raise ApiError(429, "rate_limited", f"too many deliveries for connector {connector}; retry later",
                           headers={"Retry-After": str(max(1, math.ceil(wait)))})
    body = await request.body()
    store_for = gate.store_for
    try:
        receipt = await run_in_threadpool(connectors.receive, store_for, connector, body, dict(request.headers),
                                          _now(), str(request.url))
    except BadSignature as exc:
        raise ApiError(401, "bad_signature", str(exc), "signature") from None
    return JSONResponse(receipt.as_dict(), status_code=202 if receipt.failure is not None else 200)


class ConnectorIn(BaseModel):
    source: str = Field(description=", ".join(SOURCES))
    name: str | None = None
    secret: str | None = Field(None, description="the vendor's signing key; left out, firmly makes one")
    key: str = Field("email", description="know clients by their email or their phone")
    url: str | None = Field(None, description="the public URL the vendor calls, when a proxy changes it "
                                              "(Square signs the URL)")
    attended_after: str | None = Field(None, description="record a visit as attended this long after it starts "
                                                         "(e.g. \"2h\") unless a cancellation or no-show came first")


@router.get("/connectors", tags=["connectors"], summary="The workspace's connectors", response_model=None,
            responses=answer(list_of(CONNECTOR)))
def list_connectors(who: Admin) -> list[dict[str, Any]]:
    return [connectors.public(r) for r in connectors.listed(who.store)]


@router.post("/connectors", tags=["connectors"], summary="Set up a connector", status_code=201, response_model=None,
             responses=answer(CONNECTOR, "created; `secret` only when firmly made it", 201))
def add_connector(body: ConnectorIn, who: Admin) -> dict[str, Any]:
    options = {"key": body.key, "url": body.url, "attended_after": body.attended_after}
    row, made = connectors.add(who.store, body.source, body.name, body.secret, options, _now())
    shown = connectors.public(row)
    if made:
        shown["secret"] = made
    return shown


@router.get("/connectors/{connector}", tags=["connectors"], summary="One connector", response_model=None,
            responses=answer(CONNECTOR))
def get_connector(connector: str, who: Admin) -> dict[str, Any]:
    return connectors.show(who.store, connector)


@router.delete("/connectors/{connector}", tags=["connectors"], summary="Stop hearing a connector",
               response_model=None, responses=answer(CONNECTOR, "the connector removed; its events stay"))
def delete_connector(connector: str, who: Admin) -> dict[str, Any]:
    shown = connectors.show(who.store, connector)
    connectors.remove(who.store, connector)
    return shown


@router.put("/connectors/{connector}/map", tags=["connectors"], summary="An amoCRM or Bitrix24 stage map (YAML)",
            response_model=None, openapi_extra={"requestBody": {"required": True, "content": {
                "application/yaml": {"schema": {"type": "string"}}}}},
            responses=answer(STAGE_MAP, "the map as stored"))
async def put_map(connector: str, request: Request, who: Admin) -> dict[str, Any]:
    """Checked first: every problem comes back with its line and field (422) and nothing changes."""
    try:
        text = (await request.body()).decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "bad_request", "a stage map is UTF-8 text") from None
    crm_map: dict[str, Any] = await run_in_threadpool(connectors.set_map, who.store, connector, text, "request body")
    return crm_map


@router.get("/connectors/{connector}/failures", tags=["connectors"], summary="Dead letters of a connector",
            response_model=None, responses=answer(list_of(LETTER)))
def list_failures(connector: str, who: Admin, every: bool = False) -> list[dict[str, Any]]:
    return [{"id": f.id, "received_at": iso(f.received_at), "reason": f.reason, "status": f.status, "body": f.body}
            for f in connectors.failures(who.store, connector, every)]


@router.post("/connectors/{connector}/rerun", tags=["connectors"], summary="Map dead letters again",
             response_model=None, responses=answer(list_of(RECEIPT)))
def rerun(connector: str, who: Admin, failure: str | None = None) -> list[dict[str, Any]]:
    return [r.as_dict() for r in connectors.rerun(who.store, connector, failure, _now())]


@router.get("/events", tags=["events"], summary="Stored events, oldest first, with their source",
            response_model=None, responses=answer(list_of(STORED_EVENT)))
def list_events(who: Reader, counterparty: str | None = None,
                kind: Annotated[str | None, Query(alias="type", description="only this event type")] = None,
                source: Annotated[str | None, Query(description="only events from this connector id")] = None,
                limit: Annotated[int, Query(ge=1, le=10_000)] = 1000) -> list[dict[str, Any]]:
    return connectors.events(who.store, counterparty, kind, source, limit)
