"""The ConnectorStore part of the SQL store: connectors, their aliases, kept payloads and dead letters (a mixin
of SqlStore, as logins.py is)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.engine import Connection

from firmly.adapters.sql.tables import (
    connector_aliases,
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

    def add_connector(self, row: ConnectorRow) -> None:
        self.c.execute(insert(connectors).values(id=row.id, workspace=self.workspace, source=row.source,
                                                 name=row.name, secret=row.secret, options=row.options,
                                                 created_at=row.created_at))

    def connectors(self) -> list[ConnectorRow]:
        rows = self.c.execute(select(connectors).where(connectors.c.workspace == self.workspace)
                              .order_by(connectors.c.created_at, connectors.c.id))
        return [_connector(r) for r in rows]

    def find_connector(self, connector_id: str) -> ConnectorRow | None:
        """A connector by its public id, whatever its workspace: how a delivery finds its workspace."""
        r = self.c.execute(select(connectors).where(connectors.c.id == connector_id)).first()
        return None if r is None else _connector(r)

    def remove_connector(self, connector_id: str) -> bool:
        """Stops hearing a source; what it stored (events, payloads, aliases) stays in the history."""
        done = self.c.execute(delete(connectors).where(and_(connectors.c.workspace == self.workspace,
                                                            connectors.c.id == connector_id)))
        return bool(done.rowcount)

    def aliases(self, connector_id: str, vendor_ids: Iterable[str]) -> dict[str, str]:
        wanted = sorted(set(vendor_ids))
        if not wanted:
            return {}
        rows = self.c.execute(select(connector_aliases.c.vendor_id, connector_aliases.c.appointment).where(and_(
            connector_aliases.c.workspace == self.workspace, connector_aliases.c.connector == connector_id,
            connector_aliases.c.vendor_id.in_(wanted))))
        return {r[0]: r[1] for r in rows}

    def put_aliases(self, connector_id: str, aliases: dict[str, str]) -> None:
        if not aliases:
            return
        known = self.aliases(connector_id, aliases)
        fresh = [{"workspace": self.workspace, "connector": connector_id, "vendor_id": k, "appointment": v}
                 for k, v in aliases.items() if k not in known]
        if fresh:
            self.c.execute(insert(connector_aliases), fresh)
        for k, v in aliases.items():  # what a connector remembers of a booking (Square's start_at) may change
            if k in known and known[k] != v:
                self.c.execute(update(connector_aliases).where(and_(
                    connector_aliases.c.workspace == self.workspace, connector_aliases.c.connector == connector_id,
                    connector_aliases.c.vendor_id == k)).values(appointment=v))

    def keep_payload(self, connector_id: str, digest: str, body: str, received_at: int,
                     event_ids: Iterable[str]) -> None:
        """The delivery's body once, and which events it gave; an event keeps the first delivery it came in."""
        if self.c.execute(select(connector_payloads.c.id).where(and_(
                connector_payloads.c.workspace == self.workspace, connector_payloads.c.id == digest))).first() is None:
            self.c.execute(insert(connector_payloads).values(workspace=self.workspace, id=digest,
                                                             connector=connector_id, received_at=received_at,
                                                             body=body))
        ids = sorted(set(event_ids))
        if not ids:
            return
        linked = {r[0] for r in self.c.execute(select(connector_events.c.event).where(and_(
            connector_events.c.workspace == self.workspace, connector_events.c.event.in_(ids))))}
        fresh = [{"workspace": self.workspace, "event": e, "connector": connector_id, "payload": digest}
                 for e in ids if e not in linked]
        if fresh:
            self.c.execute(insert(connector_events), fresh)

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
