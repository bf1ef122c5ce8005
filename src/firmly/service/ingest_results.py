"""What an ingest says back: each refused line with where and why (in the reader's language when read),
and the counts of stored, duplicate and refused events."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from firmly.domain.events import Event, EventError
from firmly.domain.said import Said, in_language


@dataclass(slots=True)
class Rejection:
    where: str
    line: int | None
    event: str | None
    field: str
    message: str
    said: Said | None = None  # the message with its template, for the reader's language (see in_language)

    def __str__(self) -> str:
        return self.shown(self.message)

    def in_language(self, gettext: Callable[[str], str]) -> str:
        """FILE line N (event ID): field: the message in the language of `gettext` (place and field stay)."""
        return self.shown(self.reason(gettext))

    def reason(self, gettext: Callable[[str], str]) -> str:
        """The message alone in the language of `gettext`, for a table whose other columns give place and field."""
        return in_language(self.said, gettext) if self.said is not None else self.message

    def shown(self, message: str) -> str:
        place = f"{self.where} line {self.line}" if self.line is not None else self.where
        who = f" (event {self.event})" if self.event else ""
        return f"{place}{who}: {self.field}: {message}"

    @classmethod
    def of(cls, where: str, line: int | None, exc: EventError, event: str | None = None) -> Rejection:
        return cls(where, line, event if event is not None else exc.event_id, exc.field, exc.message, exc.said)

    @classmethod
    def saying(cls, where: str, line: int | None, event: str | None, field: str, said: Said) -> Rejection:
        return cls(where, line, event, field, str.__str__(said), said)

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.where, "line": self.line, "id": self.event, "field": self.field,
                "reason": self.message}


@dataclass(slots=True)
class IngestReport:
    stored: int = 0
    duplicates: int = 0
    decisions: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    results: list[dict[str, Any]] | None = None  # per event, in input order, when asked for (the API)
    caused: Counter[str] | None = None  # decisions written per causing event id, with the results
    through: int = 0  # the arrival number of the last event taken (stored or met before): decided, once the
    # workspace's decided_through reaches it

    def as_dict(self) -> dict[str, Any]:
        return {"stored": self.stored, "duplicates": self.duplicates, "rejected": len(self.rejected),
                "decisions": self.decisions, "rejections": [r.as_dict() for r in self.rejected]}


Parsed = tuple[str, int, Event | Rejection]
