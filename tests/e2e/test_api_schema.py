"""schemathesis against the live server's /openapi.json: no server errors, responses as the schema says.

The server runs over the clinic-en example (tests/e2e/api_harness.py), so generated keys sometimes hit
real counterparties and decisions; every request carries an admin token of workspace A.

The schema is loaded from the running server, so the operations are driven with Hypothesis here
(`operation.as_strategy()` under `@given`) rather than collected by `@schema.parametrize()`:
`schemathesis.pytest.from_fixture` (the lazy loader that would allow it) fails under pytest 9.2 in
schemathesis 4.32.5 (`'Function' object has no attribute '_nodeid'`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import content_type_conformance, not_a_server_error, response_schema_conformance
from schemathesis.core.result import Ok

from tests.e2e.api_harness import Api, running

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
    assert len(labels) >= 13, labels  # the eleven /v1 operations, /healthz and /metrics
    assert not failures, "\n\n".join(failures)
