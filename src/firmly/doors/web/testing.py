"""Helpers for driving the web UI in tests, screenshots and benchmarks: a real server on a free loopback port,
the demo workspace in a database file, and Debian's Chromium for Playwright (which downloads nothing here)."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from firmly import bootstrap
from firmly.doors.api import create_app
from firmly.service import demo

DEMO_PASSWORD = "demo-password"  # a throwaway workspace's login, printed by `firmly demo` too
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def demo_database(url: str, workspace: str = "demo") -> tuple[str, str]:
    """The demo workspace (every example, the generated events) at `url`; the admin login (email, password)."""
    store = bootstrap.store(url, workspace)
    demo.showcase(store, time.time_ns() // 1000)
    return demo.login(store, DEMO_PASSWORD, time.time_ns() // 1000)


@contextmanager
def serve(url: str, app: FastAPI | None = None) -> Iterator[str]:
    """firmly's application (API and UI) over `url` (or `app` as given) on 127.0.0.1, in a thread, on a port
    the kernel picks; yields the base URL and stops the server after."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app or create_app(url), log_level="warning", access_log=False,
                                           lifespan="off", log_config=None))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name=f"web-{port}")
    thread.start()
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base, thread.is_alive, seconds=20, pause=0.02)
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


def wait_until_healthy(base: str, alive: Callable[[], bool], seconds: float, pause: float) -> None:
    """Until the server at `base` answers /healthz with 200; RuntimeError once `seconds` pass or it is not
    `alive()` (a thread that ended, a process that exited)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or not alive():
            raise RuntimeError(f"the server did not answer /healthz on {base}")
        time.sleep(pause)


def launch(playwright: Any) -> Any:
    """Headless Chromium from the system (`executable_path`): Playwright's own browsers are not used."""
    if not Path(CHROMIUM).is_file():
        raise FileNotFoundError(f"no Chromium at {CHROMIUM}: apt-get install chromium (scripts/test does)")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
