"""`/v1/counterparties/{key}/exceptions`: personal exceptions (docs/discretion.md) — list, set, end. The same use
cases as `firmly exception`, recorded as events."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from firmly.domain import limits
from firmly.doors.api.auth import Actor, Reader
from firmly.doors.api.errors import ApiError
from firmly.doors.api.routes import ERRORS, _instant
from firmly.doors.api.shapes import TEXT, TIME, _obj, _or_null, answer, list_of
from firmly.service import exceptions

router = APIRouter(prefix="/v1", responses=ERRORS)

EXCEPTION = _obj({
    "id": TEXT, "counterparty": TEXT, "rule": TEXT, "from": TIME, "until": TIME, "reason": TEXT,
    "by": _or_null(TEXT), "set_at": TIME,
    "state": {**TEXT, "enum": ["upcoming", "active", "expired", "ended"]},
    "ended": _or_null(_obj({"at": TIME, "reason": _or_null(TEXT), "by": _or_null(TEXT)}))})


class ExceptionIn(BaseModel):
    rule: str = Field(min_length=1, max_length=limits.REFERENCE, description="the rule the counterparty is exempt from")
    until: str = Field(max_length=limits.TIME_TEXT, description="when the exception ends (RFC 3339)")
    reason: str = Field(min_length=1, max_length=limits.TEXT, description="why, in words the counterparty may read")
    from_: str | None = Field(None, alias="from", max_length=limits.TIME_TEXT,
                              description="apply it from this earlier time: the decisions since then are made again")


class EndIn(BaseModel):
    reason: str = Field(min_length=1, max_length=limits.TEXT, description="why it ends early")


def _by(who: Actor) -> str:
    return f"token:{who.name or who.token}"


def _key(key: str) -> str:
    if len(key) > limits.KEY:
        raise ApiError(422, "invalid", f"a counterparty's key is at most {limits.KEY} characters, got {len(key)}",
                       "key")
    return key


@router.get("/counterparties/{key}/exceptions", tags=["counterparties"],
            summary="The counterparty's personal exceptions", response_model=None,
            responses=answer(list_of(EXCEPTION)))
def list_exceptions(key: str, who: Reader) -> list[dict[str, Any]]:
    return exceptions.listing(who.store, _key(key))


@router.post("/counterparties/{key}/exceptions", tags=["counterparties"], status_code=201,
             summary="Exempt the counterparty from one rule until a time", response_model=None,
             responses=answer(EXCEPTION, "the exception, recorded as an `exception.set` event", 201))
def set_exception(key: str, body: ExceptionIn, who: Actor) -> dict[str, Any]:
    _instant(body.until, "until")
    if body.from_ is not None:
        _instant(body.from_, "from")
    return exceptions.set_exception(who.store, _key(key), body.rule, body.until, body.reason, _by(who), body.from_)


@router.post("/counterparties/{key}/exceptions/{exception}/end", tags=["counterparties"],
             summary="End a personal exception before its time", response_model=None,
             responses=answer(EXCEPTION, "the exception, ended"))
def end_exception(key: str, exception: str, body: EndIn, who: Actor) -> dict[str, Any]:
    found = [r for r in exceptions.listing(who.store, _key(key)) if r["id"] == exception]
    if not found:
        raise ApiError(404, "not_found", f"no exception {exception!r} for {key!r}", "exception")
    return exceptions.end_exception(who.store, exception, body.reason, _by(who))
