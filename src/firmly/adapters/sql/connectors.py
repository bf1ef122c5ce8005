"""The ConnectorStore part of the SQL store: connectors, their aliases, kept payloads and dead letters (a mixin
of SqlStore, as logins.py is)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.engine import Connection

from firmly.adapters.sql.tables import (
    connector_events,
    connector_failures,
    connector_payloads,
    connectors,
    events,
)
from firmly.domain.ports import ConnectorRow, FailureRow


def _connector(r: Any) -> ConnectorRow:
    return ConnectorRow(r.id, r.workspace, r.source, r.name, r.secret, r.options, r.created_at)


def _failure(r: Any) -> FailureRow:
    return FailureRow(r.id, r.connector, r.received_at, r.reason, r.body, r.status)


class Connectors:
    workspace: str
    dialect: str

    @property
    def c(self) -> Connection:  # the store's open transaction (SqlStore.c)
        raise NotImplementedError

    def _rows(self, sql: str, params: Sequence[Any]) -> list[Any]:  # SqlStore's, straight to the driver
        raise NotImplementedError

    def _run(self, sql: str, params: Sequence[Any]) -> None:
        raise NotImplementedError

    def _through(self, path: str) -> AbstractContextManager[None]:  # SqlStore's: one way across workspaces
        raise NotImplementedError

    def add_connector(self, row: ConnectorRow) -> None:
        self.c.execute(insert(connectors).values(id=row.id, workspace=self.workspace, source=row.source,
                                                 name=row.name, secret=row.secret, options=row.options,
                                                 created_at=row.created_at))

    def connectors(self) -> list[ConnectorRow]:
        rows = self.c.execute(select(connectors).where(connectors.c.workspace == self.workspace)
                              .order_by(connectors.c.created_at, connectors.c.id))
        return [_connector(r) for r in rows]

    def find_connector(self, connector_id: str) -> ConnectorRow | None:
        """A connector by its public id, whatever its workspace: how a delivery finds its workspace (row-level
        security's `connectors` way on PostgreSQL, migration 0014_row_security)."""
        with self._through("connectors"):
            r = self.c.execute(select(connectors).where(connectors.c.id == connector_id)).first()
        return None if r is None else _connector(r)

    def set_connector_options(self, connector_id: str, options: str) -> None:
        self.c.execute(update(connectors).where(and_(connectors.c.workspace == self.workspace,
                                                     connectors.c.id == connector_id)).values(options=options))

    def remove_connector(self, connector_id: str) -> bool:
        """Stops hearing a source; what it stored (events, payloads, aliases) stays in the history."""
        done = self.c.execute(delete(connectors).where(and_(connectors.c.workspace == self.workspace,
                                                            connectors.c.id == connector_id)))
        return bool(done.rowcount)

    # A delivery's own statements go straight to the driver (as the store's hot paths do): built through
    # SQLAlchemy they cost more than the rest of a connector's work.
    def aliases(self, connector_id: str, vendor_ids: Iterable[str]) -> dict[str, str]:
        wanted = sorted(set(vendor_ids))
        if not wanted:
            return {}
        marks = ", ".join("?" for _ in wanted)
        return dict(self._rows(f"SELECT vendor_id, appointment FROM connector_aliases WHERE workspace = ? AND "
                               f"connector = ? AND vendor_id IN ({marks})", (self.workspace, connector_id, *wanted)))

    def put_aliases(self, connector_id: str, aliases: dict[str, str]) -> None:
        """New aliases, and what a connector remembers of a booking (Square's start_at), which may change."""
        for vendor_id, value in aliases.items():
            self._run("INSERT INTO connector_aliases (workspace, connector, vendor_id, appointment) "
                      "VALUES (?, ?, ?, ?) ON CONFLICT (workspace, connector, vendor_id) "
                      "DO UPDATE SET appointment = excluded.appointment",
                      (self.workspace, connector_id, vendor_id, value))

    def keep_payload(self, connector_id: str, digest: str, body: str, received_at: int,
                     event_ids: Iterable[str]) -> None:
        """The delivery's body once, and which events it gave; an event keeps the first delivery it came in.
        A clock-made event (`attended_after`) has no body: only its connector is kept."""
        if body:
            self._run("INSERT INTO connector_payloads (workspace, id, connector, received_at, body) "
                      "VALUES (?, ?, ?, ?, ?) ON CONFLICT (workspace, id) DO NOTHING",
                      (self.workspace, digest, connector_id, received_at, body))
        for event_id in sorted(set(event_ids)):
            self._run("INSERT INTO connector_events (workspace, event, connector, payload) VALUES (?, ?, ?, ?) "
                      "ON CONFLICT (workspace, event) DO NOTHING", (self.workspace, event_id, connector_id, digest))

    def expect_attendance(self, connector_id: str, appointment: str, counterparty: str, due: int | None) -> None:
        """A visit to record as attended at `due` unless it ends otherwise first; None forgets it (it did)."""
        if due is None:
            self._run("DELETE FROM connector_attendance WHERE workspace = ? AND appointment = ?",
                      (self.workspace, appointment))
            return
        self._run("INSERT INTO connector_attendance (workspace, appointment, connector, counterparty, due) "
                  "VALUES (?, ?, ?, ?, ?) ON CONFLICT (workspace, appointment) DO UPDATE SET due = excluded.due",
                  (self.workspace, appointment, connector_id, counterparty, due))

    def attendance_due(self, until: int) -> list[tuple[str, str, str, int]]:
        """(connector, appointment, counterparty, due) of the visits due by `until`, earliest first."""
        return [tuple(r) for r in self._rows(
            "SELECT connector, appointment, counterparty, due FROM connector_attendance WHERE workspace = ? "
            "AND due <= ? ORDER BY due, appointment", (self.workspace, until))]

    def payload_of(self, event_id: str) -> tuple[str, str] | None:
        """(connector, original body) of an event a connector stored."""
        r = self.c.execute(select(connector_events.c.connector, connector_payloads.c.body).join(
            connector_payloads, and_(connector_payloads.c.workspace == connector_events.c.workspace,
                                     connector_payloads.c.id == connector_events.c.payload)).where(and_(
                connector_events.c.workspace == self.workspace, connector_events.c.event == event_id))).first()
        return None if r is None else (r[0], r[1])

    def listed_events(self, counterparty: str | None, kind: str | None, source: str | None,
                      limit: int) -> list[dict[str, Any]]:
        """Stored events, oldest first, each with the connector it came through (or none)."""
        query = (select(events.c.id, events.c.type, events.c.counterparty, events.c.occurred_at, events.c.data,
                        connector_events.c.connector)
                 .select_from(events.outerjoin(connector_events, and_(
                     connector_events.c.workspace == events.c.workspace, connector_events.c.event == events.c.id)))
                 .where(events.c.workspace == self.workspace))
        if counterparty is not None:
            query = query.where(events.c.counterparty == counterparty)
        if kind is not None:
            query = query.where(events.c.type == kind)
        if source is not None:
            query = query.where(connector_events.c.connector == source)
        rows = self.c.execute(query.order_by(events.c.at, events.c.seq).limit(limit))
        return [{"id": r[0], "type": r[1], "counterparty": r[2], "occurred_at": r[3], "data": r[4],
                 "source": r[5]} for r in rows]

    def add_failure(self, connector_id: str, row: FailureRow) -> None:
        self.c.execute(insert(connector_failures).values(workspace=self.workspace, id=row.id, connector=connector_id,
                                                         received_at=row.received_at, reason=row.reason,
                                                         body=row.body, status=row.status))

    def failures(self, connector_id: str, status: str | None = "open") -> list[FailureRow]:
        query = select(connector_failures).where(and_(connector_failures.c.workspace == self.workspace,
                                                      connector_failures.c.connector == connector_id))
        if status is not None:
            query = query.where(connector_failures.c.status == status)
        rows = self.c.execute(query.order_by(connector_failures.c.received_at, connector_failures.c.id))
        return [_failure(r) for r in rows]

    def settle_failure(self, failure_id: str, status: str, reason: str) -> None:
        self.c.execute(update(connector_failures).where(and_(connector_failures.c.workspace == self.workspace,
                                                             connector_failures.c.id == failure_id))
                       .values(status=status, reason=reason))
