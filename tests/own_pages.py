"""A workspace whose messages carry links to the clients' own pages, for the tests of those pages: the agency's
rulebook, a Russian client and an English one who each phone a manager three times (feedback, a warning, then a
fee), in the last few days, each event arriving as it happens."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from firmly import bootstrap
from firmly.domain.clock import iso
from firmly.domain.events import validate
from firmly.domain.ports import Storage
from firmly.service import ingest, outbox, rulebooks, wallclock, workspace

AGENCY = Path(__file__).resolve().parents[1] / "src" / "firmly" / "examples" / "agency-ru" / "rulebook.yaml"
DAY = 86_400_000_000
CLIENTS = {"petrov": ("Иван Петров", None), "smith": ("John Smith", "en")}


def calls(key: str, name: str, locale: str | None, now: int) -> list[dict[str, Any]]:
    data: dict[str, Any] = {"kind": "client", "name": name, "email": f"{key}@example.org"}
    if locale:
        data["locale"] = locale
    events = [{"id": f"{key}-cp", "type": "counterparty.upserted", "counterparty": key,
               "occurred_at": iso(now - 5 * DAY), "data": data}]
    for n in range(3):
        events.append({"id": f"{key}-call-{n}", "type": "request.received", "counterparty": key,
                       "occurred_at": iso(now - (3 - n) * DAY),
                       "data": {"request": f"{key}-q{n}", "channel": "phone:personal", "topic": "question",
                                "effort_minutes": 15}})
    return events


def agency(url: str, name: str, now: int | None = None) -> Storage:
    """The workspace `name` at `url`, its decisions made and their messages written, as of the wall clock."""
    now = wallclock.now() if now is None else now
    store = bootstrap.store(url, name)
    workspace.init(store, None, "Europe/Moscow", 0)
    rulebooks.load(store, rulebooks.read(AGENCY), 0)
    events = [e for key, (who, lang) in CLIENTS.items() for e in calls(key, who, lang, now)]
    for raw in sorted(events, key=lambda e: str(e["occurred_at"])):
        at = validate(raw).at
        report = ingest.ingest(store, [("live", 0, validate(raw))], now=at)
        assert not report.rejected, report.rejected
    return store


def letters(store: Storage, key: str) -> dict[str, str]:
    """The counterparty's emails in the outbox by the action they tell of: action -> body."""
    with store.read():
        actions = {d["id"]: d["action"] for d in store.decisions(counterparty=key)}
    return {actions[r.decision]: r.body for r in outbox.listed(store, None)
            if r.counterparty == key and r.channel == "email"}


def path_of(link: str) -> str:
    """The link's path (the page is asked at the test's own server)."""
    return "/my/" + link.split("/my/", 1)[1]
