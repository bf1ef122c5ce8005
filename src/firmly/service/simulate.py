"""What-if: replay the stored history under another rulebook and compare, storing nothing."""

from __future__ import annotations

from collections import Counter
from typing import Any

from firmly.domain.engine import INACTIVE, Engine, Policy
from firmly.domain.errors import FirmlyError
from firmly.domain.ports import Store
from firmly.domain.rulebook import Rulebook
from firmly.service.bulk import quiet_gc
from firmly.service.policy import load_policy

COUNTED = ("reminder", "thanks", "feedback", "warning", "fee", "surcharge", "require_prepayment", "suspend",
           "terminate", "grace_approved", "grace_denied", "earn_back", "bill", "top_up_invoice", "refused")


def simulate(store: Store, book: Rulebook, since: int | None = None, until: int | None = None) -> dict[str, Any]:
    with quiet_gc(), store.read():
        ws = store.workspace_info()
        if ws is None:
            raise FirmlyError(f"workspace {store.workspace!r} does not exist: run `firmly init` first")
        policy: Policy = load_policy(store, replace=book)
        current_rows = store.decisions()
        engine = Engine(policy)
        _, out = engine.run(store.all_events(), until=ws.ticked, ordered=True)

    def keep(at: int, status: str) -> bool:
        return status not in INACTIVE and (since is None or at >= since) and (until is None or at <= until)

    current: Counter[tuple[str, str]] = Counter(
        (r["counterparty"], r["action"]) for r in current_rows if keep(r["at"], r["status"]))
    final = {d.id: d for d in out}
    simulated: Counter[tuple[str, str]] = Counter(
        (d.counterparty, d.action) for d in final.values() if keep(d.at, d.status))
    totals: dict[str, dict[str, int]] = {}
    for action in COUNTED:
        now = sum(n for (_, a), n in current.items() if a == action)
        then = sum(n for (_, a), n in simulated.items() if a == action)
        if now or then:
            totals[action] = {"current": now, "simulated": then}
    people: dict[str, list[dict[str, Any]]] = {}
    for key, action in sorted(set(current) | set(simulated)):
        if current[(key, action)] != simulated[(key, action)]:
            people.setdefault(key, []).append(
                {"action": action, "current": current[(key, action)], "simulated": simulated[(key, action)]})
    return {"rulebook": f"{book.id}@{book.version}", "totals": totals,
            "counterparties": [{"key": k, "changes": v} for k, v in people.items()]}
