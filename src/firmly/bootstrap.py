"""The one place where settings become adapters."""

from __future__ import annotations

import atexit
import os
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine

from firmly import config
from firmly.adapters import catalogues
from firmly.adapters.clock import FixedClock, SystemClock
from firmly.adapters.sql.store import SqlStore, make_engine
from firmly.domain.clock import TimeError, parse_instant
from firmly.domain.durations import DurationError, parse_duration, to_us
from firmly.domain.errors import FirmlyError
from firmly.domain.ports import Clock
from firmly.domain.tone import analyse
from firmly.service import bulk, tone, wallclock, wording


@lru_cache(maxsize=8)
def _engine(url: str) -> Engine:
    engine = make_engine(url)
    # Connections closed at exit: SQLite copies its write-ahead log into the database when the last one closes,
    # so a command leaves no log behind for the next process to read through
    atexit.register(engine.dispose)
    return engine


def engine(database_url: str | None = None) -> Engine:
    """One SQLAlchemy engine (and connection pool) per database, shared by every store."""
    return _engine(config.DATABASE_URL.value(database_url))


def store(database_url: str | None = None, workspace: str | None = None) -> SqlStore:
    url = config.DATABASE_URL.value(database_url)
    return SqlStore(_engine(url), config.WORKSPACE.value(workspace))


def _analyser() -> tone.Analyse:
    from firmly.adapters.lexicons import load_lexicon  # noqa: PLC0415 - pymorphy3 loads only when a text comes

    extra = [Path(p) for p in config.LEXICONS.value().split(os.pathsep) if p]
    lexicon = load_lexicon(extra)
    bulk.keep_loaded()  # 70,000 objects that live as long as the process
    return lambda text, language=None: analyse(text, lexicon, language)


def clock() -> Clock:
    """FIRMLY_NOW fixes the wall clock; unset, it is the system's."""
    fixed = config.NOW.value()
    if not fixed:
        return SystemClock()
    try:
        return FixedClock(parse_instant(fixed))
    except TimeError as exc:
        raise FirmlyError(f"{config.NOW.env} {exc}") from None


def future_horizon() -> int:
    """FIRMLY_FUTURE_HORIZON in microseconds."""
    try:
        return to_us(parse_duration(config.FUTURE_HORIZON.value()))
    except DurationError as exc:
        raise FirmlyError(f"{config.FUTURE_HORIZON.env} {exc}") from None


tone.install(_analyser)
wallclock.install(clock, future_horizon)
wording.install(catalogues.translations)
