"""The pure engine over generated events, in memory, on one core (run it under `taskset -c 0`).

    taskset -c 0 .venv/bin/python benchmarks/bench_engine.py benchmarks/data/clinic-1m.jsonl \
        [--rulebook benchmarks/clinic.yaml] [--runs 3] [--profile] [--json-out FILE]

Measures, in this order:

1. decoding + validation: `firmly.domain.events.decode_json` on every line (msgspec decode,
   field checks, the RFC 3339 parse, the blake2b digest) — lines/s, median of --runs; also the
   bare msgspec decode alone, to show how the time splits;
2. the fold: `Engine(Policy([parse_rulebook(text)])).run(events, until=last event)` —
   events/s and decisions, median of --runs (fewer if one run takes over --max-seconds);
3. memory per counterparty state after the fold: a deep sizeof over the states dict
   (every object counted once), the pickle size the store writes per state, and with
   --tracemalloc what the fold allocated and the states keep;
4. with --profile: cProfile top-15 by cumulative and by own time, for the fold and for decoding;
5. with --when-guard: the fold with and without the per-event guard of `when:` expressions that
   iterate the event's data (README "Limits of a rulebook"), alternating in one process, --runs each
   (use a rulebook with such a `when:`, e.g. benchmarks/clinic-when.yaml).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import pickle
import statistics
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from firmly.domain.engine import CounterpartyState, Decision, Engine, Policy
from firmly.domain.engine import policy as policy_module
from firmly.domain.events import Event, decode_json
from firmly.domain.rulebook import parse_rulebook
from profiles import summarise

HERE = Path(__file__).resolve().parent
GOAL_EVENTS_PER_S = 250_000
GOAL_BYTES_PER_STATE = 1024


def read_lines(path: Path) -> list[bytes]:
    return [line for line in path.read_bytes().splitlines() if line.strip()]


def decode_all(lines: list[bytes]) -> list[Event]:
    events = []
    for seq, line in enumerate(lines, 1):
        ev = decode_json(line)
        ev.seq = seq
        events.append(ev)
    return events


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def repeat(fn: Callable[[], Any], runs: int, max_seconds: float, label: str) -> tuple[list[float], Any]:
    """Times of up to `runs` calls (fewer once a call takes longer than max_seconds), and the last result."""
    times: list[float] = []
    result: Any = None
    for i in range(runs):
        seconds, result = timed(fn)
        times.append(seconds)
        print(f"  {label} run {i + 1}: {seconds:.3f}s", file=sys.stderr)
        if seconds > max_seconds:
            break
    return times, result


def compare_when_guard(fold: Callable[[], Any], runs: int) -> dict[str, Any]:
    """The fold with the guard and with it switched off (no limit compiled), alternating so that the load of a
    shared machine falls on both alike; the minimum of each is the least disturbed run."""
    guarded = policy_module._limit
    times: dict[str, list[float]] = {"on": [], "off": []}
    try:
        for i in range(runs):
            for mode in ("on", "off"):
                policy_module._limit = guarded if mode == "on" else (lambda when: None)
                seconds, _ = timed(fold)
                times[mode].append(seconds)
                print(f"  when guard {mode} run {i + 1}: {seconds:.3f}s", file=sys.stderr)
    finally:
        policy_module._limit = guarded
    best = {mode: min(t) for mode, t in times.items()}
    return {"runs": times, "min_on_s": best["on"], "min_off_s": best["off"],
            "overhead": best["on"] / best["off"] - 1}


# -- memory -------------------------------------------------------------------------------------------
_ATOMS = (int, float, str, bytes, bool, type(None))


def deep_size(root: object, seen: set[int] | None = None) -> tuple[int, Counter[str]]:
    """sys.getsizeof over everything reachable from root, each object once; bytes by type name.

    Walks dicts, lists, tuples, sets and __slots__ objects (the engine's state classes). Objects
    shared by many states (interned strings such as "client", small ints, None) are counted once,
    so the total divided by the number of states is the amortised cost of one state.
    """
    seen = set() if seen is None else seen
    by_type: Counter[str] = Counter()
    stack: list[object] = [root]
    total = 0
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        size = sys.getsizeof(obj)
        total += size
        by_type[type(obj).__name__] += size
        if isinstance(obj, _ATOMS):
            continue
        if isinstance(obj, dict):
            stack.extend(obj.keys())
            stack.extend(obj.values())
        elif isinstance(obj, list | tuple | set | frozenset):
            stack.extend(obj)
        else:
            for klass in type(obj).__mro__:
                for name in getattr(klass, "__slots__", ()):
                    if hasattr(obj, name):
                        stack.append(getattr(obj, name))
            if hasattr(obj, "__dict__"):
                stack.append(obj.__dict__)
    return total, by_type


def memory_report(states: dict[str, CounterpartyState]) -> dict[str, Any]:
    n = len(states)
    total, by_type = deep_size(states)
    container = sys.getsizeof(states)
    # Which fields the bytes sit in: each state's own object, then field by field (shared objects
    # are charged to the first field that reaches them).
    seen: set[int] = set()
    by_field: Counter[str] = Counter()
    for st in states.values():
        seen.add(id(st))
        by_field["CounterpartyState object"] += sys.getsizeof(st)
    fields: tuple[str, ...] = tuple(getattr(CounterpartyState, "__struct_fields__", ())
                                    or getattr(CounterpartyState, "__slots__", ()))
    for name in fields:
        for st in states.values():
            by_field[name] += deep_size(getattr(st, name), seen)[0]
    pickled = sorted(len(pickle.dumps(st, protocol=pickle.HIGHEST_PROTOCOL)) for st in states.values())
    timers = sum(len(st.timers or ()) for st in states.values())
    pending = sum(len(st.pending or ()) for st in states.values())
    refs = sum(len(st.refs or ()) for st in states.values())
    strikes = sum(sum(len(v) for v in (st.strikes or {}).values()) for st in states.values())
    return {
        "states": n,
        "deep_bytes_total": total,
        "deep_bytes_per_state": (total - container) / n if n else 0,
        "deep_bytes_by_type": dict(by_type.most_common(12)),
        "deep_bytes_per_state_by_field": {k: v / n for k, v in by_field.most_common() if v} if n else {},
        "pickle_bytes_mean": statistics.fmean(pickled) if pickled else 0,
        "pickle_bytes_p50": pickled[len(pickled) // 2] if pickled else 0,
        "pickle_bytes_p99": pickled[int(len(pickled) * 0.99)] if pickled else 0,
        "pickle_bytes_max": pickled[-1] if pickled else 0,
        "per_state_timers": timers / n if n else 0,
        "per_state_pending_reminders": pending / n if n else 0,
        "per_state_refs": refs / n if n else 0,
        "per_state_active_strikes": strikes / n if n else 0,
    }


def traced_state_bytes(make: Callable[[], Engine], events: list[Event], until: int) -> dict[str, Any]:
    """What one fold leaves allocated once its decision list is dropped: the states (and what they hold)."""
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    states, out = make().run(events, until=until)
    peak = tracemalloc.get_traced_memory()[1] - base
    del out
    gc.collect()
    kept = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    n = len(states)
    return {"traced_kept_bytes": kept, "traced_kept_per_state": kept / n if n else 0,
            "traced_peak_bytes": peak}


# -- profiles -----------------------------------------------------------------------------------------
def profile(fn: Callable[[], Any], label: str, top: int = 15) -> dict[str, Any]:
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.runcall(fn)
    wall = time.perf_counter() - start
    total, rows = summarise(profiler, label, top, wall)
    rows.sort(key=lambda r: r["tottime"], reverse=True)
    return {"label": label, "total_s": total, "top_tottime": rows[:top]}


def bench_decoding(path: Path, runs: int, max_seconds: float, results: dict[str, Any]) -> list[Event]:
    """Times decode+validate (and bare msgspec decode) over the file; returns the events with seq set."""
    lines = read_lines(path)
    n = len(lines)
    results["events"] = n
    print(f"{path}: {n:,} lines", file=sys.stderr)
    raw_decoder = msgspec.json.Decoder()
    times, _ = repeat(lambda: [raw_decoder.decode(line) for line in lines], runs, max_seconds,
                      "msgspec decode only")
    results["msgspec_decode_lines_per_s"] = n / statistics.median(times)
    times, events = repeat(lambda: decode_all(lines), runs, max_seconds, "decode+validate")
    results["decode_validate_s"] = statistics.median(times)
    results["decode_validate_lines_per_s"] = n / statistics.median(times)
    results["decode_validate_runs"] = times
    return list(events)


# -- main ---------------------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description="firmly pure-engine benchmark")
    parser.add_argument("events", type=Path, help="a .jsonl of events (see generate.py)")
    parser.add_argument("--rulebook", type=Path, default=HERE / "clinic.yaml")
    parser.add_argument("--runs", type=int, default=3, help="timed runs; the median is reported (default 3)")
    parser.add_argument("--max-seconds", type=float, default=120.0,
                        help="stop repeating once one run takes longer than this (default 120)")
    parser.add_argument("--profile", action="store_true",
                        help="print cProfile top-15 for the fold and decoding")
    parser.add_argument("--tracemalloc", action="store_true",
                        help="also measure state memory with tracemalloc (one extra, slower fold)")
    parser.add_argument("--json-out", type=Path, help="write the results as JSON here")
    parser.add_argument("--when-guard", action="store_true",
                        help="time the fold with and without the per-event guard of iterating `when:` expressions")
    args = parser.parse_args()

    results: dict[str, Any] = {"file": str(args.events), "python": sys.version.split()[0]}
    events = bench_decoding(args.events, args.runs, args.max_seconds, results)
    n = len(events)

    # 2. the fold
    text = args.rulebook.read_text(encoding="utf-8")
    book = parse_rulebook(text, str(args.rulebook))
    until = max(ev.at for ev in events)

    def fold() -> tuple[dict[str, CounterpartyState], list[Decision]]:
        return Engine(Policy([book])).run(events, until=until)

    collections = sum(s["collections"] for s in gc.get_stats())
    times, (states, out) = repeat(fold, args.runs, args.max_seconds, "engine fold")
    collections = sum(s["collections"] for s in gc.get_stats()) - collections
    median = statistics.median(times)
    results.update({
        "engine_s": median, "engine_runs": times, "engine_events_per_s": n / median,
        "engine_goal_ratio": n / median / GOAL_EVENTS_PER_S,
        "decisions": len(out), "decision_ids": len({d.id for d in out}),
        "decisions_by_action": dict(Counter(d.action for d in out).most_common()),
        "counterparties": len(states), "gc_collections_per_run": collections / len(times),
    })
    del out
    # Diagnostic: the same fold with the cyclic garbage collector off, to show what GC passes cost.
    gc.disable()
    try:
        nogc, _ = repeat(fold, args.runs, args.max_seconds, "engine fold, gc disabled")
    finally:
        gc.enable()
    results["engine_nogc_s"] = statistics.median(nogc)
    results["engine_nogc_events_per_s"] = n / statistics.median(nogc)

    if args.when_guard:
        results["when_guard"] = compare_when_guard(fold, args.runs)

    # 3. memory per state
    gc.collect()
    memory = memory_report(states)
    memory["goal_ratio_deep"] = memory["deep_bytes_per_state"] / GOAL_BYTES_PER_STATE
    memory["goal_ratio_pickle"] = memory["pickle_bytes_mean"] / GOAL_BYTES_PER_STATE
    del states
    gc.collect()
    if args.tracemalloc:
        memory.update(traced_state_bytes(lambda: Engine(Policy([book])), events, until))
    results["memory"] = memory

    # 4. profiles
    if args.profile:
        results["profile_engine"] = profile(fold, "engine fold")
        gc.disable()
        try:
            results["profile_engine_nogc"] = profile(fold, "engine fold, gc disabled")
        finally:
            gc.enable()
        sample = [ev.envelope() for ev in events[: min(n, 200_000)]]
        encoded = [msgspec.json.encode(e) for e in sample]
        results["profile_decode"] = profile(lambda: [decode_json(line) for line in encoded],
                                            f"decode+validate ({len(encoded):,} lines)")

    print(f"\nevents {n:,}; counterparties {results['counterparties']:,}; decisions {results['decisions']:,} "
          f"({results['decision_ids']:,} distinct ids)")
    print(f"decode+validate  {results['decode_validate_lines_per_s']:>12,.0f} lines/s "
          f"(msgspec decode alone {results['msgspec_decode_lines_per_s']:,.0f}/s)")
    print(f"engine fold      {results['engine_events_per_s']:>12,.0f} events/s  median of "
          f"{len(results['engine_runs'])}: {median:.2f}s; goal {GOAL_EVENTS_PER_S:,}/s -> "
          f"{results['engine_goal_ratio']:.2f}x")
    print(f"  (gc disabled   {results['engine_nogc_events_per_s']:>12,.0f} events/s: "
          f"{results['gc_collections_per_run']:,.0f} GC passes per run cost "
          f"{100 * (1 - results['engine_nogc_s'] / median):.0f}% of the fold)")
    print(f"state memory     {memory['deep_bytes_per_state']:>12,.0f} B/state deep sizeof "
          f"({memory['goal_ratio_deep']:.2f}x the 1 KB goal); "
          f"pickle mean {memory['pickle_bytes_mean']:,.0f} B, "
          f"p99 {memory['pickle_bytes_p99']:,} B, max {memory['pickle_bytes_max']:,} B")
    if "traced_kept_per_state" in memory:
        print(f"                 {memory['traced_kept_per_state']:>12,.0f} B/state kept after the fold "
              f"(tracemalloc; fold peak {memory['traced_peak_bytes'] / 2**20:,.0f} MiB)")
    print(f"decisions by action: {results['decisions_by_action']}")
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
