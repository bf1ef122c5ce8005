"""`firmly replay` and `firmly simulate` against a reference commit, in the same run, turn by turn.

    .venv/bin/python benchmarks/bench_replay.py benchmarks/data/run/1m.db [--reference main] [--runs 3]
        [--processes 2] [--json-out FILE]

The database is one that `firmly ingest` filled (see bench_cli.py); a replay of it rewrites no decision, so every
run replays the same history into the same file. The reference is `git archive REF src` unpacked into a temporary
folder and run with PYTHONPATH pointing at it, with this checkout's virtualenv. Each turn runs the reference, then
this checkout, for replay and for simulate (benchmarks/stricter.yaml); not pinned to a core, so that a split
fold may use both. Prints wall seconds of each run, their medians and the ratio this/reference.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from generate import WALL_CLOCK

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PYTHON = ROOT / ".venv" / "bin" / "python"


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:  # files: a pipe would fill and block
        start = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        text, problem = out.read().decode(), err.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(argv)} failed: {problem[-2000:]}")
    return seconds, usage.ru_utime + usage.ru_stime, text


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("db", type=Path)
    parser.add_argument("--reference", default="main")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--stricter", type=Path, default=HERE / "stricter.yaml")
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="firmly-ref-") as ref:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.reference, "src"], check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", ref], input=archive, check=True)
        base = {**os.environ, "FIRMLY_NOW": WALL_CLOCK, "FIRMLY_WORKSPACE": "bench",
                "FIRMLY_DATABASE_URL": f"sqlite:///{args.db.resolve()}"}
        who = {"reference": {**base, "PYTHONPATH": f"{ref}/src"}, "this": base}
        commands = {"replay": ["replay", "--json"],
                    "simulate": ["simulate", "--rulebook", str(args.stricter.resolve()), "--json"]}
        runs: dict[str, dict[str, list[tuple[float, float]]]] = {c: {w: [] for w in who} for c in commands}
        outputs: dict[str, dict[str, str]] = {c: {} for c in commands}
        for turn in range(1, args.runs + 1):
            for command, argv in commands.items():
                for name, env in who.items():
                    extra = ["--processes", str(args.processes)] if name == "this" else []
                    seconds, cpu, out = timed([str(PYTHON), "-m", "firmly", *argv, *extra], env)
                    runs[command][name].append((seconds, cpu))
                    outputs[command][name] = out
                    print(f"turn {turn} {command:8} {name:9} {seconds:6.2f} s wall {cpu:6.2f} s cpu",
                          file=sys.stderr, flush=True)
    result: dict[str, Any] = {"db": str(args.db), "reference": args.reference, "processes": args.processes,
                              "runs": runs}
    for command in commands:
        ref_s = statistics.median(s for s, _ in runs[command]["reference"])
        this_s = statistics.median(s for s, _ in runs[command]["this"])
        same = outputs[command]["reference"] == outputs[command]["this"]
        result[command] = {"reference_s": ref_s, "this_s": this_s, "ratio": this_s / ref_s, "same_output": same}
        print(f"{command:8} reference {ref_s:6.2f} s  this {this_s:6.2f} s  ratio {this_s / ref_s:.2f}  "
              f"output {'same' if same else 'DIFFERENT'}")
    if args.json_out:
        args.json_out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
