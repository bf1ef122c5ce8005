"""The Store port in memory: for tests and for trying the use cases without a database."""

from __future__ import annotations

import copy
import dataclasses
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import msgspec

from firmly.adapters.memory_logins import MemoryLogins
from firmly.domain.buckets import bucket_of
from firmly.domain.engine.state import CounterpartyState, decode_state, encode_state
from firmly.domain.events import Event
from firmly.domain.ledger import Posting
from firmly.domain.ports import CounterpartyRow, OutboxRow, StoredRulebook, TokenRow, WorkspaceInfo


class MemoryStore(MemoryLogins):  # the web UI's logins and sessions: adapters/memory_logins.py
    """Same behaviour as the SQL store, including all-or-nothing writes (a failed write rolls back)."""

    def __init__(self, workspace: str = "default") -> None:
        self.workspace = workspace
        self._data: dict[str, Any] = {"workspaces": {}, "rulebooks": [], "events": [], "by_id": {},
                                      "states": {}, "decisions": {},
                                      "postings": {}, "tokens": {}, "outbox": {},
                                      "settings": {}, "attendance": {}, "payloads": {}, "payload_events": {},
                                      "staged": {}, "deciders": {}}
        self._open = False

    @contextmanager
    def write(self) -> Iterator[None]:
        if self._open:
            yield
            return
        snapshot = copy.deepcopy(self._data)
        self._open = True
        try:
            yield
        except BaseException:
            self._data.clear()  # in place: other workspaces' stores over the same data see the rollback too
            self._data.update(snapshot)
            raise
        finally:
            self._open = False

    @contextmanager
    def read(self) -> Iterator[None]:
        yield

    def deciding(self) -> AbstractContextManager[None]:
        return self.write()  # one process, one writer at a time: a decider has every bucket

    def claim_buckets(self, buckets: Collection[int], wait: bool = False) -> set[int]:
        return set(buckets)

    def deciders_alive(self, holder: str, now: int, lease: int) -> list[str]:
        seen: dict[str, int] = self._data["deciders"]
        for name in [name for name, at in seen.items() if at < now - lease]:
            del seen[name]
        seen[holder] = now
        return sorted(seen)

    def decider_leaves(self, holder: str) -> None:
        self._data["deciders"].pop(holder, None)

    @property
    def database(self) -> object:
        return self._data

    @property
    def parallel_workspaces(self) -> bool:
        return False  # one process, one lock-free dict: writers take turns anyway

    def migrate(self) -> None:
        """Nothing to migrate in memory."""

    def ensure_workspace(self, locale: str | None, timezone: str | None, now: int) -> WorkspaceInfo:
        found = self._data["workspaces"].get(self.workspace)
        if found is None:
            found = {"locale": locale or "ru", "timezone": timezone or "Europe/Moscow", "clock": None,
                     "ticked": None, "next_seq": 1}
            self._data["workspaces"][self.workspace] = found
        else:
            found["locale"] = locale or found["locale"]
            found["timezone"] = timezone or found["timezone"]
        info = self.workspace_info()
        assert info is not None
        return info

    def workspace_info(self, count: bool = False) -> WorkspaceInfo | None:
        found = self._data["workspaces"].get(self.workspace)
        if found is None:
            return None
        waiting = self._data["staged"].get(self.workspace, {})
        first = min((ev.seq for ev, _, _ in waiting.values()), default=found["next_seq"])
        return WorkspaceInfo(self.workspace, found["locale"], found["timezone"], found["clock"], found["ticked"],
                             found["next_seq"], first, len(waiting) if count else min(1, len(waiting)))

    def set_clock(self, clock: int | None, ticked: int | None) -> None:
        found = self._data["workspaces"][self.workspace]
        found["clock"], found["ticked"] = clock, ticked

    def raise_clock(self, clock: int, ticked: int | None = None) -> None:
        found = self._data["workspaces"][self.workspace]
        if found["clock"] is None or found["clock"] < clock:
            found["clock"] = clock
        if ticked is not None and (found["ticked"] is None or found["ticked"] < ticked):
            found["ticked"] = ticked

    def rulebooks(self) -> list[StoredRulebook]:
        return [b for w, b in self._data["rulebooks"] if w == self.workspace]

    def add_rulebook(self, book: StoredRulebook) -> None:
        if any(b.id == book.id and b.version == book.version for b in self.rulebooks()):
            raise ValueError(f"rulebook {book.id} {book.version} is stored already")
        self._data["rulebooks"].append((self.workspace, book))

    def digests(self, ids: Iterable[str]) -> dict[str, str]:
        mine = self._data["by_id"].get(self.workspace, {})
        waiting = self._data["staged"].get(self.workspace, {})
        return {i: (mine[i] if i in mine else waiting[i][0]).digest for i in ids if i in mine or i in waiting}

    def append_events(self, events: list[Event]) -> None:
        found = self._data["workspaces"][self.workspace]
        if self._data["staged"].get(self.workspace):
            raise RuntimeError(f"events of workspace {self.workspace!r} wait to be decided: they are decided "
                               "before any event stored after them")
        self._new(events)
        for ev in events:
            ev.seq = found["next_seq"]
            found["next_seq"] += 1
        self._log(events)

    def _new(self, events: list[Event]) -> None:
        known = self.digests(ev.id for ev in events)
        if known:
            raise ValueError(f"event {next(iter(known))} is stored already")

    def _log(self, events: list[Event]) -> None:
        mine = self._data["by_id"].setdefault(self.workspace, {})
        for ev in events:
            mine[ev.id] = ev
            self._data["events"].append((self.workspace, ev))

    def stage_events(self, events: list[Event], arrived: int) -> None:
        found = self._data["workspaces"][self.workspace]
        self._new(events)
        waiting = self._data["staged"].setdefault(self.workspace, {})
        batch = found["next_seq"]
        for ev in events:
            ev.seq = found["next_seq"]
            found["next_seq"] += 1
            waiting[ev.id] = (copy.copy(ev), batch, arrived)  # a copy, as a database would keep

    def staged_events(self, limit: int, buckets: Collection[int] | None = None) -> list[tuple[Event, int, int]]:
        staged = self._data["staged"].get(self.workspace, {}).values()
        waiting = sorted((w for w in staged if buckets is None or bucket_of(w[0].counterparty) in buckets),
                         key=lambda w: w[0].seq)[:limit]
        return [(copy.copy(ev), batch, arrived) for ev, batch, arrived in waiting]

    def waiting_buckets(self, limit: int, buckets: Collection[int] | None = None) -> set[int]:
        return {bucket_of(ev.counterparty) for ev, _, _ in self.staged_events(limit, buckets)}

    def waiting_among(self, seqs: Collection[int]) -> set[int]:
        wanted = set(seqs)
        return {ev.seq for ev, _, _ in self._data["staged"].get(self.workspace, {}).values() if ev.seq in wanted}

    def admit_events(self, events: list[Event]) -> None:
        if not events:
            return
        waiting = self._data["staged"].get(self.workspace, {})
        if any(ev.id not in waiting for ev in events):
            raise RuntimeError(f"of events {events[0].seq}-{events[-1].seq}, some wait no longer")
        for ev in events:
            del waiting[ev.id]
        self._log(events)

    def _mine(self) -> list[Event]:
        return [ev for w, ev in self._data["events"] if w == self.workspace]

    def events_about(self, keys: Iterable[str], types: Collection[str] | None = None) -> list[Event]:
        wanted = set(keys)
        found = [ev for ev in self._mine() if (ev.counterparty in wanted or ev.partner in wanted)
                 and (types is None or ev.type in types)]
        return sorted(found, key=lambda e: (e.at, e.seq))

    def all_events(self, keep: Callable[[str, str | None], bool] | None = None) -> Iterator[Event]:
        for ev in sorted(self._mine(), key=lambda e: (e.at, e.seq)):
            if keep is None or keep(ev.counterparty, ev.partner):
                yield ev

    def events_of_type(self, kind: str) -> list[Event]:
        return [ev for ev in self.all_events() if ev.type == kind]

    def has_events_from(self, at: int) -> bool:
        return any(ev.at >= at for ev in self._mine())

    def set_tones(self, found: list[Event]) -> None:
        tones = {ev.id: ev.tone for ev in found}
        for ev in self._mine():
            if ev.id in tones:
                ev.tone = tones[ev.id]

    def load_states(self, keys: Iterable[str]) -> dict[str, CounterpartyState]:
        mine = self._data["states"].get(self.workspace, {})
        # a copy, as a database would give: changes count only once saved
        return {k: decode_state(mine[k][1]) for k in keys if k in mine}

    def save_states(self, states: Iterable[CounterpartyState], now: int) -> None:
        mine = self._data["states"].setdefault(self.workspace, {})
        for st in states:
            row = CounterpartyRow(st.key, st.kind, st.name, st.tier, st.status(now))
            mine[st.key] = (row, encode_state(st), st.next_wake())

    def states_due(self, until: int) -> list[str]:
        mine = self._data["states"].get(self.workspace, {})
        return [k for k, (_, _, wake) in mine.items() if wake is not None and wake <= until]

    def counterparties(self, kind: str | None = None, status: str | None = None) -> list[CounterpartyRow]:
        rows = [row for row, _, _ in self._data["states"].get(self.workspace, {}).values()]
        return sorted((r for r in rows if (kind is None or r.kind == kind) and (status is None or r.status == status)),
                      key=lambda r: r.key)

    def put_decisions(self, rows: list[dict[str, Any]]) -> None:
        mine = self._data["decisions"].setdefault(self.workspace, {})
        for row in rows:
            mine[row["id"]] = {**row, "evidence": list(row["evidence"]), "params": dict(row.get("params") or {})}

    def decisions(self, counterparty: str | None = None, rule: str | None = None, status: str | None = None,
                  ids: Iterable[str] | None = None, action: str | None = None) -> list[dict[str, Any]]:
        wanted = set(ids) if ids is not None else None
        rows = [dict(r) for r in self._data["decisions"].get(self.workspace, {}).values()
                if (counterparty is None or r["counterparty"] == counterparty)
                and (rule is None or r["rule"] == rule) and (status is None or r["status"] == status)
                and (wanted is None or r["id"] in wanted) and (action is None or r["action"] == action)]
        return sorted(rows, key=lambda r: (r["at"], r["counterparty"], r["n"]))

    def decision_tally(self, leave_out: frozenset[str], since: int | None, until: int | None
                       ) -> Counter[tuple[str, str]]:
        rows = self._data["decisions"].get(self.workspace, {}).values()
        return Counter((r["counterparty"], r["action"]) for r in rows
                       if r["status"] not in leave_out and (since is None or r["at"] >= since)
                       and (until is None or r["at"] <= until))

    def decision_facts(self, counterparties: Collection[str] | None = None,
                       keep: Callable[[str], bool] | None = None, texts: bool = False
                       ) -> dict[str, tuple[Any, ...]]:
        def text(value: Any) -> str:
            return msgspec.json.encode(value).decode()

        return {i: (r["counterparty"], r["rule"], r["at"], r["n"], r["action"], r["status"], r["amount"],
                    r["currency"], r["event"], text(r["evidence"]) if texts else tuple(r["evidence"]), r["step"],
                    r["version"], text(r.get("params") or {}) if texts else r.get("params") or {})
                for i, r in self._data["decisions"].get(self.workspace, {}).items()
                if (counterparties is None or r["counterparty"] in counterparties)
                and (keep is None or keep(r["counterparty"]))}

    def another_process(self) -> None:
        return None  # the data lives in this process only

    def states(self, kind: str | None = None) -> Iterator[CounterpartyState]:
        for row, blob, _ in self._data["states"].get(self.workspace, {}).values():
            if kind is None or row.kind == kind:
                yield decode_state(blob)

    def put_postings(self, postings: list[Posting]) -> None:
        mine = self._data["postings"].setdefault(self.workspace, {})
        for p in postings:
            mine[p.id] = p

    def drop_postings(self, counterparties: Collection[str] | None = None) -> None:
        mine = self._data["postings"].setdefault(self.workspace, {})
        for pid in [i for i, p in mine.items() if counterparties is None or p.counterparty in counterparties]:
            del mine[pid]

    def postings(self, counterparty: str) -> list[Posting]:
        mine = self._data["postings"].get(self.workspace, {}).values()
        return sorted((p for p in mine if p.counterparty == counterparty), key=lambda p: (p.at, p.n))

    def add_token(self, token: TokenRow) -> None:
        self._data["tokens"][token.id] = dataclasses.replace(token, workspace=self.workspace)

    def tokens(self) -> list[TokenRow]:
        mine = [t for t in self._data["tokens"].values() if t.workspace == self.workspace]
        return sorted(mine, key=lambda t: (-t.created_at, t.id))

    def revoke_token(self, token_id: str, at: int) -> bool:
        found = self._data["tokens"].get(token_id)
        if found is None or found.workspace != self.workspace or found.revoked_at is not None:
            return False
        self._data["tokens"][token_id] = dataclasses.replace(found, revoked_at=at)
        return True

    def find_token(self, token_id: str) -> TokenRow | None:
        found: TokenRow | None = self._data["tokens"].get(token_id)
        return found

    def put_outbox(self, rows: list[OutboxRow]) -> int:
        box = self._data["outbox"]
        added = 0
        for r in rows:
            if (self.workspace, r.id) not in box:
                box[(self.workspace, r.id)] = dataclasses.replace(r, workspace=self.workspace, claim=None)
                added += 1
        return added

    def claim_outbox(self, now: int, limit: int, lease_until: int, claim: str) -> list[OutboxRow]:
        due = sorted((r for r in self._data["outbox"].values()
                      if r.status in ("pending", "sending") and r.next_at <= now), key=lambda r: r.next_at)[:limit]
        for r in due:
            r.status, r.next_at, r.claim = "sending", lease_until, claim
        return [dataclasses.replace(r) for r in due]

    def renew_outbox(self, row: OutboxRow, lease_until: int) -> bool:
        held = self._data["outbox"].get((row.workspace, row.id))
        if row.claim is None or held is None or held.status != "sending" or held.claim != row.claim:
            return False
        held.next_at = lease_until
        return True

    def finish_outbox(self, row: OutboxRow) -> bool:
        held = self._data["outbox"].get((row.workspace, row.id))
        if held is None or held.claim != row.claim:
            return False
        self._data["outbox"][(row.workspace, row.id)] = dataclasses.replace(row, claim=None)
        return True

    def finish_outbox_batch(self, rows: list[OutboxRow]) -> list[bool]:
        return [self.finish_outbox(row) for row in rows]

    def outbox(self, status: str | None = None, limit: int = 1000) -> list[OutboxRow]:
        mine = [dataclasses.replace(r) for (w, _), r in self._data["outbox"].items()
                if w == self.workspace and (status is None or r.status == status)]
        return sorted(mine, key=lambda r: (r.next_at, r.id))[:limit]

    def sent_since(self, counterparty: str, since: int, channel: str | None = None) -> int:
        return sum(1 for (w, _), r in self._data["outbox"].items() if w == self.workspace
                   and r.counterparty == counterparty and r.status == "sent" and (r.sent_at or 0) >= since
                   and (channel is None or r.channel == channel))

    def sent_counts(self, counterparties: list[str], since: int, channel: str | None = None) -> dict[str, int]:
        return {cp: self.sent_since(cp, since, channel) for cp in counterparties}

    def settings(self) -> dict[str, str]:
        return dict(self._data["settings"].get(self.workspace, {}))

    def set_setting(self, name: str, value: str | None) -> None:
        mine = self._data["settings"].setdefault(self.workspace, {})
        if value is None:
            mine.pop(name, None)
        else:
            mine[name] = value

    def expect_attendance(self, connector_id: str, appointment: str, counterparty: str, due: int | None) -> None:
        if due is None:
            self._data["attendance"].pop((self.workspace, appointment), None)
        else:
            self._data["attendance"][(self.workspace, appointment)] = (connector_id, counterparty, due)

    def attendance_due(self, until: int) -> list[tuple[str, str, str, int]]:
        due = [(c, a, k, at) for (w, a), (c, k, at) in self._data["attendance"].items()
               if w == self.workspace and at <= until]
        return sorted(due, key=lambda r: (r[3], r[1]))

    def keep_payload(self, connector_id: str, digest: str, body: str, received_at: int,
                     event_ids: Iterable[str]) -> None:
        if body:
            self._data["payloads"].setdefault((self.workspace, digest), body)
        for event_id in set(event_ids):
            self._data["payload_events"].setdefault((self.workspace, event_id), (connector_id, digest))

    def payload_of(self, event_id: str) -> tuple[str, str] | None:
        found = self._data["payload_events"].get((self.workspace, event_id))
        body = None if found is None else self._data["payloads"].get((self.workspace, found[1]))
        return None if found is None or body is None else (found[0], body)

    def ping(self) -> None:
        """Memory always answers."""

    def decision_counts(self) -> list[tuple[str, str, str, int]]:
        counted = Counter((w, r["action"], r["status"]) for w, rows in self._data["decisions"].items()
                          for r in rows.values())
        return sorted((w, a, s, n) for (w, a, s), n in counted.items())

    def all_workspaces(self) -> list[str]:
        return sorted(self._data["workspaces"])

    def waiting_workspaces(self) -> list[str]:
        return sorted(name for name, waiting in self._data["staged"].items() if waiting)
