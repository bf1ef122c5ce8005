"""The pure engine fold of this tree against another (the code before a change), alternating, on one core.

    git archive <commit> src | tar -x -C /tmp/before
    taskset -c 0 .venv/bin/python benchmarks/bench_fold_ab.py events.jsonl --before /tmp/before/src \
        [--rulebook benchmarks/clinic.yaml] [--rounds 6] [--runs 3] [--json-out FILE]

Each round runs one process per tree (this one's first or second in turn), and each process folds the whole
workload --runs times with the collector running, as the server runs it. Times are the process's CPU time
(`time.process_time`), not the wall clock: on a shared machine a process waiting for the core is not slower
code. Reports the median and the fastest run of each tree and their ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
THIS = HERE.parent / "src"


def child(events_path: Path, rulebook: Path, runs: int) -> None:
    """Fold the workload `runs` times in this process; print each run's CPU seconds."""
    from firmly.domain.engine import Engine, Policy  # noqa: PLC0415 - imported from the tree PYTHONPATH names
    from firmly.domain.events import decode_json  # noqa: PLC0415
    from firmly.domain.rulebook import parse_rulebook  # noqa: PLC0415

    events = []
    for seq, line in enumerate(events_path.read_bytes().splitlines(), 1):
        if line.strip():
            ev = decode_json(line)
            ev.seq = seq
            events.append(ev)
    book = parse_rulebook(rulebook.read_text(encoding="utf-8"))
    until = max(ev.at for ev in events)
    for _ in range(runs):
        engine = Engine(Policy([book]))
        start = time.process_time()
        engine.run(events, until=until)
        print(f"{time.process_time() - start:.4f}", flush=True)


def measure(src: Path, args: argparse.Namespace) -> list[float]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    done = subprocess.run([sys.executable, __file__, str(args.events), "--rulebook", str(args.rulebook),
                           "--runs", str(args.runs), "--child"], env=env, capture_output=True, text=True, check=True)
    return [float(line) for line in done.stdout.split()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("events", type=Path)
    parser.add_argument("--before", type=Path, help="the src directory of the code to compare with")
    parser.add_argument("--rulebook", type=Path, default=HERE / "clinic.yaml")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json-out", type=Path)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.events, args.rulebook, args.runs)
        return
    if args.before is None:
        parser.error("--before is required")
    times: dict[str, list[float]] = {"before": [], "after": []}
    for n in range(args.rounds):
        order = [("before", args.before), ("after", THIS)]
        for name, src in order if n % 2 == 0 else order[::-1]:
            times[name] += measure(src, args)
    events = sum(1 for line in args.events.read_bytes().splitlines() if line.strip())
    result: dict[str, object] = {"events": events, "rounds": args.rounds, "runs": args.runs, "cpu_s": times}
    for name, xs in times.items():
        result[f"{name}_median_s"], result[f"{name}_min_s"] = statistics.median(xs), min(xs)
        print(f"{name:6} median {statistics.median(xs):.3f} s ({events / statistics.median(xs):,.0f} events/s), "
              f"fastest {min(xs):.3f} s, of {len(xs)} runs")
    ratio = statistics.median(times["after"]) / statistics.median(times["before"])
    fastest = min(times["after"]) / min(times["before"])
    result["ratio_median"], result["ratio_fastest"] = ratio, fastest
    print(f"after / before: {ratio:.3f} (medians), {fastest:.3f} (fastest runs)")
    if args.json_out:
        args.json_out.write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
