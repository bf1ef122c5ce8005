"""What the use cases need from storage, as narrow Protocols (one per concern) and the rows they pass;
adapters implement them, and `Store` is their union for wiring.

Over 400 lines on purpose: every port is here, each small, so that one file answers "what may the core ask
of the outside world"; splitting it would scatter that answer."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from firmly.domain.engine.state import CounterpartyState
from firmly.domain.events import Event
from firmly.domain.invoice import Invoice
from firmly.domain.ledger import Posting


@dataclass(frozen=True, slots=True)
class WorkspaceInfo:
    id: str
    locale: str
    timezone: str
    clock: int | None
    ticked: int | None
    events: int = 0  # the arrival number the next event will get: changes whenever the history does
    decided: int = 0  # every event with a seq below it is decided (`events` and `decided` equal: all are)
    waiting: int = 0  # events acknowledged, not decided yet (some past `decided` may be); counted, or 1 if any

    @property
    def pending(self) -> int:
        """How many events are acknowledged and not decided yet."""
        return self.waiting


class Clock(Protocol):
    """The wall clock: what time it is outside firmly, by which events are judged as they arrive."""

    def now(self) -> int:
        """Microseconds since the epoch, UTC."""
        ...


@dataclass(frozen=True, slots=True)
class StoredRulebook:
    id: str
    version: str
    hash: str
    source: str
    loaded_at: int
    effective_from: int | None
    loaded_by: str | None = None  # who loaded it: a signed-in person, the OS user of `rulebook load`, or --by


@dataclass(frozen=True, slots=True)
class CounterpartyRow:
    key: str
    kind: str
    name: str
    tier: str
    status: str


@dataclass(slots=True)
class OutboxRow:
    id: str
    decision: str
    counterparty: str
    channel: str  # email | webhook
    recipient: str
    subject: str
    body: str
    attachment: str | None
    status: str  # pending | sending | sent | failed
    attempts: int
    next_at: int
    created_at: int
    sent_at: int | None = None
    error: str | None = None
    workspace: str = ""
    claim: str | None = None  # while `sending`: the token of the claim it was taken with (next_at is its lease)
    sender: str | None = None  # the address it is from and replies go to (the `senders` setting); None: the default
    sender_name: str | None = None
    note: str | None = None  # the roles its ladder step named that have no contact (so it went to the own address)


@dataclass(frozen=True, slots=True)
class TokenRow:
    id: str
    workspace: str
    role: str
    name: str
    hash: str
    created_at: int
    revoked_at: int | None


class Transactions(Protocol):
    """One workspace's unit of work: every other port's methods run inside one of these."""

    workspace: str

    @property
    def database(self) -> object:
        """Which database: stores of one database, whatever their workspace, have the same one (compared by
        identity), so caches and writers keyed by it never mix two databases."""
        ...

    @property
    def parallel_workspaces(self) -> bool:
        """Whether writes to two workspaces of the database run at once (each under a lock of its own)."""
        ...

    def another_process(self) -> Store | None:
        """In a child process forked from this one: the same workspace on connections of the child's own, or
        None where the data lives in this process only."""
        ...

    def write(self) -> AbstractContextManager[None]:
        """A transaction that holds the workspace's write lock; everything in it lands or nothing."""
        ...

    def read(self) -> AbstractContextManager[None]: ...

    def deciding(self) -> AbstractContextManager[None]:
        """A write transaction that shares the workspace with other deciders and appends: each decides only the
        buckets it takes (`claim_buckets`); a `write` waits for them all, and they for it."""
        ...

    def migrate(self) -> None: ...


class Workspaces(Protocol):
    """The workspace itself, its clock and its rulebooks."""

    def ensure_workspace(self, locale: str | None, timezone: str | None, now: int) -> WorkspaceInfo: ...

    def workspace_info(self, count: bool = False) -> WorkspaceInfo | None:
        """The workspace, or None; `count`: with how many events wait (else `waiting` is 1 when any do)."""
        ...

    def set_clock(self, clock: int | None, ticked: int | None) -> None: ...

    def raise_clock(self, clock: int, ticked: int | None = None) -> None:
        """The engine clock moved to `clock` unless it is past it already, and so the mark of the last tick to
        `ticked` if given (deciders and ticks sharing the workspace each move them, in any order)."""
        ...

    def rulebooks(self) -> list[StoredRulebook]: ...

    def add_rulebook(self, book: StoredRulebook) -> None: ...

    def all_workspaces(self) -> list[str]:
        """Every workspace in the database (the worker serves them all)."""
        ...

    def waiting_workspaces(self) -> list[str]:
        """The workspaces with acknowledged events waiting to be decided (what `firmly decide` visits)."""
        ...


class Buckets(Protocol):
    """Deciding shared by buckets of counterparties (domain/buckets.py) between processes."""

    def claim_buckets(self, buckets: Collection[int], wait: bool = False) -> set[int]:
        """Inside a transaction (`deciding`): the buckets of this workspace taken for this transaction, of those
        asked for; those another transaction holds are left out, or waited for (`wait`, taken in one order)."""
        ...

    def deciders_alive(self, holder: str, now: int, lease: int) -> list[str]:
        """`holder`'s lease renewed at `now`, those not renewed within `lease` µs ended: the live deciders."""
        ...

    def decider_leaves(self, holder: str) -> None: ...


class EventLog(Protocol):
    """The events, append-only, in arrival order."""

    def digests(self, ids: Iterable[str]) -> dict[str, str]: ...

    def append_events(self, events: list[Event]) -> None:
        """Store new events, decided in the same transaction; assigns each its arrival `seq`. Only while no
        event waits to be decided (`staged_events`): an event never overtakes one acknowledged before it."""
        ...

    def stage_events(self, events: list[Event], arrived: int) -> None:
        """Keep new events acknowledged but not yet decided, durably; assigns each its arrival `seq` (after
        every event stored before). `arrived`: the wall clock they arrived at, by which they are decided. They
        count in `digests` at once, and in every other read only once `admit_events` has moved them."""
        ...

    def staged_events(self, limit: int, buckets: Collection[int] | None = None) -> list[tuple[Event, int, int]]:
        """The oldest `limit` events waiting to be decided (of these buckets only, if given), in arrival order,
        each with its batch (the seq of the first event staged with it in one transaction) and the wall clock it
        arrived at."""
        ...

    def waiting_buckets(self, limit: int, buckets: Collection[int] | None = None) -> set[int]:
        """The buckets of the oldest `limit` events waiting to be decided (of these buckets only, if given): what
        a decider claims before it reads the events themselves."""
        ...

    def waiting_among(self, seqs: Collection[int]) -> set[int]:
        """Of these arrival numbers, those whose events still wait to be decided: what a synchronous post asks
        once it holds its buckets, to decide the rest of its own events from memory."""
        ...

    def admit_events(self, events: list[Event]) -> None:
        """Staged events, now decided: into the log with their `seq` (and the partner named meanwhile), out of
        the waiting ones. Each must still wait (else RuntimeError: someone else decided it)."""
        ...

    def events_about(self, keys: Iterable[str], types: Collection[str] | None = None) -> list[Event]:
        """The events about these counterparties (as the counterparty or as the partner named), oldest first;
        of these types only, if given."""
        ...

    def all_events(self, keep: Callable[[str, str | None], bool] | None = None) -> Iterator[Event]:
        """Every event in (occurred_at, arrival) order; with `keep`, only those for which keep(counterparty,
        partner named) holds, asked before the event is decoded (a part of a split fold: domain/engine/parts.py)."""
        ...

    def events_of_type(self, kind: str) -> list[Event]: ...

    def has_events_from(self, at: int) -> bool:
        """Whether an event dated `at` or later is stored."""
        ...

    def set_tones(self, found: list[Event]) -> None:
        """Renew the stored tone of these events (a replay under a changed lexicon)."""
        ...


class States(Protocol):
    """Each counterparty's derived state, as the fold left it."""

    def load_states(self, keys: Iterable[str]) -> dict[str, CounterpartyState]: ...

    def save_states(self, states: Iterable[CounterpartyState], now: int) -> None: ...

    def states_due(self, until: int) -> list[str]: ...

    def counterparties(self, kind: str | None = None, status: str | None = None) -> list[CounterpartyRow]: ...

    def states(self, kind: str | None = None) -> Iterator[CounterpartyState]:
        """Every counterparty's state (of one kind), streamed: reports over the whole workspace."""
        ...


class Decisions(Protocol):
    """What the rules decided, with their explanations and review status."""

    def put_decisions(self, rows: list[dict[str, Any]]) -> None: ...

    def decisions(self, counterparty: str | None = None, rule: str | None = None, status: str | None = None,
                  ids: Iterable[str] | None = None, action: str | None = None) -> list[dict[str, Any]]: ...

    def decision_facts(self, counterparties: Collection[str] | None = None,
                       keep: Callable[[str], bool] | None = None, texts: bool = False
                       ) -> dict[str, tuple[Any, ...]]:
        """Every decision's (or these counterparties', or those whose counterparty `keep`s) stored fields but its
        explanation: (counterparty, rule, at, n, action, status, amount, currency, event, evidence tuple, step,
        version, params dict). `texts`: evidence and params as JSON text, not decoded (the text a store writes
        is msgspec's JSON of the values)."""
        ...

    def decision_tally(self, leave_out: frozenset[str], since: int | None, until: int | None
                       ) -> Counter[tuple[str, str]]:
        """How many decisions each (counterparty, action) has, statuses in `leave_out` not counted."""
        ...


class Ledger(Protocol):
    """Money: the postings of prepaid accounts, deposits and fees."""

    def put_postings(self, postings: list[Posting]) -> None:
        """Store ledger postings; one with an id already stored replaces it (a posting is made once)."""
        ...

    def drop_postings(self, counterparties: Collection[str] | None = None) -> None:
        """Forget derived postings (of these counterparties, or all) before they are folded again."""
        ...

    def postings(self, counterparty: str) -> list[Posting]:
        """One counterparty's postings, oldest first."""
        ...


class Tokens(Protocol):
    """The API's bearer tokens (hashes only)."""

    def add_token(self, token: TokenRow) -> None: ...

    def tokens(self) -> list[TokenRow]:
        """This workspace's tokens, newest first."""
        ...

    def revoke_token(self, token_id: str, at: int) -> bool: ...

    def find_token(self, token_id: str) -> TokenRow | None:
        """A token by its public id, whatever its workspace: how a request finds its workspace."""
        ...


class Outbox(Protocol):
    """Messages to send, each at most once, claimed by one worker at a time."""

    def put_outbox(self, rows: list[OutboxRow]) -> int:
        """Add messages; one whose id is there already is left as it is (each is sent at most once)."""
        ...

    def claim_outbox(self, now: int, limit: int, lease_until: int, claim: str) -> list[OutboxRow]:
        """Due messages of every workspace, marked `sending` under the token `claim` until `lease_until`, so no
        other worker takes them; a `sending` message whose lease ran out (its worker died or is slow) is due
        again, and claiming it anew fences its old holder off (see `renew_outbox`, `finish_outbox`)."""
        ...

    def renew_outbox(self, row: OutboxRow, lease_until: int) -> bool:
        """Right before sending: if the message is still under `row.claim`, extend its lease to `lease_until`
        and say True; False when another worker has claimed it since (then it must not be sent here)."""
        ...

    def finish_outbox(self, row: OutboxRow) -> bool:
        """Store a message's new status, attempts, next_at, sent_at and error, and end its claim; only if it is
        still under `row.claim` (None: a message under no claim). False, storing nothing, when it is not."""
        ...

    def finish_outbox_batch(self, rows: list[OutboxRow]) -> list[bool]:
        """`finish_outbox` for a claimed batch at once (one transaction, not one per message): each message's
        new state is stored only if it is still under its `row.claim`; the answer says, row by row in the
        same order, which were (False: taken over by another worker since, left as that worker has it)."""
        ...

    def outbox(self, status: str | None = None, limit: int = 1000) -> list[OutboxRow]: ...

    def sent_since(self, counterparty: str, since: int, channel: str | None = None) -> int:
        """How many messages (of a channel) went to a counterparty since a moment (the daily limit)."""
        ...

    def sent_counts(self, counterparties: list[str], since: int, channel: str | None = None) -> dict[str, int]:
        """`sent_since` for many counterparties in one query: each of them (0 for none sent)."""
        ...


class Settings(Protocol):
    """A workspace's own settings (the webhook secret, the tone lexicon's digest), by name."""

    def settings(self) -> dict[str, str]: ...

    def set_setting(self, name: str, value: str | None) -> None:
        """Set a setting, or forget it (None)."""
        ...


class Attendance(Protocol):
    """What connectors leave for the clock: visits to record as attended when due, and each event's delivery."""

    def expect_attendance(self, connector_id: str, appointment: str, counterparty: str, due: int | None) -> None:
        """A visit to record as attended at `due` unless it ends otherwise first; None forgets it (it did)."""
        ...

    def attendance_due(self, until: int) -> list[tuple[str, str, str, int]]:
        """(connector, appointment, counterparty, due) of the visits due by `until`, earliest first."""
        ...

    def keep_payload(self, connector_id: str, digest: str, body: str, received_at: int,
                     event_ids: Iterable[str]) -> None:
        """The delivery's body once, and which events it gave; an event keeps the first delivery it came in.
        A clock-made event (`attended_after`) has no body: only its connector is kept."""
        ...

    def payload_of(self, event_id: str) -> tuple[str, str] | None:
        """(connector, original body) of an event a connector stored with a body."""
        ...


class Store(Transactions, Workspaces, Buckets, EventLog, States, Decisions, Ledger, Tokens, Outbox, Settings,
            Attendance, Protocol):
    """One workspace's storage: the union of the narrow ports above, for wiring and for the use cases that
    need several of them in one transaction."""


# -- web UI logins (appended: the Protocol's annotations are lazy, so these may follow it) ---------------
@dataclass(frozen=True, slots=True)
class UserRow:
    id: str
    workspace: str
    email: str  # lower-cased; one email, one workspace
    role: str  # admin | operator | viewer
    password: str  # an argon2id hash, never the password
    created_at: int


@dataclass(frozen=True, slots=True)
class SessionRow:
    id: str  # SHA-256 of the secret in the browser's cookie
    user_id: str
    workspace: str
    csrf: str
    created_at: int
    expires_at: int


@dataclass(frozen=True, slots=True)
class AttemptRow:
    """Recent logins tried for one account or from one address, and until when the next one must wait."""

    key: str  # "account:EMAIL" or "address:IP"
    failures: int  # attempts counted since the last success (an attempt counts before its password is checked)
    last_at: int
    locked_until: int


class Logins(Protocol):
    """The web UI's logins, sessions and login attempts, found by email or session id whatever the store's
    workspace."""

    def put_user(self, user: UserRow) -> None:
        """Add a login, or replace the one with the same id (a new password or role)."""
        ...

    def find_user(self, email: str) -> UserRow | None: ...

    def user(self, user_id: str) -> UserRow | None: ...

    def users(self) -> list[UserRow]:
        """This workspace's logins, by email."""
        ...

    def add_session(self, session: SessionRow) -> None: ...

    def find_session(self, session_id: str) -> SessionRow | None: ...

    def drop_session(self, session_id: str) -> None: ...

    def drop_sessions(self, user_id: str, before: int | None = None) -> None:
        """End a user's sessions (all, or those that expired before a moment)."""
        ...

    def login_attempts(self, keys: list[str]) -> dict[str, AttemptRow]: ...

    def put_login_attempt(self, row: AttemptRow) -> None: ...

    def drop_login_attempts(self, keys: list[str] | None = None, before: int | None = None) -> None:
        """Forget the attempts of `keys`, or all of those last tried before a moment."""
        ...


# -- connectors: inbound webhooks of the tools a business already uses -------------------------------
@dataclass(frozen=True, slots=True)
class ConnectorRow:
    id: str  # public: /v1/hooks/{id}
    workspace: str
    source: str  # calcom | calendly | ...
    name: str
    secret: str
    options: str  # JSON
    created_at: int


@dataclass(frozen=True, slots=True)
class FailureRow:
    """A dead letter: a signed delivery that could not be mapped, kept whole to be re-run."""

    id: str
    connector: str
    received_at: int
    reason: str
    body: str
    status: str  # open | done


class Connectors(Protocol):
    """Connectors, the aliases of rescheduled bookings, the payloads and the dead letters."""

    def add_connector(self, row: ConnectorRow) -> None: ...

    def connectors(self) -> list[ConnectorRow]: ...

    def find_connector(self, connector_id: str) -> ConnectorRow | None: ...

    def set_connector_options(self, connector_id: str, options: str) -> None: ...

    def remove_connector(self, connector_id: str) -> bool: ...

    def aliases(self, connector_id: str, vendor_ids: Iterable[str]) -> dict[str, str]: ...

    def put_aliases(self, connector_id: str, aliases: dict[str, str]) -> None: ...

    def listed_events(self, counterparty: str | None, kind: str | None, source: str | None,
                      limit: int) -> list[dict[str, Any]]: ...

    def add_failure(self, connector_id: str, row: FailureRow) -> None: ...

    def failures(self, connector_id: str, status: str | None = "open") -> list[FailureRow]: ...

    def settle_failure(self, failure_id: str, status: str, reason: str) -> None: ...


class UserStore(Store, Logins, Protocol):
    """A Store that also keeps the web UI's logins and sessions."""


class ConnectorStore(Store, Connectors, Protocol):
    """A Store that also keeps connectors."""


class Operations(Protocol):
    """What the installation's operator asks of the database as a whole."""

    def ping(self) -> None:
        """Raises (a StorageError) unless the database answers."""
        ...

    def decision_counts(self) -> list[tuple[str, str, str, int]]:
        """Every workspace's decisions counted by (workspace, action, status): the metrics, at scrape time."""
        ...


class Storage(Store, Logins, Connectors, Operations, Protocol):
    """Everything a database keeps, as the doors are handed it by `bootstrap`."""


class Documents(Protocol):
    """Documents drawn from HTML: the rulebook appendix and invoices as PDF."""

    def html_to_pdf(self, html: str) -> bytes: ...

    def invoice_html(self, inv: Invoice) -> str: ...

    def invoice_pdf(self, inv: Invoice) -> bytes: ...
