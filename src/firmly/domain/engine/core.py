"""The engine's root: the policy it folds under, the tables per counterparty kind, timers and postings."""

from __future__ import annotations

from heapq import heappush

from firmly.domain.engine.policy import Policy, Table
from firmly.domain.engine.state import CounterpartyState
from firmly.domain.ledger import Posting


class Core:
    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        # kind -> table, when the rules never change over time and a counterparty follows its kind
        self._by_kind: dict[str, Table] | None = {} if policy.single_epoch else None
        self.postings: list[Posting] = []  # ledger postings made by the fold; the caller takes them

    def take_postings(self) -> list[Posting]:
        postings, self.postings = self.postings, []
        return postings

    def new_state(self, key: str, role: str = "subject") -> CounterpartyState:
        return CounterpartyState(key, "partner" if role == "partner" else "client")

    def table(self, st: CounterpartyState, at: int) -> Table:
        by_kind = self._by_kind
        if by_kind is not None and st.rulebooks is None:
            table = by_kind.get(st.kind)
            if table is None:
                table = by_kind[st.kind] = self.policy.table(st.kind, None, at)
            return table
        return self.policy.table(st.kind, st.rulebooks, at)

    def _push(self, st: CounterpartyState, at: int, kind: str, a: str = "", b: str = "") -> None:
        if st.timers is None:
            st.timers = []
        st.n += 1
        heappush(st.timers, (at, st.n, kind, a, b))
