"""What a server process loads once (its code, the app, a lexicon) is left out of the cyclic collector's full
collections, which otherwise paused every request in flight for tens of milliseconds."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from firmly import bootstrap
from firmly.doors.api import create_app
from firmly.service import workspace


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_a_serving_app_freezes_what_it_loaded_when_it_starts(tmp_path: Path, unfrozen: None) -> None:
    url = f"sqlite:///{tmp_path / 'heap.db'}"
    workspace.init(bootstrap.store(url, "heap"), "en", "Europe/London", 0)
    with TestClient(create_app(url)) as client:  # an app of a test or a script: nothing frozen
        assert client.get("/healthz").status_code == 200
        assert gc.get_freeze_count() == 0
    with TestClient(create_app(url, long_lived=True)) as client:  # as `firmly serve` makes it
        assert gc.get_freeze_count() > 10_000
        assert client.get("/healthz").status_code == 200


def test_loading_the_lexicon_freezes_it_too(unfrozen: None) -> None:
    bootstrap._analyser()
    assert gc.get_freeze_count() > 10_000
