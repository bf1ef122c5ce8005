"""The results table of BENCHMARKS.md from the JSON that bench_engine.py and bench_cli.py wrote.

    .venv/bin/python benchmarks/report.py benchmarks/data/engine-1m.json benchmarks/data/cli-1m.json ...
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

GOAL_ENGINE = 250_000
GOAL_INGEST = {"sqlite": 50_000, "postgresql": 30_000}
GOAL_SECONDS = 20.0
GOAL_STATE_BYTES = 1024


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def engine_rows(r: dict[str, Any]) -> list[str]:
    n = r["events"]
    m = r["memory"]
    rate = r["engine_events_per_s"]
    rows = [
        f"| pure engine fold | {n:,} | {rate:,.0f} events/s (median of {len(r['engine_runs'])}: "
        f"{r['engine_s']:.2f} s) | ≥ {GOAL_ENGINE:,}/s | {rate / GOAL_ENGINE:.2f} | {verdict(rate >= GOAL_ENGINE)} |",
        f"| … same fold, GC disabled (diagnostic) | {n:,} | {r['engine_nogc_events_per_s']:,.0f} events/s | "
        f"≥ {GOAL_ENGINE:,}/s | {r['engine_nogc_events_per_s'] / GOAL_ENGINE:.2f} | — |",
        f"| decode + validate (`decode_json`) | {n:,} | {r['decode_validate_lines_per_s']:,.0f} lines/s "
        f"(msgspec decode alone {r['msgspec_decode_lines_per_s']:,.0f}/s) | — | — | — |",
    ]
    deep = m["deep_bytes_per_state"]
    rows.append(f"| memory per counterparty state, deep sizeof | {m['states']:,} states | {deep:,.0f} B | "
                f"≤ {GOAL_STATE_BYTES:,} B | {deep / GOAL_STATE_BYTES:.2f} | {verdict(deep <= GOAL_STATE_BYTES)} |")
    if "traced_kept_per_state" in m:
        traced = m["traced_kept_per_state"]
        rows.append(f"| memory per state, tracemalloc (kept after the fold) | {m['states']:,} states | "
                    f"{traced:,.0f} B | ≤ {GOAL_STATE_BYTES:,} B | {traced / GOAL_STATE_BYTES:.2f} | "
                    f"{verdict(traced <= GOAL_STATE_BYTES)} |")
    rows.append(f"| state as stored (pickle) | {m['states']:,} states | mean {m['pickle_bytes_mean']:,.0f} B, "
                f"p99 {m['pickle_bytes_p99']:,} B, max {m['pickle_bytes_max']:,} B | ≤ {GOAL_STATE_BYTES:,} B | "
                f"{m['pickle_bytes_mean'] / GOAL_STATE_BYTES:.2f} | {verdict(m['pickle_bytes_max'] <= 1024)} |")
    return rows


def cli_rows(r: dict[str, Any]) -> list[str]:
    rows = []
    for b in r["backends"]:
        name = b["backend"]
        n = b["events"]
        steps = {s["name"]: s for s in b["steps"]}
        ingest = steps.get("ingest")
        if ingest is not None and "ingest_events_per_s" in b:
            rate = b["ingest_events_per_s"]
            goal = GOAL_INGEST[name]
            rows.append(f"| `firmly ingest` into {name} | {n:,} | {rate:,.0f} events/s ({ingest['seconds']:.1f} s, "
                        f"{ingest['cpu_seconds']:.1f} s client CPU) | ≥ {goal:,}/s | {rate / goal:.2f} | "
                        f"{verdict(rate >= goal)} |")
        elif ingest is not None:
            stored = ingest["extra"].get("events_stored_before_stop")
            partial = (f"; {stored:,} events committed by then = {stored / ingest['seconds']:,.0f} events/s"
                       if stored else "")
            rows.append(f"| `firmly ingest` into {name} | {n:,} | stopped after {ingest['seconds']:.0f} s "
                        f"({'timeout' if ingest['timed_out'] else 'failed'}{partial}) | ≥ {GOAL_INGEST[name]:,}/s "
                        f"| {stored / ingest['seconds'] / GOAL_INGEST[name] if stored else 0:.2f} | **missed** |")
        for step in ("replay", "simulate"):
            s = steps.get(step)
            if s is None:
                continue
            if s["exit"] == 0:
                full = n >= 1_000_000
                rows.append(f"| `firmly {step}` on {name} | {n:,} | {s['seconds']:.1f} s ({s['cpu_seconds']:.1f} s "
                            f"CPU, {s['max_rss_mib']:,.0f} MiB peak) | ≤ {GOAL_SECONDS:.0f} s at 1M | "
                            f"{s['seconds'] / GOAL_SECONDS:.2f} | "
                            f"{verdict(s['seconds'] <= GOAL_SECONDS) if full else '— (goal is for 1M)'} |")
            else:
                rows.append(f"| `firmly {step}` on {name} | {n:,} | stopped after {s['seconds']:.0f} s | "
                            f"≤ {GOAL_SECONDS:.0f} s | — | **missed** |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("results", type=Path, nargs="+", help="engine-*.json and cli-*.json files")
    args = parser.parse_args()
    print("| measurement | events | result | goal | measured ÷ goal | verdict |")
    print("| --- | ---: | --- | --- | ---: | --- |")
    for path in args.results:
        data = json.loads(path.read_text(encoding="utf-8"))
        for row in engine_rows(data) if "engine_runs" in data else cli_rows(data):
            print(row)


if __name__ == "__main__":
    main()
