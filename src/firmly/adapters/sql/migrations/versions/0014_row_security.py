"""Row-level security per workspace on PostgreSQL (SQLite is left as it is: one file, one process's trust).

Every table with a workspace column, and `workspaces` by its id, admits only the rows of the workspace the
transaction names: the store sets `firmly.workspace` at the start of each transaction, reads included
(`set_config('firmly.workspace', NAME, true)`). A connection that names none reads nothing and can write
nothing; one that names workspace A cannot see or change B's rows, even with a query that forgets
`WHERE workspace`. FORCE makes it hold for the tables' owner too (superusers always bypass it: run firmly as
a role that is not one).

A few store methods rightly span workspaces. Each has its own narrow way through: it sets `firmly.through`
to its own name for its statements only (and back to '' after), and a policy admits that name on the tables
and commands it needs, nothing more:

- `workspaces`: reading the list of workspaces (SqlStore.all_workspaces: the worker's clock visits each).
- `metrics`: reading `decisions` for the tallies of /metrics (SqlStore.decision_counts).
- `outbox`: reading and updating `outbox` (the worker's claims, leases and marks across workspaces:
  SqlStore.claim_outbox, renew_outbox, finish_outbox, finish_outbox_batch). No insert, no delete.
- `tokens`: reading `tokens` by the id an API request presents (SqlStore.find_token).
- `connectors`: reading `connectors` by the public id in a delivery's URL (SqlStore.find_connector).
- `logins`: `users` and `web_sessions`, the directory of web logins (sql/logins.py): an email or a session
  cookie is looked up before its workspace is known, and a login's session is opened from there.

`login_attempts` has no workspace column (its keys are accounts and addresses) and stays outside. Migrations
run as the tables' owner; one that moves rows turns FORCE off for its own transaction and back on.

Revision ID: 0014_row_security
Revises: 0012
"""

from __future__ import annotations

from alembic import op

revision = "0014_row_security"
down_revision = "0013_decided_through"
branch_labels = None
depends_on = None

WORKSPACE = "current_setting('firmly.workspace', true)"
THROUGH = "current_setting('firmly.through', true)"

# Each table with its workspace column
TABLES = {
    "workspaces": "id",
    **{name: "workspace" for name in (
        "rulebooks", "events", "arrivals", "counterparties", "decisions", "postings", "tokens", "outbox",
        "workspace_settings", "users", "web_sessions", "connectors", "connector_aliases", "connector_payloads",
        "connector_events", "connector_failures", "connector_attendance")},
}

# (path, table, commands): the ways through, as the docstring names them
THROUGH_PATHS = (
    ("workspaces", "workspaces", ("SELECT",)),
    ("metrics", "decisions", ("SELECT",)),
    ("outbox", "outbox", ("SELECT", "UPDATE")),
    ("tokens", "tokens", ("SELECT",)),
    ("connectors", "connectors", ("SELECT",)),
    ("logins", "users", ("ALL",)),
    ("logins", "web_sessions", ("ALL",)),
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column in TABLES.items():
        op.execute(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY')
        op.execute(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')
        op.execute(f'CREATE POLICY firmly_workspace ON "{table}" USING ("{column}" = {WORKSPACE}) '
                   f'WITH CHECK ("{column}" = {WORKSPACE})')
    for path, table, commands in THROUGH_PATHS:
        for command in commands:
            check = f" WITH CHECK ({THROUGH} = '{path}')" if command in ("UPDATE", "ALL") else ""
            op.execute(f'CREATE POLICY firmly_through_{path}_{command.lower()} ON "{table}" FOR {command} '
                       f"USING ({THROUGH} = '{path}'){check}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for path, table, commands in THROUGH_PATHS:
        for command in commands:
            op.execute(f'DROP POLICY firmly_through_{path}_{command.lower()} ON "{table}"')
    for table in TABLES:
        op.execute(f'DROP POLICY firmly_workspace ON "{table}"')
        op.execute(f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY')
        op.execute(f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY')
