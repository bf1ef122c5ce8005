"""Every failure as JSON `{"error": {"code", "message", "field"}}` with its status; never a stack trace."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from firmly import redact
from firmly.domain.errors import (
    Backlog,
    Busy,
    Conflict,
    FirmlyError,
    InvalidInput,
    NotFound,
    StorageError,
    StorageFailed,
    StorageFull,
    ValueRefused,
)

log = logging.getLogger("firmly.api")


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, field: str | None = None,
                 headers: dict[str, str] | None = None, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field
        self.headers, self.extra = headers, extra


def body(code: str, message: str, field: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "field": field, **extra}}


class _Json(JSONResponse):
    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except UnicodeEncodeError:  # a message quoting invalid text (a lone surrogate): escape it, do not fail
            return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode()


def _json(status: int, content: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    return _Json(content, status_code=status, headers=headers)


_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
          406: "not_acceptable", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
          422: "invalid", 429: "rate_limited"}


def response_for(request: Request, exc: Exception) -> JSONResponse:
    """The answer to any failure: the right status and `{"error": ...}`, never a trace."""
    rid = getattr(request.state, "request_id", "-")
    if isinstance(exc, ApiError):
        return _json(exc.status, body(exc.code, exc.message, exc.field, **(exc.extra or {})), exc.headers)
    if isinstance(exc, InvalidInput):
        problems = [{"where": p.where, "line": p.line, "field": p.field, "message": p.message} for p in exc.problems]
        first = exc.problems[0] if exc.problems else None
        return _json(422, body("invalid", str(first) if first else "invalid input", first.field if first else None,
                               problems=problems))
    if isinstance(exc, NotFound):
        return _json(404, body("not_found", str(exc)))
    if isinstance(exc, Backlog):  # deciding is behind: nothing of the request was stored
        return _json(503, body("backlog", str(exc)), {"Retry-After": str(exc.retry_after)})
    if isinstance(exc, Busy):
        return _json(429, body("busy", str(exc)), {"Retry-After": str(exc.retry_after)})
    if isinstance(exc, Conflict):
        return _json(409, body("conflict", str(exc)))
    if isinstance(exc, ValueRefused):  # a value the database refuses (too long, out of range): the request's fault
        log.warning("request %s: the database refused a value: %s", rid, exc)
        return _json(422, body("invalid", f"the database refused a value of the request ({_first_line(exc)}); "
                                          f"request id {rid}"))
    if isinstance(exc, StorageFull):  # nothing of the request was stored: it may be sent again
        log.error("request %s: database error: %s", rid, redact.text(str(exc)))
        return _json(503, body("unavailable", f"the server's disk is full: nothing of this request was stored; "
                               f"send it again later; request id {rid}"))
    if isinstance(exc, StorageFailed):  # the driver's words go to the log only
        log.error("request %s: database error: %s", rid, redact.text(str(exc)))
        return _json(503, body("unavailable", f"the database is not available; request id {rid}"))
    if isinstance(exc, StorageError):  # the database is busy, away or not initialised: not the client's fault
        log.error("request %s: %s", rid, redact.text(str(exc)))
        return _json(503, body("unavailable", f"{redact.text(str(exc))}; request id {rid}"))
    if isinstance(exc, FirmlyError):
        return _json(400, body("bad_request", redact.text(str(exc))))
    if isinstance(exc, RequestValidationError):
        error: dict[str, Any] = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path"))
        return _json(422, body("invalid", str(error.get("msg", "invalid request")), where or None))
    if isinstance(exc, HTTPException):
        return _json(exc.status_code, body(_CODES.get(exc.status_code, "error"), str(exc.detail)),
                     getattr(exc, "headers", None))
    log.exception("request %s failed", rid, exc_info=exc)
    return _json(500, body("internal", f"something went wrong on our side; request id {rid}"))


def _first_line(error: object) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def install(app: FastAPI) -> None:
    async def handle(request: Request, exc: Exception) -> JSONResponse:
        return response_for(request, exc)

    for kind in (ApiError, InvalidInput, NotFound, Conflict, StorageError, FirmlyError, RequestValidationError,
                 HTTPException, Exception):
        app.add_exception_handler(kind, handle)
