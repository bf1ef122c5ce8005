"""The wall clock the use cases judge arriving events and outgoing messages by, and how far ahead of it an
event may be dated. The bootstrap installs both from the settings (read at each use, so a changed setting
applies at once); without it, the system clock and a one-day horizon."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from firmly.domain.ports import Clock

DAY_US = 86_400_000_000


class _System:
    def now(self) -> int:
        return time.time_ns() // 1000


def _one_day() -> int:
    return DAY_US


@dataclass(slots=True)
class _Installed:
    clock: Callable[[], Clock] = _System
    horizon: Callable[[], int] = _one_day


_installed = _Installed()


def install(clock: Callable[[], Clock], horizon: Callable[[], int]) -> None:
    _installed.clock, _installed.horizon = clock, horizon


def now() -> int:
    """Microseconds since the epoch, UTC."""
    return _installed.clock().now()


def horizon() -> int:
    """Microseconds an event may be dated ahead of `now()` (a sender's clock running a little fast)."""
    return _installed.horizon()
