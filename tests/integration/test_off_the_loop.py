"""Database calls from async code run in worker threads, never on the event loop (one slow database call
there would stall every request in flight): the fast counterparty page, the token check on a cache miss,
and the web's visitor and workspace lookups."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from firmly import bootstrap
from firmly.service import demo, queries, tokens, users, workspace
from tests.conftest import forget_workspace
from tests.integration.test_web import PASSWORD, Site

Calls = dict[str, list[bool]]


def _on_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


@pytest.fixture
def site(database_url: str) -> Site:
    forget_workspace(database_url, "off-loop")
    store = bootstrap.store(database_url, "off-loop")
    demo.demo(store, "clinic-en", 0)
    users.create(store, "off-loop-operator@example.org", "operator", PASSWORD, 0)
    return Site(database_url, "off-loop")


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[Calls]:
    """For each watched database call: whether each call of it ran on the event loop's thread."""
    seen: Calls = {}

    def watch(owner: Any, name: str) -> None:
        real: Callable[..., Any] = getattr(owner, name)

        def watched(*args: Any, **kwargs: Any) -> Any:
            seen.setdefault(name, []).append(_on_loop())
            return real(*args, **kwargs)

        monkeypatch.setattr(owner, name, watched)

    watch(tokens, "verify")
    watch(queries, "counterparty")
    watch(users, "session")
    watch(workspace, "current")  # the web reads its workspace's language and zone with it
    yield seen


def test_the_counterparty_page_and_a_token_not_cached_are_read_in_threads(site: Site, calls: Calls) -> None:
    issued = tokens.create(site.store, "viewer", "crm", 0)
    with site.client() as c:
        for path in ("/v1/counterparties/tom", "/v1/counterparties/tom", "/v1/counterparties/tom/"):
            answer = c.get(path, headers={"Authorization": f"Bearer {issued.token}"})
            assert answer.status_code == 200, answer.text
    assert calls["verify"] == [False]  # looked up once, in a thread; cached after
    assert calls["counterparty"] == [False, False, False]  # the fast page and the routed one alike


def test_the_web_finds_its_visitor_and_workspace_in_a_thread(site: Site, calls: Calls) -> None:
    with site.client() as c:
        site.login(c, "off-loop-operator@example.org")
        calls.clear()
        assert c.get("/counterparties/tom").status_code == 200
        assert c.post("/lang", data={"lang": "ru", "csrf": "wrong"}).status_code == 403  # an async page
    assert calls["session"] and not any(calls["session"]), calls
    assert calls["current"] and not any(calls["current"]), calls
