"""Prometheus metrics: events ingested and rejected, decisions by action, request latency."""

from __future__ import annotations

import itertools
import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("firmly.api")
_PROCESS = os.urandom(4).hex()  # request ids: this process's random prefix and a serial, unique and cheap
_serial = itertools.count(1)


class DecisionCollector:
    """Decisions by workspace, action and status, read from the database at scrape time, so every
    server and worker process reports the same figures."""

    def __init__(self, counts: Callable[[], list[tuple[str, str, str, int]]]) -> None:
        self.counts = counts  # (workspace, action, status, n): Storage.decision_counts

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily("firmly_decisions", "decisions stored, by workspace, action and status",
                                   labels=["workspace", "action", "status"])
        try:
            counted = self.counts()
        except Exception:  # a scrape must not fail because the database is away; /healthz says so
            return
        for workspace, action, status, n in counted:
            family.add_metric([workspace, action, status], n)
        yield family


class Metrics:
    def __init__(self, counts: Callable[[], list[tuple[str, str, str, int]]]) -> None:
        self.registry = CollectorRegistry()
        self.events = Counter("firmly_events_ingested", "events stored through the API", ["workspace"],
                              registry=self.registry)
        self.duplicates = Counter("firmly_events_duplicate", "events sent again (no-ops)", ["workspace"],
                                  registry=self.registry)
        self.rejected = Counter("firmly_events_rejected", "events refused", ["workspace"], registry=self.registry)
        self.latency = Histogram("firmly_request_seconds", "request latency", ["method", "route", "status"],
                                 registry=self.registry,
                                 buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
        self.registry.register(DecisionCollector(counts))

    def render(self) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)



class Observe:
    """Plain ASGI middleware (Starlette's BaseHTTPMiddleware costs a quarter of a millisecond a request):
    a request id on every response and in the log, the latency histogram, and NUL refused up front
    (PostgreSQL cannot store it, so neither backend is asked to)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics
        self._series: dict[tuple[str, str, int], Any] = {}  # bounded: methods x route templates x statuses

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        given = next((v for k, v in scope["headers"] if k == b"x-request-id"), b"")
        rid = given.decode("latin-1")[:64] if given else f"{_PROCESS}{next(_serial):08x}"
        scope.setdefault("state", {})["request_id"] = rid
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode("latin-1"))]
            await send(message)

        if "\x00" in scope["path"] or b"%00" in scope.get("query_string", b""):
            body = json.dumps({"error": {"code": "bad_request", "message": "the request contains a NUL character",
                                         "field": None}}).encode()
            await sending({"type": "http.response.start", "status": 400,
                           "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": body})
        else:
            await self.app(scope, receive, sending)
        route: Any = scope.get("route")
        path = getattr(route, "path", "unmatched")  # the template, so ids do not explode the label set
        labels = (scope["method"], path, status)
        series = self._series.get(labels)
        if series is None:  # prometheus_client's labels() takes a lock and builds a key each time
            series = self._series[labels] = self.metrics.latency.labels(scope["method"], path, str(status))
        series.observe(time.perf_counter() - start)
        log.info("%s %s %s -> %s", rid, scope["method"], scope["path"], status)
