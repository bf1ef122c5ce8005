"""What people read about a counterparty: its conduct page as plain data."""

from __future__ import annotations

from typing import Any

from firmly.domain.clock import iso
from firmly.domain.contacts import contacts_of
from firmly.domain.engine.policy import Table
from firmly.domain.engine.state import CounterpartyState


def conduct(st: CounterpartyState, table: Table, now: int) -> dict[str, Any]:
    """The stable JSON of `counterparty show`, as of the engine clock `now`."""
    rules: dict[str, Any] = {}
    for rule_id, c in table.rules.items():
        rs = st.rules.get(rule_id)
        strikes = len(st.active_strikes(c.group, c.window_us, now)) if c.ladder else 0
        rules[rule_id] = {
            "strikes": strikes,
            "step": rs.step if rs else None,
            "kept_streak": rs.streak if rs else 0,
            "broken": rs.broken if rs else 0,
            "kept": rs.kept if rs else 0,
        }
    restrictions = [{"type": r.type, "until": iso(r.until), "rule": r.rule}
                    for r in st.restrictions or () if r.until > now]
    info = st.info or {}
    return {
        "key": st.key,
        "kind": st.kind,
        "name": st.name,
        "tier": st.tier,
        "status": st.status(now),
        "restrictions": restrictions,
        "rules": rules,
        "account": None,
        "scores": {},
        "email": info.get("email"),
        "locale": st.locale,
        "contacts": {role: {"name": p.name, "email": p.email}
                     for role, p in sorted(contacts_of(info.get("contacts")).items())},
    }
