"""Wall clocks: the system's, and a fixed one (FIRMLY_NOW) for demos, tests and a past period loaded as live."""

from __future__ import annotations

import time
from dataclasses import dataclass


class SystemClock:
    def now(self) -> int:
        return time.time_ns() // 1000


@dataclass(frozen=True, slots=True)
class FixedClock:
    at: int

    def now(self) -> int:
        return self.at
