"""What the use cases need from storage, as Protocols; adapters implement them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from firmly.domain.engine.state import CounterpartyState
from firmly.domain.events import Event
from firmly.domain.ledger import Posting


@dataclass(frozen=True, slots=True)
class WorkspaceInfo:
    id: str
    locale: str
    timezone: str
    clock: int | None
    ticked: int | None
    events: int = 0  # how many events the workspace has taken: changes whenever its history does


@dataclass(frozen=True, slots=True)
class StoredRulebook:
    id: str
    version: str
    hash: str
    source: str
    loaded_at: int
    effective_from: int | None


@dataclass(frozen=True, slots=True)
class CounterpartyRow:
    key: str
    kind: str
    name: str
    tier: str
    status: str


@dataclass(frozen=True, slots=True)
class TokenRow:
    id: str
    workspace: str
    role: str
    name: str
    hash: str
    created_at: int
    revoked_at: int | None


class Store(Protocol):
    """One workspace's storage: the event log, rulebooks, derived state and decisions."""

    workspace: str

    def write(self) -> AbstractContextManager[None]:
        """A transaction that holds the workspace's write lock; everything in it lands or nothing."""
        ...

    def read(self) -> AbstractContextManager[None]: ...

    def migrate(self) -> None: ...

    def ensure_workspace(self, locale: str | None, timezone: str | None, now: int) -> WorkspaceInfo: ...

    def workspace_info(self) -> WorkspaceInfo | None: ...

    def set_clock(self, clock: int | None, ticked: int | None) -> None: ...

    def rulebooks(self) -> list[StoredRulebook]: ...

    def add_rulebook(self, book: StoredRulebook) -> None: ...

    def digests(self, ids: Iterable[str]) -> dict[str, str]: ...

    def append_events(self, events: list[Event]) -> None:
        """Store new events; assigns each its arrival `seq`."""
        ...

    def events_about(self, keys: Iterable[str]) -> list[Event]: ...

    def all_events(self) -> Iterator[Event]: ...

    def events_of_type(self, kind: str) -> list[Event]: ...

    def set_tones(self, found: list[Event]) -> None:
        """Renew the stored tone of these events (a replay under a changed lexicon)."""
        ...

    def load_states(self, keys: Iterable[str]) -> dict[str, CounterpartyState]: ...

    def save_states(self, states: Iterable[CounterpartyState], now: int) -> None: ...

    def states_due(self, until: int) -> list[str]: ...

    def counterparties(self, kind: str | None = None, status: str | None = None) -> list[CounterpartyRow]: ...

    def put_decisions(self, rows: list[dict[str, Any]]) -> None: ...

    def decisions(self, counterparty: str | None = None, rule: str | None = None, status: str | None = None,
                  ids: Iterable[str] | None = None, action: str | None = None) -> list[dict[str, Any]]: ...

    def decision_facts(self) -> dict[str, tuple[Any, ...]]:
        """Every decision's stored fields but its explanation: (counterparty, rule, at, n, action, status,
        amount, currency, event, evidence tuple, step, version, params dict)."""
        ...

    def decision_tally(self, leave_out: frozenset[str], since: int | None, until: int | None
                       ) -> Counter[tuple[str, str]]:
        """How many decisions each (counterparty, action) has, statuses in `leave_out` not counted."""
        ...

    def states(self, kind: str | None = None) -> Iterator[CounterpartyState]:
        """Every counterparty's state (of one kind), streamed: reports over the whole workspace."""
        ...

    def put_postings(self, postings: list[Posting]) -> None:
        """Store ledger postings; one with an id already stored replaces it (a posting is made once)."""
        ...

    def drop_postings(self, counterparty: str | None = None) -> None:
        """Forget derived postings (of one counterparty, or all) before they are folded again."""
        ...

    def postings(self, counterparty: str) -> list[Posting]:
        """One counterparty's postings, oldest first."""
        ...

    def add_token(self, token: TokenRow) -> None: ...

    def tokens(self) -> list[TokenRow]:
        """This workspace's tokens, newest first."""
        ...

    def revoke_token(self, token_id: str, at: int) -> bool: ...

    def find_token(self, token_id: str) -> TokenRow | None:
        """A token by its public id, whatever its workspace: how a request finds its workspace."""
        ...
