"""Web UI logins are throttled per account and per address, with a growing wait, in the database: the limit
holds across server processes (`firmly serve --workers 2`) and the message is in the visitor's language."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from firmly import bootstrap
from firmly.adapters.memory import MemoryStore
from firmly.doors.api import create_app
from firmly.doors.web.routes import auth
from firmly.doors.web.testing import wait_until_healthy
from firmly.service import demo, throttle, users

PASSWORD = "correct horse battery"
SECOND = 1_000_000


class Clock:
    """The login route's clock, moved by the test: waits of seconds and minutes without sleeping."""

    def __init__(self) -> None:
        self.now = time.time_ns() // 1000

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    moved = Clock()
    monkeypatch.setattr(auth, "now_us", moved)
    return moved


@pytest.fixture
def person(database_url: str) -> tuple[str, str]:
    """A login of its own (attempts are kept per email across the tests of a PostgreSQL database)."""
    email = f"throttle-{uuid.uuid4().hex[:8]}@example.org"
    store = bootstrap.store(database_url, "throttle")
    demo.demo(store, "clinic-en", 0)
    users.create(store, email, "operator", PASSWORD, 0)
    return database_url, email


def csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None, "no CSRF field on the page"
    return found.group(1)


def try_login(c: TestClient | httpx.Client, email: str, password: str) -> httpx.Response:
    token = csrf(c.get("/login").text)
    return c.post("/login", data={"csrf": token, "email": email, "password": password, "next": "/"},
                  follow_redirects=False)


def client(url: str, address: str | None = None, lang: str = "en") -> TestClient:
    return TestClient(create_app(url), base_url="http://testserver", headers={"Accept-Language": lang},
                      client=(address or f"10.{uuid.uuid4().int % 250}.0.{uuid.uuid4().int % 250}", 40000))


def test_a_guesser_waits_longer_and_longer_and_even_the_right_password_waits(person: tuple[str, str],
                                                                            clock: Clock) -> None:
    url, email = person
    with client(url) as c:
        for _ in range(throttle.FREE["account"]):
            assert try_login(c, email, "wrong guess").status_code == 401
        refused = try_login(c, email, PASSWORD)  # the defect: the right one after 40 wrong ones logged in
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "1"
        assert "Too many attempts; try again in 1 second." in refused.text
        assert "firmly_session" not in refused.cookies
        waits = []
        for _ in range(4):  # each counted failure doubles the wait
            clock.now += int(refused.headers["retry-after"]) * SECOND
            assert try_login(c, email, "wrong guess").status_code == 401
            refused = try_login(c, email, "wrong guess")
            assert refused.status_code == 429
            waits.append(int(refused.headers["retry-after"]))
        assert waits == [2, 4, 8, 16]
        assert "Too many attempts; try again in 16 seconds." in refused.text
        clock.now += 16 * SECOND
        assert try_login(c, email, PASSWORD).status_code == 303  # the wait is over: the right password works
    with client(url) as c:
        for _ in range(throttle.FREE["account"] - 1):  # and the account starts afresh after a success
            assert try_login(c, email, "wrong guess").status_code == 401
        assert try_login(c, email, PASSWORD).status_code == 303


def test_the_wait_is_told_in_the_visitors_language(person: tuple[str, str], clock: Clock) -> None:
    url, email = person
    with client(url, lang="ru") as c:
        for _ in range(throttle.FREE["account"] + 1):
            try_login(c, email, "не тот пароль")
        clock.now += 1 * SECOND
        try_login(c, email, "не тот пароль")
        refused = try_login(c, email, "не тот пароль")
    assert refused.status_code == 429
    assert "Слишком много попыток; попробуйте снова через 2 секунды." in refused.text


def test_one_address_trying_many_accounts_is_held_back(person: tuple[str, str], clock: Clock) -> None:
    url, email = person
    address = f"192.0.2.{uuid.uuid4().int % 250}"
    with client(url, address) as c:
        for n in range(throttle.FREE["address"]):
            assert try_login(c, f"nobody-{n}-{uuid.uuid4().hex[:6]}@example.org", "guess").status_code == 401
        assert try_login(c, email, PASSWORD).status_code == 429  # a real account from that address waits too
    with client(url) as elsewhere:  # the same account from another address is not held back
        assert try_login(elsewhere, email, PASSWORD).status_code == 303


def test_attempts_are_shared_by_every_server_process(person: tuple[str, str], clock: Clock) -> None:
    """Two applications over one database, as two `firmly serve` processes: what one counted, the other sees."""
    url, email = person
    address = f"198.51.100.{uuid.uuid4().int % 250}"
    first, second = client(url, address), client(url, address)
    with first, second:
        for n in range(throttle.FREE["account"]):
            assert try_login(first if n % 2 else second, email, "wrong guess").status_code == 401
        assert try_login(first, email, PASSWORD).status_code == 429
        assert try_login(second, email, PASSWORD).status_code == 429


def test_the_growing_wait() -> None:
    free = throttle.FREE["account"]
    assert [throttle.wait_after(n, free) for n in range(free + 5)] == [0] * free + [1, 2, 4, 8, 16]
    assert throttle.wait_after(free + 1_000, free) == throttle.MAX_WAIT


def test_an_ipv6_visitor_counts_as_its_64_network() -> None:
    store = MemoryStore("")
    now = 10**15
    for n in range(throttle.FREE["address"]):  # each try from another address of the same /64, another account
        assert throttle.take_turn(store, f"x{n}@example.org", f"2001:db8:1:2::{n + 1:x}", now).wait == 0
    assert throttle.take_turn(store, "y@example.org", "2001:db8:1:2:ffff::1", now).wait == 1
    assert throttle.take_turn(store, "y@example.org", "2001:db8:1:3::1", now).wait == 0  # the next /64 is another
    assert throttle.take_turn(store, "z@example.org", "::ffff:192.0.2.7", now).keys[1] == "address:192.0.2.7"


def test_old_attempts_are_forgotten() -> None:
    store = MemoryStore("")
    now = 10**15
    for _ in range(throttle.FREE["account"]):
        assert throttle.take_turn(store, "a@example.org", "203.0.113.1", now).wait == 0
    assert throttle.take_turn(store, "a@example.org", "203.0.113.1", now).wait == 1
    later = now + throttle.FORGET + SECOND
    assert throttle.take_turn(store, "a@example.org", "203.0.113.1", later).wait == 0
    with store.read():
        assert store.login_attempts(["account:a@example.org"])["account:a@example.org"].failures == 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """`firmly serve --workers 2`, the real command, over a SQLite database (the attempts of the two processes
    meet in the database file just as they would in PostgreSQL, which the in-process test above covers)."""
    url = f"sqlite:///{tmp_path / 'workers.db'}"
    store = bootstrap.store(url, "throttle")
    demo.demo(store, "clinic-en", 0)
    users.create(store, "two@example.org", "operator", PASSWORD, 0)
    port = _free_port()
    env = {**os.environ, "FIRMLY_DATABASE_URL": url}
    server = subprocess.Popen([sys.executable, "-m", "firmly", "serve", "--workers", "2", "--port", str(port)],
                              cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base, lambda: server.poll() is None, seconds=60, pause=0.1)
        yield base, "two@example.org"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def test_firmly_serve_with_two_workers_holds_the_limit(two_workers: tuple[str, str]) -> None:
    base, email = two_workers

    def attempt(password: str) -> httpx.Response:
        with httpx.Client(base_url=base, timeout=30) as c:  # a new connection each: either process may answer
            return try_login(c, email, password)

    assert [attempt("wrong guess").status_code for _ in range(throttle.FREE["account"])] == [401] * 5
    for wait in (1, 2):  # each wait sat out, one more failure: the next wait is 4 s, longer than a request
        time.sleep(wait)
        assert attempt("wrong guess").status_code == 401
    refused = attempt(PASSWORD)
    assert refused.status_code == 429, refused.text
    assert "Too many attempts" in refused.text and int(refused.headers["retry-after"]) <= 4
