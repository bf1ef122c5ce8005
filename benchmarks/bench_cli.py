"""End-to-end timings of the `firmly` command on SQLite and PostgreSQL.

    .venv/bin/python benchmarks/bench_cli.py benchmarks/data/clinic-1m.jsonl \
        [--backend sqlite --backend postgresql] [--cpu 0] [--profile-ingest] [--json-out FILE]

For each backend, into a fresh database (a new SQLite file under benchmarks/data/, or a
PostgreSQL database created for the run and dropped after it):

    firmly init
    firmly rulebook load benchmarks/clinic.yaml
    firmly ingest EVENTS.jsonl --json            -> events/s
    firmly replay --json                         -> seconds
    firmly simulate --rulebook benchmarks/stricter.yaml --json   -> seconds

Each command runs as its own process pinned with `taskset -c CPU` (the PostgreSQL server is
not pinned: it runs wherever the kernel puts it). Wall time includes interpreter start-up and
imports (~0.5 s); CPU time and peak RSS are the child's own, from wait4().
With --profile-ingest, ingest runs once more under cProfile into a fresh SQLite file
(`python -m cProfile -o ... -m firmly ingest ...`) and the top functions are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from generate import WALL_CLOCK
from profiles import summarise

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
FIRMLY = ROOT / ".venv" / "bin" / "firmly"
GOALS = {"ingest_sqlite": 50_000, "ingest_postgresql": 30_000}  # events/s
GOAL_SECONDS = 20.0  # replay and simulate over 1M events


@dataclass
class Step:
    name: str
    argv: list[str]
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    max_rss_mib: float = 0.0
    exit: int | None = None
    timed_out: bool = False
    output: Any = None
    stderr_tail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def run(name: str, argv: list[str], env: dict[str, str], workdir: Path, cpu: int | None, timeout: float) -> Step:
    """One command, its wall and CPU time and peak memory; killed (by its own pid) after `timeout`."""
    command = (["taskset", "-c", str(cpu)] if cpu is not None else []) + argv
    step = Step(name, argv)
    out_path = workdir / f"{name}.stdout"
    err_path = workdir / f"{name}.stderr"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(command, stdout=out, stderr=err, env=env, cwd=workdir)
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - start > timeout:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                step.timed_out = True
                break
            time.sleep(0.02)
        step.seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    step.exit = proc.returncode
    step.cpu_seconds = usage.ru_utime + usage.ru_stime
    step.max_rss_mib = usage.ru_maxrss / 1024
    text = out_path.read_text(encoding="utf-8", errors="replace")
    try:
        step.output = json.loads(text) if text.strip() else None
    except json.JSONDecodeError:
        step.output = text.strip()[-2000:]
    step.stderr_tail = err_path.read_text(encoding="utf-8", errors="replace")[-2000:]
    state = "TIMEOUT" if step.timed_out else f"exit {step.exit}"
    print(f"  {name:10} {step.seconds:9.2f}s wall {step.cpu_seconds:9.2f}s cpu "
          f"{step.max_rss_mib:8.0f} MiB  {state}", file=sys.stderr)
    if step.exit not in (0, None) and not step.timed_out:
        print(f"    stderr: {step.stderr_tail[-600:]}", file=sys.stderr)
    return step


def psql(admin_url: str, sql: str) -> None:
    subprocess.run(["psql", admin_url, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql], check=True)


def fresh_database(backend: str, workdir: Path, pg_url: str, pg_db: str) -> str:
    if backend == "sqlite":
        db = workdir / "firmly.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{db}"
    psql(f"{pg_url}/postgres", f"DROP DATABASE IF EXISTS {pg_db}")
    psql(f"{pg_url}/postgres", f"CREATE DATABASE {pg_db}")
    return f"{pg_url}/{pg_db}"


def database_mib(backend: str, workdir: Path, pg_url: str, pg_db: str) -> float:
    if backend == "sqlite":
        return sum(p.stat().st_size for p in workdir.glob("firmly.db*")) / 2**20
    done = subprocess.run(["psql", f"{pg_url}/postgres", "-At", "-c", f"SELECT pg_database_size('{pg_db}')"],
                          check=True, capture_output=True, text=True)
    return int(done.stdout.strip()) / 2**20


def stored_events(backend: str, workdir: Path, pg_url: str, pg_db: str) -> int:
    """How many events a stopped ingest had committed (it commits every 20,000)."""
    query = "SELECT count(*) FROM events"
    if backend == "sqlite":
        with sqlite3.connect(workdir / "firmly.db") as conn:
            return int(conn.execute(query).fetchone()[0])
    done = subprocess.run(["psql", f"{pg_url}/{pg_db}", "-At", "-c", query], check=True, capture_output=True,
                          text=True)
    return int(done.stdout.strip())


def bench_backend(backend: str, events: Path, n: int, args: argparse.Namespace) -> dict[str, Any]:
    workdir = args.workdir / f"cli-{backend}-{events.stem}"
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    url = fresh_database(backend, workdir, args.pg_url, args.pg_db)
    env = {"FIRMLY_NOW": WALL_CLOCK, **os.environ, "FIRMLY_DATABASE_URL": url, "FIRMLY_WORKSPACE": "bench"}
    print(f"{backend}: {url}", file=sys.stderr)
    steps: list[Step] = []
    try:
        firmly = [str(FIRMLY)]
        for name, argv in (
            ("init", [*firmly, "init"]),
            ("load", [*firmly, "rulebook", "load", str(args.rulebook)]),
            ("ingest", [*firmly, "ingest", str(events.resolve()), "--json"]),
            ("replay", [*firmly, "replay", "--json"]),
            ("simulate", [*firmly, "simulate", "--rulebook", str(args.stricter), "--json"]),
        ):
            if name in args.skip:
                continue
            step = run(name, argv, env, workdir, args.cpu, args.timeout)
            steps.append(step)
            if step.timed_out or step.exit != 0:
                if name == "ingest":
                    step.extra["events_stored_before_stop"] = stored_events(backend, workdir, args.pg_url,
                                                                            args.pg_db)
                break
            if name == "ingest":
                step.extra["database_mib"] = database_mib(backend, workdir, args.pg_url, args.pg_db)
    finally:
        if backend == "postgresql" and not args.keep:
            psql(f"{args.pg_url}/postgres", f"DROP DATABASE IF EXISTS {args.pg_db}")
    result: dict[str, Any] = {"backend": backend, "url": url, "events": n, "steps": [asdict(s) for s in steps]}
    by_name = {s.name: s for s in steps}
    ingest = by_name.get("ingest")
    if ingest is not None and ingest.exit == 0 and isinstance(ingest.output, dict):
        stored = ingest.output.get("stored", 0)
        result["ingest_events_per_s"] = stored / ingest.seconds
        result["ingest_goal_ratio"] = result["ingest_events_per_s"] / GOALS[f"ingest_{backend}"]
        result["ingest_decisions"] = ingest.output.get("decisions")
        result["ingest_rejected"] = ingest.output.get("rejected")
    for name in ("replay", "simulate"):
        done = by_name.get(name)
        if done is not None and done.exit == 0:
            result[f"{name}_s"] = done.seconds
            result[f"{name}_goal_ratio"] = done.seconds / GOAL_SECONDS  # measured / goal: below 1 is good
    if backend == "sqlite" and not args.keep:
        for p in workdir.glob("firmly.db*"):
            p.unlink()
    return result


def profile_ingest(events: Path, args: argparse.Namespace) -> dict[str, Any]:
    """ingest once under cProfile into a fresh SQLite file; the top functions by own and cumulative time."""
    workdir = args.workdir / f"profile-ingest-{events.stem}"
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    url = fresh_database("sqlite", workdir, args.pg_url, args.pg_db)
    env = {"FIRMLY_NOW": WALL_CLOCK, **os.environ, "FIRMLY_DATABASE_URL": url, "FIRMLY_WORKSPACE": "bench"}
    print(f"profiling ingest: {url}", file=sys.stderr)
    run("init", [str(FIRMLY), "init"], env, workdir, args.cpu, args.timeout)
    run("load", [str(FIRMLY), "rulebook", "load", str(args.rulebook)], env, workdir, args.cpu, args.timeout)
    prof = args.workdir / f"ingest-{events.stem}.prof"
    step = run("ingest", [str(PYTHON), "-m", "cProfile", "-o", str(prof), "-m", "firmly", "ingest",
                          str(events.resolve()), "--json"], env, workdir, args.cpu, args.timeout)
    for p in workdir.glob("firmly.db*"):
        p.unlink()
    if step.exit != 0 or not prof.exists():
        return {"error": "profiled ingest failed", "step": asdict(step)}
    total, rows = summarise(str(prof), "ingest", args.top, step.seconds)
    by_tottime = sorted(rows, key=lambda r: r["tottime"], reverse=True)[: args.top]
    by_cumtime = sorted(rows, key=lambda r: r["cumtime"], reverse=True)[: args.top * 3]
    return {"prof": str(prof), "wall_s": step.seconds, "total_s": total, "top_tottime": by_tottime,
            "top_cumtime": by_cumtime}


def main() -> None:
    parser = argparse.ArgumentParser(description="firmly end-to-end command benchmark")
    parser.add_argument("events", type=Path, help="a .jsonl of events (see generate.py)")
    parser.add_argument("--backend", action="append", choices=("sqlite", "postgresql"),
                        help="repeatable; default both")
    parser.add_argument("--rulebook", type=Path, default=HERE / "clinic.yaml")
    parser.add_argument("--stricter", type=Path, default=HERE / "stricter.yaml")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432",
                        help="server URL without a database name")
    parser.add_argument("--pg-db", default="firmly_bench", help="database created and dropped for the run")
    parser.add_argument("--cpu", type=int, default=0, help="pin each command to this CPU (-1: do not pin)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds before a step is stopped")
    parser.add_argument("--skip", action="append", default=[], choices=("replay", "simulate"),
                        help="leave a step out (repeatable)")
    parser.add_argument("--profile-ingest", action="store_true", help="also run ingest once under cProfile")
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    parser.add_argument("--workdir", type=Path, default=HERE / "data")
    parser.add_argument("--json-out", type=Path, help="write the results as JSON here")
    args = parser.parse_args()
    if args.cpu < 0:
        args.cpu = None
    args.rulebook = args.rulebook.resolve()
    args.stricter = args.stricter.resolve()
    args.workdir = args.workdir.resolve()
    with args.events.open("rb") as fh:
        n = sum(1 for line in fh if line.strip())

    results: dict[str, Any] = {"events_file": str(args.events), "events": n, "backends": []}
    for backend in args.backend or ["sqlite", "postgresql"]:
        results["backends"].append(bench_backend(backend, args.events, n, args))
    if args.profile_ingest:
        results["profile_ingest"] = profile_ingest(args.events, args)

    print(f"\n{n:,} events")
    for r in results["backends"]:
        line = f"{r['backend']:10}"
        if "ingest_events_per_s" in r:
            line += (f" ingest {r['ingest_events_per_s']:>9,.0f} events/s "
                     f"({r['ingest_goal_ratio']:.2f}x goal), {r['ingest_decisions']:,} decisions")
        for name in ("replay", "simulate"):
            if f"{name}_s" in r:
                line += f"; {name} {r[f'{name}_s']:.1f}s"
        failed = [s for s in r["steps"] if s["exit"] != 0]
        if failed:
            s = failed[0]
            line += f"; {s['name']} {'TIMED OUT' if s['timed_out'] else 'FAILED'} after {s['seconds']:.0f}s"
        print(line)
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
