"""Bulk folds (`firmly replay`, `firmly simulate`) split by counterparty over processes.

Each part reads the whole log but decodes and folds only the events about its own counterparties
(domain/engine/parts.py), so on two cores the fold takes about half the time. Part 0 runs in this process, inside
the caller's transaction; every other part in a child forked from it, which opens the database on connections
of its own, reads in a transaction of its own and sends its result back through a pipe. The caller writes
nothing before every part is done reading: the children read what the caller's transaction sees.

A store whose data lives in this process only (memory) runs the parts one after the other here instead.
"""

from __future__ import annotations

import multiprocessing
import pickle
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from firmly.domain.errors import FirmlyError
from firmly.domain.ports import Store

T = TypeVar("T")
Work = Callable[[Store, int, int], T]  # (store, part, parts) -> that part's result


def processes(asked: int | None = None) -> int:
    """How many parts a bulk fold is split into: as asked, else one. Two parts, each reading and sorting the
    whole log, measured no faster than one on a busy two-core machine (BENCHMARKS.md); on a machine with cores
    to spare, `--processes 2` is worth a try."""
    return 1 if asked is None else max(1, asked)


def in_parts(store: Store, parts: int, work: Work[T]) -> list[T]:
    """work(store, part, parts) for every part, in part order."""
    if parts <= 1:
        return [work(store, 0, 1)]
    if store.another_process() is None or "fork" not in multiprocessing.get_all_start_methods():
        return [work(store, part, parts) for part in range(parts)]
    context = multiprocessing.get_context("fork")
    children: list[tuple[Any, Connection]] = []
    try:
        for part in range(1, parts):
            receive, send = context.Pipe(duplex=False)
            child = context.Process(target=_child, args=(store, work, part, parts, send), daemon=True,
                                    name=f"firmly-part-{part}")
            child.start()
            send.close()
            children.append((child, receive))
        results = [work(store, 0, parts)]
        for child, receive in children:
            try:
                ok, value = receive.recv()
            except EOFError:
                child.join()
                raise FirmlyError(f"a part of the fold ended without its result (exit code {child.exitcode})") \
                    from None
            if not ok:
                raise value
            results.append(value)
        return results
    finally:
        for child, receive in children:
            receive.close()
            if child.is_alive():
                child.kill()
            child.join()


def _child(store: Store, work: Work[Any], part: int, parts: int, send: Connection) -> None:
    try:
        own = store.another_process()
        assert own is not None
        with own.read():
            result = work(own, part, parts)
        send.send((True, result))
    except BaseException as exc:  # sent to the parent, which raises it as its own
        try:
            pickle.dumps(exc)
        except Exception:
            exc = FirmlyError(f"{type(exc).__name__}: {exc}")
        send.send((False, exc))
    finally:
        send.close()
