"""Domain errors. The doors translate them into exit codes and HTTP statuses."""

from __future__ import annotations

from dataclasses import dataclass


def N_(message: str) -> str:
    """gettext's mark: the doors' catalogues extract the message (babel.cfg) and translate it when shown."""
    return message


NEAR_MISS = N_("; did you mean `{near}`?")  # what a problem adds when a name is a near miss of a known one
IN_QUOTES = N_("; write money in quotes")  # what a rulebook's problem adds to a money value's
HINTS = (NEAR_MISS, IN_QUOTES)  # endings a door translates apart from the message they end


class ValueProblem(ValueError):
    """A value that is not what it should be; its message is a template with parameters, as a Problem's."""

    def __init__(self, template: str, **params: object) -> None:
        self.template = template
        self.params = {k: str(v) for k, v in params.items()}
        super().__init__(template.format(**self.params) if params else template)


class FirmlyError(Exception):
    """Base of every error that is the user's input, not a bug."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input, and where it is."""

    where: str  # a file name, "line 3" or an event id
    line: int | None
    field: str
    message: str  # in English: `template` with `params`
    template: str = ""  # the message before its parameters: the key a door translates it by
    params: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, where: str, line: int | None, field: str, template: str, /, **params: object) -> Problem:
        """A problem whose message is a template with parameters, so a door can say it in the reader's language."""
        texts = tuple((k, str(v)) for k, v in params.items())
        message = template.format(**dict(texts)) if texts else template
        return cls(where, line, field, message, template, texts)

    def said(self, message: str) -> str:
        """`FILE:LINE: field: message`, with this message (the problem's own, or its translation)."""
        place = f"{self.where}:{self.line}" if self.line is not None else self.where
        return f"{place}: {self.field}: {message}"

    def __str__(self) -> str:
        return self.said(self.message)


class InvalidInput(FirmlyError):
    """Input that was refused, with every problem found in it."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


class NotFound(FirmlyError):
    """A key that names nothing stored."""


class Conflict(FirmlyError):
    """An act that contradicts what is already stored."""


class Busy(FirmlyError):
    """Work that waits its turn: the same kind of work is already running; ask again in `retry_after` s."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Backlog(Busy):
    """More events wait to be decided than the workspace may hold: nothing of the request was stored; send it
    again in `retry_after` s (the server answers 503)."""


class StorageError(FirmlyError):
    """The database failed: it cannot be reached, is busy or not initialised. Not the input's fault; nothing of
    the transaction that met it is stored. Adapters raise it (or a kind below) for their own errors."""


class Collided(StorageError):
    """Two transactions stored the same key at once (two appends of one new event, sharing a workspace): the
    database kept the first; the other's work, done again, finds it stored."""


class StorageFull(StorageError):
    """The database's disk is full: what was stored before is kept, and the same work may be sent again."""


class StorageFailed(StorageError):
    """Any other failure of the database, its cause kept for the log; the caller is told only that it failed."""


class ValueRefused(FirmlyError):
    """A value the database refuses to store (too long, out of range): the input's fault, not the database's."""


class Undelivered(FirmlyError):
    """A message a channel (SMTP, a webhook) did not accept; `permanent` when sending it again cannot help
    (a refused recipient, a receiver that answers 4xx)."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
