"""A decision's webhook carries `page_url`, the signed link to the client's own page that its email ends with,
so an integrator can send it through a channel of its own; the link opens the page, and a revocation ends it
as it ends the email's. In process, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from firmly import bootstrap
from firmly.domain.events import validate
from firmly.domain.ports import Storage
from firmly.doors.api import create_app
from firmly.service import ingest, outbox, own_page, rulebooks, wallclock, workspace
from tests.conftest import forget_workspace
from tests.own_pages import AGENCY, calls, path_of

WS = "own-hook"


@pytest.fixture
def store(database_url: str) -> Iterator[tuple[str, Storage]]:
    forget_workspace(database_url, WS)
    found = bootstrap.store(database_url, WS)
    workspace.init(found, None, "Europe/Moscow", 0)
    outbox.set_setting(found, "webhook_url", "https://crm.example.org/hooks/firmly")
    outbox.set_setting(found, "page_url", "https://clinic.example.org/")
    rulebooks.load(found, rulebooks.read(AGENCY), 0)
    now = wallclock.now()
    events = calls("petrov", "Иван Петров", None, now)
    quiet = calls("quiet", "Без Почты", None, now)  # no email address: the webhook alone tells of it
    del quiet[0]["data"]["email"]
    for raw in sorted([*events, *quiet], key=lambda e: str(e["occurred_at"])):
        at = validate(raw).at
        report = ingest.ingest(found, [("live", 0, validate(raw))], now=at)
        assert not report.rejected, report.rejected
    yield database_url, found
    users = bootstrap.store(database_url, "")
    with users.write():  # the page's counts per address outlive a workspace on a shared PostgreSQL database
        users.drop_login_attempts()


def hooks(store: Storage, key: str) -> dict[str, dict[str, Any]]:
    """The counterparty's webhooks by the action they tell of: action -> payload."""
    found = {}
    for row in outbox.listed(store, None):
        if row.counterparty == key and row.channel == "webhook":
            payload = json.loads(row.body)
            found[payload["data"]["action"]] = payload
    return found


def test_a_decisions_webhook_carries_the_link_its_email_ends_with(store: tuple[str, Storage]) -> None:
    url, found = store
    sent = hooks(found, "petrov")
    assert set(sent) == {"feedback", "warning", "fee"}
    emails = {r.decision: r.body for r in outbox.listed(found, None) if r.channel == "email"}
    for action, payload in sent.items():
        assert payload["type"] == f"decision.{action}"
        link = payload["data"]["page_url"]
        assert link.startswith(f"https://clinic.example.org/my/{WS}/"), link
        assert emails[payload["data"]["id"]].rstrip("\n").splitlines()[-1] == link  # the same link as the email's
        assert payload["data"]["counterparty_name"] == "Иван Петров"
    quiet = hooks(found, "quiet")
    assert set(quiet) == {"feedback", "warning", "fee"}
    assert all(own_page.holder(found, p["data"]["page_url"].split("/")[-1], wallclock.now()) == "quiet"
               for p in quiet.values())
    link = sent["fee"]["data"]["page_url"]
    with TestClient(create_app(url), base_url="http://testserver") as c:
        page = c.get(path_of(link))
        assert page.status_code == 200, page.text[:300]
        assert "Иван Петров" in page.text and "Без Почты" not in page.text
        own_page.revoke(found, "petrov")
        refused = c.get(path_of(link))
        assert refused.status_code == 403 and "Иван Петров" not in refused.text
