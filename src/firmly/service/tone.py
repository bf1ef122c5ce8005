"""The tone of messages and grace requests, found when they arrive and again on replay.

The analyser (lexicons compiled once) is installed by the bootstrap; without one (a bare in-memory
test), texts carry no tone and are judged as neutral.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

from firmly.domain.events import TONE_EVENTS, Event
from firmly.domain.tone import Tone


class Analyse(Protocol):
    def __call__(self, text: str, language: str | None = None) -> Tone: ...


class _Installed:
    factory: Callable[[], Analyse] | None = None
    analyse: Analyse | None = None


_installed = _Installed()


def install(factory: Callable[[], Analyse] | None) -> None:
    """How to build the analyser; it is built on first use (compiling the lexicons takes a moment)."""
    _installed.factory, _installed.analyse = factory, None


def analyser() -> Analyse | None:
    if _installed.analyse is None and _installed.factory is not None:
        _installed.analyse = _installed.factory()
    return _installed.analyse


def attach(events: Iterable[Event]) -> list[Event]:
    """Give each message its tone under the current lexicons; returns the events whose tone changed."""
    changed: list[Event] = []
    analyse: Analyse | None = None
    for ev in events:
        if ev.type not in TONE_EVENTS:
            continue
        text = ev.data.get("text")
        if not isinstance(text, str):
            continue
        if analyse is None:
            analyse = analyser()
            if analyse is None:
                return changed
        found = analyse(text)
        if found != ev.tone:
            ev.tone = found
            changed.append(ev)
    return changed


def text_tone(text: str, language: str | None = None) -> Tone:
    """The tone of one text; `language` ("ru" | "en"), when known, replaces the analyser's guess."""
    analyse = analyser()
    if analyse is None:
        raise RuntimeError("no tone analyser is installed")
    return analyse(text, language)
