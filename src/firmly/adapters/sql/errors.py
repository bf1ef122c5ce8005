"""SQLAlchemy's and the drivers' errors as the domain's: the doors and the service know no SQLAlchemy."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError

from firmly.domain.errors import Collided, FirmlyError, StorageError, StorageFailed, StorageFull, ValueRefused

NOT_INITIALISED = "the database is not initialised: run `firmly init` first"


def cause(exc: BaseException) -> str:
    """The driver's own words, first line only (SQLAlchemy appends the statement and a link)."""
    said = str(getattr(exc, "orig", None) or exc).strip()
    return said.splitlines()[0] if said else type(exc).__name__


def translated(exc: SQLAlchemyError) -> FirmlyError:
    said = cause(exc)
    if isinstance(exc, DataError):
        return ValueRefused(said)
    if isinstance(exc, IntegrityError) and ("unique" in said.lower() or "duplicate key" in said):
        return Collided(said)
    if "database or disk is full" in said or "No space left" in said:
        return StorageFull(said)
    if "no such table" in said or ("relation" in said and "does not exist" in said):
        return StorageError(NOT_INITIALISED)
    return StorageFailed(said)


@contextmanager
def domain_errors() -> Iterator[None]:
    """Around every transaction: a database error leaves as a domain error, its notes (which lines of an input
    it met) kept."""
    try:
        yield
    except SQLAlchemyError as exc:
        error = translated(exc)
        for note in getattr(exc, "__notes__", ()):
            error.add_note(note)
        raise error from exc
