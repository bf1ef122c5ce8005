"""`firmly decide`: a process that only decides the events acknowledged before deciding them, until stopped."""

from __future__ import annotations

import os
import signal
import socket
import time
from collections.abc import Callable
from types import FrameType

from firmly import bootstrap
from firmly.domain.ports import Store
from firmly.service import settle


def run(database_url: str | None, interval: float, once: bool,
        report: Callable[[int, int], None]) -> tuple[int, int]:
    """Decide what waits in every workspace, then look again every `interval` seconds while nothing waits.
    SIGTERM or Ctrl-C ends it after the chunk in hand. Returns (events decided, workspaces) in all."""
    def store_for(name: str) -> Store:
        return bootstrap.store(database_url, name or None, settled=False)

    stop = False

    def halt(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stop
        stop = True  # finish the chunk in hand, then leave

    before = signal.signal(signal.SIGTERM, halt), signal.signal(signal.SIGINT, halt)
    holder = f"{socket.gethostname()}:{os.getpid()}"  # its lease: the buckets it looks at first (settle.py)
    events = places = 0
    try:
        while not stop:
            done, seen = settle.decide_all(store_for, lambda: stop, holder, lambda: time.time_ns() // 1000)
            events, places = events + done, places + seen
            if done or once:
                report(done, seen)
            if once:
                break
            if not done:
                time.sleep(interval)
    finally:
        settle.leave(store_for, holder)
        signal.signal(signal.SIGTERM, before[0])
        signal.signal(signal.SIGINT, before[1])
    return events, places
