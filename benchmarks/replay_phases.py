"""Where `firmly replay` and `firmly simulate` spend their time, phase by phase, in one process.

    .venv/bin/python benchmarks/replay_phases.py sqlite:///benchmarks/data/run/200k.db [--simulate FILE]

Runs the command's service function as the command line does (collector paused), with the store's reads
and writes and the engine's fold wrapped in timers: wall seconds of each phase and their sum against the
whole. Reading the log is interleaved with the fold (the fold pulls events from a generator), so the time
spent producing each event is charged to "read+decode log" and subtracted from the fold.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

spent: dict[str, float] = defaultdict(float)
clock = time.perf_counter  # --cpu: time.process_time, this process's CPU seconds (steadier on a busy machine)
stack: list[str] = []


def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = clock()
        stack.append(name)
        try:
            return fn(*args, **kwargs)
        finally:
            stack.pop()
            took = clock() - start
            spent[name] += took
            if stack:  # charged to the inner phase only
                spent[stack[-1]] -= took
    return wrapper


def timed_iter(name: str, fn: Callable[..., Iterator[Any]]) -> Callable[..., Iterator[Any]]:
    def wrapper(*args: Any, **kwargs: Any) -> Iterator[Any]:
        it = iter(fn(*args, **kwargs))
        while True:
            start = clock()
            stack.append(name)
            try:
                item = next(it)
            except StopIteration:
                return
            finally:
                stack.pop()
                took = clock() - start
                spent[name] += took
                if stack:
                    spent[stack[-1]] -= took
            yield item
    return wrapper


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--workspace", default="bench")
    parser.add_argument("--simulate", type=Path, help="time `simulate` under this rulebook instead of replay")
    parser.add_argument("--parts", type=int, default=1, help="split the fold over this many processes (the "
                        "phases are this process's, part 0; waiting for the others is a phase of its own)")
    parser.add_argument("--cpu", action="store_true", help="CPU seconds of this process instead of wall seconds")
    args = parser.parse_args()
    if args.cpu:
        global clock  # noqa: PLW0603 - the wrappers read it
        clock = time.process_time
    os.environ.setdefault("FIRMLY_NOW", "2027-03-01T00:00:00+03:00")
    t0 = clock()
    from firmly import bootstrap  # noqa: PLC0415 - timed: the imports are part of a command
    from firmly.adapters.sql import store as sql_store  # noqa: PLC0415
    from firmly.domain.engine import fold, parts  # noqa: PLC0415
    from firmly.service import policy, replay, simulate  # noqa: PLC0415
    from firmly.service.bulk import quiet_gc  # noqa: PLC0415
    t_import = clock() - t0

    S = sql_store.SqlStore
    S.all_events = timed_iter("read+decode log", S.all_events)  # type: ignore[method-assign]
    S.decision_facts = timed("read stored decisions", S.decision_facts)  # type: ignore[method-assign]
    S.decision_tally = timed("read stored decisions", S.decision_tally)  # type: ignore[method-assign]
    S.save_states = timed("write states", S.save_states)  # type: ignore[method-assign]
    S.put_decisions = timed("write decisions", S.put_decisions)  # type: ignore[method-assign]
    S.put_postings = timed("write postings", S.put_postings)  # type: ignore[method-assign]
    S.drop_postings = timed("write postings", S.drop_postings)  # type: ignore[method-assign]
    S.events_of_type = timed("read retractions", S.events_of_type)  # type: ignore[method-assign]
    S.decisions = timed("read stored decisions", S.decisions)  # type: ignore[method-assign]
    S.set_tones = timed("write tones", S.set_tones)  # type: ignore[method-assign]
    fold.Engine.run = timed("fold", fold.Engine.run)  # type: ignore[method-assign]
    parts.PartFold.run = timed("fold", parts.PartFold.run)  # type: ignore[method-assign]
    Connection.recv = timed("wait for the other parts", Connection.recv)  # type: ignore[method-assign]
    replay.decision_row = timed("explanations", policy.decision_row)  # type: ignore[attr-defined]
    simulate.decision_row = timed("explanations", policy.decision_row)  # type: ignore[attr-defined]
    simulate._compare = timed("compare", simulate._compare)
    simulate._changed_decisions = timed("compare", simulate._changed_decisions)

    store = bootstrap.store(args.url, args.workspace)
    if args.simulate:
        from firmly.service import rulebooks  # noqa: PLC0415
        book = rulebooks.read(args.simulate)
    start = clock()
    with quiet_gc():
        if args.simulate:
            what = "simulate"
            simulate.simulate(store, book, parts=args.parts)
        else:
            what = "replay"
            with store.write():
                replay.replay_in_transaction(store, args.parts)
                done = clock()
            spent["commit"] += clock() - done
    whole = clock() - start
    spent["other (compare, merge)"] += whole - sum(v for k, v in spent.items() if k != "other (compare, merge)")
    gc.collect()
    print(f"{what}: {whole:.2f} {'CPU ' if args.cpu else ''}s in the service function; imports {t_import:.2f} s")
    for name, seconds in sorted(spent.items(), key=lambda kv: -kv[1]):
        print(f"  {name:28} {seconds:7.2f} s  {seconds / whole:6.1%}")


if __name__ == "__main__":
    main()
