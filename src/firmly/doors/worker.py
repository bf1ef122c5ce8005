"""`firmly worker`: the clock and the outbox on wall-clock time, until stopped."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from types import FrameType

from firmly import bootstrap
from firmly.domain.ports import Store
from firmly.service import wallclock, worker


def run(database_url: str | None, interval: float, once: bool, as_of: int | None,
        report: Callable[[worker.Round], None]) -> None:
    def store_for(name: str) -> Store:
        # Not settled first: the tick decides what waits, bucket by bucket, sharing the workspace with deciders
        # and appends (a settling read would take the workspace whole, and appends would wait for it)
        return bootstrap.store(database_url, name or None, settled=False)

    wire = bootstrap.channels()
    each = bootstrap.mark_each()
    lease = int(2 * bootstrap.send_timeout() * worker.SECOND)  # one send, and as long again to mark it, clock skew
    stop = False

    def halt(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stop
        stop = True  # finish the message in hand, then leave

    signal.signal(signal.SIGTERM, halt)
    signal.signal(signal.SIGINT, halt)
    while not stop:
        now = as_of if as_of is not None else wallclock.now()
        woken = worker.tick_all(store_for, now)
        wall = None if as_of is not None else (lambda: time.time_ns() // 1000)  # leases on the wall clock
        done = worker.drain(store_for, now, wire, lease=lease, clock=wall, stopping=lambda: stop,
                            mark_each=each)
        done.woken = woken
        report(done)
        if once:
            return
        time.sleep(interval)
