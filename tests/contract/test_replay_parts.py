"""A replay or a simulation split by counterparty over processes (service/split.py) leaves exactly what one fold
leaves: the same states byte for byte, the same decisions with their explanations, the same ledger, the same
report. On the demo workspace, whose partners get events whose subject is a client (one part folds the client,
another the partner). On memory the parts run one after the other; on SQLite and PostgreSQL in processes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from firmly.domain.clock import parse_instant
from firmly.domain.engine.parts import part_of
from firmly.domain.engine.state import encode_state
from firmly.domain.ports import Store
from firmly.domain.rulebook import parse_rulebook
from firmly.service import demo, replay, simulate

NOW = parse_instant("2026-07-01T00:00:00+00:00")
STRICTER = Path(__file__).resolve().parents[2] / "src" / "firmly" / "examples" / "clinic-en" / "stricter.yaml"


def _derived(store: Store) -> dict[str, Any]:
    with store.read():
        states = sorted((st.key, encode_state(st)) for st in store.states())
        keys = [key for key, _ in states]
        return {"states": states,
                "decisions": sorted((r["id"], sorted(r.items())) for r in store.decisions()),
                "postings": {key: store.postings(key) for key in keys},
                "facts": store.decision_facts()}


@pytest.mark.parametrize("parts", [2, 3])
def test_a_split_replay_leaves_what_one_fold_leaves(store: Store, parts: int) -> None:
    demo.showcase(store, NOW)
    whole = replay.replay(store)
    before = _derived(store)
    keys = [key for key, _ in before["states"]]
    assert len({part_of(key, parts) for key in keys}) == parts  # every part has counterparties to fold
    with store.write():  # stale rows a replay must put right: a status and an explanation changed
        stale = store.decisions()[:7]
        for row in stale:
            row["status"], row["explanation"] = "dismissed", "stale"
        store.put_decisions(stale)
    split = replay.replay(store, parts)
    assert (split.events, split.counterparties, split.decisions) == (whole.events, whole.counterparties,
                                                                     whole.decisions)
    assert split.rewritten == len(stale)
    assert _derived(store) == before
    assert replay.replay(store, parts).rewritten == 0


@pytest.mark.parametrize("parts", [2, 3])
def test_a_split_simulation_reports_what_one_fold_reports(store: Store, parts: int) -> None:
    demo.showcase(store, NOW)
    stricter = parse_rulebook(STRICTER.read_text(), "stricter.yaml")
    whole = simulate.simulate(store, stricter)
    assert whole["counterparties"]
    assert simulate.simulate(store, stricter, parts=parts) == whole
