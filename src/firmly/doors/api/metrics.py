"""Prometheus metrics: events ingested and rejected, decisions by action, request latency."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from fastapi import Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import Engine, func, select

from firmly.adapters.sql.tables import decisions


class DecisionCollector:
    """Decisions by workspace, action and status, read from the database at scrape time, so every
    server and worker process reports the same figures."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily("firmly_decisions", "decisions stored, by workspace, action and status",
                                   labels=["workspace", "action", "status"])
        query = select(decisions.c.workspace, decisions.c.action, decisions.c.status, func.count()).group_by(
            decisions.c.workspace, decisions.c.action, decisions.c.status)
        try:
            with self.engine.connect() as conn:
                for workspace, action, status, n in conn.execute(query):
                    family.add_metric([workspace, action, status], n)
        except Exception:  # a scrape must not fail because the database is away; /healthz says so
            return
        yield family


class Metrics:
    def __init__(self, engine: Engine) -> None:
        self.registry = CollectorRegistry()
        self.events = Counter("firmly_events_ingested", "events stored through the API", ["workspace"],
                              registry=self.registry)
        self.duplicates = Counter("firmly_events_duplicate", "events sent again (no-ops)", ["workspace"],
                                  registry=self.registry)
        self.rejected = Counter("firmly_events_rejected", "events refused", ["workspace"], registry=self.registry)
        self.latency = Histogram("firmly_request_seconds", "request latency", ["method", "route", "status"],
                                 registry=self.registry,
                                 buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
        self.registry.register(DecisionCollector(engine))

    def render(self) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)

    async def middleware(self, request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        start = time.perf_counter()
        response = await call_next(request)
        route: Any = request.scope.get("route")
        path = getattr(route, "path", "unmatched")  # the template, so ids do not explode the label set
        self.latency.labels(request.method, path, str(response.status_code)).observe(time.perf_counter() - start)
        return response
