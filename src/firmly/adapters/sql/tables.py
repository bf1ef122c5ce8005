"""The schema. Every row carries its workspace; times are UTC microseconds (BIGINT), money is text
holding a Decimal, so both engines store exactly the same values."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    text,
)

metadata = MetaData()

# The decisions a person or the worker still has to act on. A query for one of these statuses repeats this
# condition word for word: SQLite uses a partial index only for a query that names its condition exactly.
OPEN_DECISIONS = "status IN ('proposed', 'scheduled')"
OPEN_STATUSES = ("proposed", "scheduled")

workspaces = Table(
    "workspaces", metadata,
    Column("id", String(100), primary_key=True),
    Column("locale", String(5), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("clock", BigInteger, nullable=True),  # the engine clock: latest event or tick
    Column("ticked", BigInteger, nullable=True),  # the latest tick, up to which timers have fired
    Column("next_seq", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

rulebooks = Table(
    "rulebooks", metadata,
    Column("workspace", String(100), primary_key=True),
    Column("id", String(100), primary_key=True),
    Column("version", String(100), primary_key=True),
    Column("hash", String(64), nullable=False),
    Column("source", Text, nullable=False),
    Column("loaded_at", BigInteger, nullable=False),
    Column("effective_from", BigInteger, nullable=True),
    Column("seq", Integer, nullable=False),
    Column("loaded_by", Text, nullable=True),
)

events = Table(
    "events", metadata,
    Column("workspace", String(100), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),  # arrival order in the workspace
    Column("id", String(200), nullable=False),
    Column("type", String(100), nullable=False),
    Column("counterparty", String(200), nullable=False),
    Column("partner", String(200), nullable=True),
    Column("occurred_at", String(40), nullable=False),  # as sent, with its offset
    Column("at", BigInteger, nullable=False),  # UTC microseconds, for ordering
    Column("data", Text, nullable=False),
    Column("digest", String(32), nullable=False),
    Column("tone", Text, nullable=True),  # JSON of the text's tone (messages, grace requests); replay renews it
    Index("ix_events_id", "workspace", "id", unique=True),
    # A counterparty's (or a partner's) history, or only its events of some types (a partner's reviews)
    Index("ix_events_counterparty", "workspace", "counterparty", "type"),
    Index("ix_events_partner", "workspace", "partner", "type", sqlite_where=text("partner IS NOT NULL"),
          postgresql_where=text("partner IS NOT NULL")),  # most events name no partner
    Index("ix_events_type", "workspace", "type"),  # the few events of one type: people's acts on the review queue
)

# Events acknowledged (`Prefer: respond-async`) and not yet decided: durable here, moved to `events` as they are
# decided, in arrival order. Only two indexes, so that storing them costs less than storing a decided event.
arrivals = Table(
    "arrivals", metadata,
    Column("workspace", String(100), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),  # its arrival order, kept in `events`
    Column("id", String(200), nullable=False),
    Column("type", String(100), nullable=False),
    Column("counterparty", String(200), nullable=False),
    Column("partner", String(200), nullable=True),  # as the event names it (data.partner); deciding may add one
    Column("occurred_at", String(40), nullable=False),
    Column("at", BigInteger, nullable=False),
    Column("data", Text, nullable=False),
    Column("digest", String(32), nullable=False),
    Column("tone", Text, nullable=True),
    Column("batch", BigInteger, nullable=False),  # the seq of the first event stored in the same transaction
    Column("arrived_at", BigInteger, nullable=False),  # the wall clock then: the events are judged by it
    Column("bucket", SmallInteger, nullable=False),  # its counterparty's (domain/buckets.py): who decides it
    Index("ix_arrivals_id", "workspace", "id", unique=True),
    Index("ix_arrivals_bucket", "workspace", "bucket", "seq"),
)

# The processes deciding the events that wait (`firmly decide`), each with its last sign of life: a lease
# renewed as it goes, over by DECIDER_LEASE. They share the buckets out among the live ones (domain/buckets.py).
# Of no workspace: it says nothing about any.
deciders = Table(
    "deciders", metadata,
    Column("holder", String(200), primary_key=True),
    Column("seen_at", BigInteger, nullable=False),
)

counterparties = Table(
    "counterparties", metadata,
    Column("workspace", String(100), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("name", Text, nullable=False),
    Column("tier", String(100), nullable=False),
    Column("status", String(20), nullable=False),
    Column("next_wake", BigInteger, nullable=True),
    Column("state", LargeBinary, nullable=False),  # the engine's derived state, rebuilt by replay
    Index("ix_counterparties_wake", "workspace", "next_wake"),
    Index("ix_counterparties_kind", "workspace", "kind"),  # the partners' and suppliers' reports, not the clients
)

decisions = Table(
    "decisions", metadata,
    Column("workspace", String(100), primary_key=True),
    Column("id", String(40), primary_key=True),
    Column("counterparty", String(200), nullable=False),
    Column("rule", String(100), nullable=True),
    Column("at", BigInteger, nullable=False),
    Column("n", Integer, nullable=False),  # order within the counterparty's fold
    Column("action", String(30), nullable=False),
    Column("status", String(20), nullable=False),
    Column("amount", String(40), nullable=True),
    Column("currency", String(3), nullable=True),
    Column("event", String(200), nullable=False),
    Column("evidence", Text, nullable=False),
    Column("step", Integer, nullable=True),
    Column("version", String(200), nullable=True),
    Column("explanation", Text, nullable=False),
    Column("params", Text, nullable=False),  # the explanation's structured fields, for other languages
    Index("ix_decisions_counterparty", "workspace", "counterparty", "at"),
    Index("ix_decisions_open", "workspace", "status", sqlite_where=text(OPEN_DECISIONS),
          postgresql_where=text(OPEN_DECISIONS)),  # the queues people and workers read
    Index("ix_decisions_action", "workspace", "action"),  # the invoices issued, on the dashboard
)

postings = Table(
    "postings", metadata,  # the ledger: derived from the event log by the fold, rebuilt by replay
    Column("workspace", String(100), primary_key=True),
    Column("id", String(40), primary_key=True),  # from counterparty, causing event and purpose: posts once
    Column("counterparty", String(200), nullable=False),
    Column("at", BigInteger, nullable=False),
    Column("n", Integer, nullable=False),  # order within the counterparty's ledger
    Column("debit", String(20), nullable=False),
    Column("credit", String(20), nullable=False),
    Column("amount", String(40), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("event", String(200), nullable=False),
    Column("decision", String(40), nullable=True),
    Column("service", String(100), nullable=True),
    Column("memo", String(40), nullable=False),
    Index("ix_postings_counterparty", "workspace", "counterparty", "at", "n"),
)

tokens = Table(
    "tokens", metadata,  # API tokens: only a hash of the secret is kept
    Column("id", String(40), primary_key=True),  # the token's public part, shown in lists and logs
    Column("workspace", String(100), nullable=False),
    Column("role", String(20), nullable=False),
    Column("name", Text, nullable=False),
    Column("hash", String(64), nullable=False),  # sha256 of the secret part
    Column("created_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger, nullable=True),
    Index("ix_tokens_workspace", "workspace"),
)

outbox = Table(
    "outbox", metadata,  # messages to send, written in the transaction of the decision they tell about
    Column("workspace", String(100), primary_key=True),
    Column("id", String(40), primary_key=True),  # from decision, channel and recipient: one message each
    Column("decision", String(40), nullable=False),
    Column("counterparty", String(200), nullable=False),
    Column("channel", String(20), nullable=False),  # email | webhook
    Column("recipient", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("attachment", String(40), nullable=True),  # what to attach when sending, e.g. "invoice"
    Column("status", String(20), nullable=False),  # pending | sending | sent | failed
    Column("attempts", Integer, nullable=False),
    Column("next_at", BigInteger, nullable=False),  # not before (quiet hours, backoff)
    Column("created_at", BigInteger, nullable=False),
    Column("sent_at", BigInteger, nullable=True),
    Column("error", Text, nullable=True),
    Column("claim", String(32), nullable=True),  # while `sending`: the token of the claim it is sent under
    Column("sender", Text, nullable=True),  # one of the workspace's senders (From and Reply-To); null: the default
    Column("sender_name", Text, nullable=True),
    Column("note", Text, nullable=True),  # roles its step named with no contact: sent to the own address instead
    Index("ix_outbox_due", "status", "next_at"),
    Index("ix_outbox_counterparty", "workspace", "counterparty", "sent_at"),
    Index("ix_outbox_status", "workspace", "status", "next_at"),  # a workspace's failed or pending messages
)

workspace_settings = Table(
    "workspace_settings", metadata,  # what a workspace says in its messages and when: sender, quiet hours, ...
    Column("workspace", String(100), primary_key=True),
    Column("name", String(60), primary_key=True),
    Column("value", Text, nullable=False),
)

users = Table(
    "users", metadata,  # web UI logins: an email belongs to one workspace; only an argon2 hash of the password
    Column("id", String(40), primary_key=True),
    Column("workspace", String(100), nullable=False),
    Column("email", String(320), nullable=False),  # lower-cased
    Column("role", String(20), nullable=False),  # admin | operator | viewer
    Column("password", Text, nullable=False),  # argon2id hash
    Column("created_at", BigInteger, nullable=False),
    Index("ix_users_email", "email", unique=True),
    Index("ix_users_workspace", "workspace"),
)

web_sessions = Table(
    "web_sessions", metadata,  # logged-in browsers: the cookie holds a secret, the row its SHA-256
    Column("id", String(64), primary_key=True),
    Column("user_id", String(40), nullable=False),
    Column("workspace", String(100), nullable=False),
    Column("csrf", String(64), nullable=False),  # the token every form of this session must send back
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Index("ix_web_sessions_user", "user_id"),
)

connectors = Table(
    "connectors", metadata,  # inbound webhooks: one per source a workspace hears (Cal.com, Calendly, ...)
    Column("id", String(40), primary_key=True),  # public: the last part of its URL, /v1/hooks/{id}
    Column("workspace", String(100), nullable=False),
    Column("source", String(20), nullable=False),
    Column("name", Text, nullable=False),
    Column("secret", Text, nullable=False),  # the vendor's signing key: it must be kept to check signatures
    Column("options", Text, nullable=False),  # JSON: the stage map, attended_after, the counterparty key
    Column("created_at", BigInteger, nullable=False),
    Index("ix_connectors_workspace", "workspace"),
)

connector_aliases = Table(
    "connector_aliases", metadata,  # a vendor's new booking id after a reschedule -> firmly's first appointment id
    Column("workspace", String(100), primary_key=True),
    Column("connector", String(40), primary_key=True),
    Column("vendor_id", String(300), primary_key=True),
    Column("appointment", String(300), nullable=False),
)

connector_payloads = Table(
    "connector_payloads", metadata,  # the original body of each delivery, kept for audit by its SHA-256
    Column("workspace", String(100), primary_key=True),
    Column("id", String(64), primary_key=True),
    Column("connector", String(40), nullable=False),
    Column("received_at", BigInteger, nullable=False),
    Column("body", Text, nullable=False),
)

connector_events = Table(
    "connector_events", metadata,  # which connector and delivery each event came from
    Column("workspace", String(100), primary_key=True),
    Column("event", String(200), primary_key=True),
    Column("connector", String(40), nullable=False),
    Column("payload", String(64), nullable=False),
    Index("ix_connector_events_connector", "workspace", "connector"),
)

connector_failures = Table(
    "connector_failures", metadata,  # dead letters: signed deliveries that could not be mapped, to re-run
    Column("workspace", String(100), primary_key=True),
    Column("id", String(40), primary_key=True),
    Column("connector", String(40), nullable=False),
    Column("received_at", BigInteger, nullable=False),
    Column("reason", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("status", String(20), nullable=False),  # open | done (re-run and stored)
    Index("ix_connector_failures_connector", "workspace", "connector", "status"),
)

connector_attendance = Table(
    "connector_attendance", metadata,  # visits a connector's `attended_after` will record as attended when due
    Column("workspace", String(100), primary_key=True),
    Column("appointment", String(300), primary_key=True),
    Column("connector", String(40), nullable=False),
    Column("counterparty", String(200), nullable=False),
    Column("due", BigInteger, nullable=False),  # starts_at + attended_after, UTC microseconds
    Index("ix_connector_attendance_due", "workspace", "due"),
)

login_attempts = Table(
    "login_attempts", metadata,  # web UI logins tried, per account and per address: throttled across processes
    Column("key", String(400), primary_key=True),  # "account:EMAIL" or "address:IP"
    Column("failures", Integer, nullable=False),
    Column("last_at", BigInteger, nullable=False),
    Column("locked_until", BigInteger, nullable=False),
    Index("ix_login_attempts_last", "last_at"),  # the old ones are forgotten
)
