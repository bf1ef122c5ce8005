"""Bearer tokens and roles; each token belongs to one workspace and sees nothing else."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from firmly.domain.ports import Storage, TokenRow
from firmly.doors.api.errors import ApiError
from firmly.service import settle, tokens

# Which roles may call what: an operator works the review queue and keeps counterparties up to date,
# a viewer only reads, an ingest token only sends events.
READ = ("admin", "operator", "viewer")
ACT = ("admin", "operator")
ADMIN = ("admin",)
INGEST = ("admin", "operator", "ingest")
BEARER = {"type": "http", "scheme": "bearer", "description": "a token from `firmly token create`"}
_TTL = 5.0  # seconds a verified token is trusted before it is looked up again (revocation delay)


@dataclass(frozen=True, slots=True)
class Principal:
    token: str
    workspace: str
    role: str
    name: str
    store: Storage


class Bucket:
    """A token bucket per token: `rate` requests a second on average, bursts up to `burst`."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self._state: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """0 if allowed, else the seconds to wait."""
        now = time.monotonic()
        with self._lock:
            level, at = self._state.get(key, (self.burst, now))
            level = min(self.burst, level + (now - at) * self.rate)
            if level >= 1:
                self._state[key] = (level - 1, now)
                return 0.0
            self._state[key] = (level, now)
            return (1 - level) / self.rate


class Gate:
    """Finds the caller from its token (cached briefly), enforces its role and its rate."""

    def __init__(self, store_for: Callable[[str], Storage], rate: float) -> None:
        self.store_for = store_for
        self.bucket = Bucket(rate, max(rate, 1.0)) if rate > 0 else None
        self._seen: dict[str, tuple[float, TokenRow | None]] = {}

    def _verify(self, presented: str) -> TokenRow | None:
        now = time.monotonic()
        cached = self._seen.get(presented)
        if cached is not None and now - cached[0] < _TTL:
            return cached[1]
        row = tokens.verify(self.store_for(""), presented)
        if len(self._seen) > 10_000:
            self._seen.clear()
        self._seen[presented] = (now, row)
        return row

    def _known(self, presented: str) -> bool:
        cached = self._seen.get(presented)
        return cached is not None and time.monotonic() - cached[0] < _TTL

    async def admit(self, request: Request, roles: tuple[str, ...]) -> Principal:
        """As calling the gate, from async code: a token not in the cache is looked up in a worker thread, so a
        slow database never stalls the event loop (and every request on it)."""
        presented = _presented(request)
        if presented and not self._known(presented):
            await run_in_threadpool(self._verify, presented)
        return self(request, roles)

    def __call__(self, request: Request, roles: tuple[str, ...]) -> Principal:
        presented = _presented(request)
        if not presented:
            raise ApiError(401, "unauthorized", "send the header Authorization: Bearer TOKEN "
                           "(create one with `firmly token create`)", "Authorization",
                           headers={"WWW-Authenticate": "Bearer"})
        row = self._verify(presented)
        if row is None:
            raise ApiError(401, "unauthorized", "the token is not valid or was revoked", "Authorization",
                           headers={"WWW-Authenticate": "Bearer"})
        if self.bucket is not None:
            wait = self.bucket.take(row.id)
            if wait > 0:
                raise ApiError(429, "rate_limited", f"too many requests for token {row.id}; retry later",
                               headers={"Retry-After": str(max(1, math.ceil(wait)))})
        if row.role not in roles:
            raise ApiError(403, "forbidden", f"a {row.role} token may not do this (needs {' or '.join(roles)})")
        request.state.token = row.id
        return Principal(row.id, row.workspace, row.role, row.name, self.store_for(row.workspace))


def _presented(request: Request) -> str:
    """The bearer token the request carries, or ""."""
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    return presented.strip() if scheme.lower() == "bearer" else ""


def document_bearer(schema: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI with the bearer scheme on every `/v1` operation (all of them need a token)."""
    schema.setdefault("components", {}).setdefault("securitySchemes", {})["bearer"] = BEARER
    for path, operations in schema.get("paths", {}).items():
        if path.startswith("/v1/") and not path.startswith("/v1/hooks/"):  # vendors sign deliveries instead
            for operation in operations.values():
                operation["security"] = [{"bearer": []}]
    return schema


def _need(*roles: str, settled: bool = True) -> Any:
    """A route dependency: the caller, if its token has one of `roles`; `settled`: with every event its
    workspace acknowledged decided first (`settle.settled`), so that what the route reads shows them."""

    # async, so that FastAPI runs it on the event loop rather than in its thread pool: the token is almost
    # always cached, and a hop to a thread costs more than the check; a miss goes to a thread (`Gate.admit`).
    # The bearer scheme is documented in the OpenAPI by `document_bearer`, not by a dependency that every
    # request would resolve.
    async def check(request: Request) -> Principal:
        gate: Gate = request.app.state.gate
        who = await gate.admit(request, roles)
        if settled:
            await run_in_threadpool(settle.settled, who.store)
        return who

    return Depends(check)


# The caller, as a route parameter type: `who: Reader` admits admin, operator and viewer tokens.
Reader = Annotated[Principal, _need(*READ)]
Actor = Annotated[Principal, _need(*ACT)]
Admin = Annotated[Principal, _need(*ADMIN)]
Sender = Annotated[Principal, _need(*INGEST, settled=False)]  # an ingest decides what waits itself, or adds to it
Anyone = Annotated[Principal, _need(*READ, "ingest", settled=False)]  # how far deciding has come: told, not done
