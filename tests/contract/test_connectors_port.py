"""The Connectors port, method by method, on SQLite and PostgreSQL (the stores that keep connectors; the
memory store keeps none): connectors found by their public id whatever the workspace, aliases, the events
listed with the connector they came through, and dead letters."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from firmly.adapters.sql.store import SqlStore, make_engine
from firmly.domain.ports import ConnectorRow, FailureRow, Storage
from firmly.service import workspace
from tests.contract.test_store import event

MakeStorage = Callable[[str], Storage]


@pytest.fixture(params=["sqlite", "postgres"])
def make_storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MakeStorage]:
    url = f"sqlite:///{tmp_path / 'connectors.db'}" if request.param == "sqlite" else \
        request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    suffix = uuid.uuid4().hex[:8]

    def sql(name: str) -> Storage:
        store = SqlStore(engine, f"{name}-{suffix}")
        workspace.init(store, "ru", "Europe/Moscow", 0)
        return store

    yield sql
    engine.dispose()


def _connector(store: Storage, i: str, at: int) -> ConnectorRow:
    return ConnectorRow(f"{i}-{store.workspace}", store.workspace, "calcom", f"Cal {i}", "sekret", "{}", at)


def test_connectors_are_listed_in_order_found_anywhere_changed_and_removed(make_storage: MakeStorage) -> None:
    one, two = make_storage("one"), make_storage("two")
    later, first = _connector(one, "b", 2), _connector(one, "a", 1)
    with one.write():
        one.add_connector(later)
        one.add_connector(first)
        one.set_connector_options(first.id, '{"attended_after": "2h"}')
    with one.read():
        assert [c.id for c in one.connectors()] == [first.id, later.id]
        assert one.connectors()[0].options == '{"attended_after": "2h"}'
    with two.read():
        assert two.connectors() == []
        assert two.find_connector(later.id) == later  # how a delivery finds its workspace
        assert two.find_connector("nope") is None
    with two.write():
        assert not two.remove_connector(later.id)  # another workspace's
    with one.write():
        assert one.remove_connector(later.id)
        assert not one.remove_connector(later.id)
    with one.read():
        assert [c.id for c in one.connectors()] == [first.id]


def test_aliases_are_kept_per_connector_and_updated(make_storage: MakeStorage) -> None:
    store = make_storage("aliases")
    with store.write():
        store.put_aliases("hk1", {"v1": "apt-1", "v2": "apt-2"})
        store.put_aliases("hk1", {"v2": "apt-2b"})
        store.put_aliases("hk2", {"v1": "other"})
    with store.read():
        assert store.aliases("hk1", ["v1", "v2", "v3", "v1"]) == {"v1": "apt-1", "v2": "apt-2b"}
        assert store.aliases("hk2", ["v1"]) == {"v1": "other"}
        assert store.aliases("hk1", []) == {}


def test_events_are_listed_with_the_connector_they_came_through(make_storage: MakeStorage) -> None:
    store = make_storage("listed")
    came = event("e1", "appointment.booked", "anna", "2026-03-01T10:00:00+00:00", appointment="a1",
                 starts_at="2026-03-05T10:00:00+00:00")
    typed = event("e2", "appointment.no_show", "boris", "2026-03-02T10:00:00+00:00", appointment="a2")
    with store.write():
        store.append_events([typed, came])
        store.keep_payload("hk1", "dg1", "{}", 5, ["e1"])
    with store.read():
        listed = store.listed_events(None, None, None, 10)
        assert [(r["id"], r["source"]) for r in listed] == [("e1", "hk1"), ("e2", None)]
        assert listed[0]["counterparty"] == "anna" and listed[0]["type"] == "appointment.booked"
        assert [r["id"] for r in store.listed_events("boris", None, None, 10)] == ["e2"]
        assert [r["id"] for r in store.listed_events(None, "appointment.booked", None, 10)] == ["e1"]
        assert [r["id"] for r in store.listed_events(None, None, "hk1", 10)] == ["e1"]
        assert len(store.listed_events(None, None, None, 1)) == 1


def test_dead_letters_are_kept_listed_by_status_and_settled(make_storage: MakeStorage) -> None:
    store = make_storage("failures")
    late = FailureRow("f2", "hk1", 20, "unknown event type", '{"b": 2}', "open")
    early = FailureRow("f1", "hk1", 10, "no counterparty", '{"b": 1}', "open")
    with store.write():
        store.add_failure("hk1", late)
        store.add_failure("hk1", early)
        store.add_failure("hk2", FailureRow("f3", "hk2", 5, "bad", "{}", "open"))
    with store.read():
        assert store.failures("hk1") == [early, late]
    with store.write():
        store.settle_failure("f1", "done", "re-run: stored")
    with store.read():
        assert [f.id for f in store.failures("hk1")] == ["f2"]
        settled = store.failures("hk1", "done")
        assert [(f.id, f.status, f.reason) for f in settled] == [("f1", "done", "re-run: stored")]
        assert [f.id for f in store.failures("hk1", None)] == ["f1", "f2"]
