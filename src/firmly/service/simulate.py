"""What-if: replay the stored history under another rulebook and compare, storing nothing."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from firmly.domain.engine import INACTIVE, Engine, Policy
from firmly.domain.engine.decision import ACTIONS
from firmly.domain.engine.retraction import RETRACTED, standing, withdrawn
from firmly.domain.errors import Busy
from firmly.domain.ports import Store
from firmly.domain.rulebook import Rulebook
from firmly.service import workspace
from firmly.service.policy import load_policy

RETRY_AFTER = 10  # seconds: a simulation over a clinic's year takes a few
_running: set[str] = set()
_guard = threading.Lock()


@contextmanager
def _one_at_a_time(workspace: str) -> Iterator[None]:
    """One simulation per workspace in this process: each replays the whole history in memory, so a second
    one started meanwhile (a double click, a script in a loop) would only double the memory and the wait."""
    with _guard:
        if workspace in _running:
            raise Busy("a simulation is already running in this workspace; try again when it is done",
                       RETRY_AFTER)
        _running.add(workspace)
    try:
        yield
    finally:
        with _guard:
            _running.discard(workspace)


def simulate(store: Store, book: Rulebook, since: int | None = None, until: int | None = None) -> dict[str, Any]:
    with _one_at_a_time(store.workspace):
        return _simulate(store, book, since, until)


def _simulate(store: Store, book: Rulebook, since: int | None, until: int | None) -> dict[str, Any]:
    with store.read():
        ws = workspace.current(store)
        policy: Policy = load_policy(store, replace=book)
        current = store.decision_tally(INACTIVE, since, until)
        engine = Engine(policy)
        gone = withdrawn(store.events_of_type(RETRACTED))
        _, out = engine.run(standing(store.all_events(), gone), until=ws.ticked, ordered=True)

    final = {d.id: d for d in out}
    simulated: Counter[tuple[str, str]] = Counter(
        (d.counterparty, d.action) for d in final.values()
        if d.status not in INACTIVE and (since is None or d.at >= since) and (until is None or d.at <= until))
    by_action: dict[str, dict[str, int]] = {}
    for tally, column in ((current, "current"), (simulated, "simulated")):
        for (_, action), n in tally.items():
            entry = by_action.setdefault(action, {"current": 0, "simulated": 0})
            entry[column] += n
    totals = {action: by_action[action] for action in ACTIONS if action in by_action}
    people: dict[str, list[dict[str, Any]]] = {}
    for key, action in sorted(set(current) | set(simulated)):
        if current[(key, action)] != simulated[(key, action)]:
            people.setdefault(key, []).append(
                {"action": action, "current": current[(key, action)], "simulated": simulated[(key, action)]})
    return {"rulebook": f"{book.id}@{book.version}", "totals": totals,
            "counterparties": [{"key": k, "changes": v} for k, v in people.items()]}
