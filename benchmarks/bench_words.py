"""What rendering for the reader costs: the same measurements on this tree and on an earlier commit, in one run.

    .venv/bin/python benchmarks/bench_words.py [--base REV] [--this REV] [--rounds 5] [--repeat 10] [--json-out FILE]

* `firmly decisions --json` over a SQLite workspace of about 100,000 decisions (benchmarks/generate.py's
  clinic, ingested once with this tree): wall time of the whole command, each tree in turn, --rounds times.
* The counterparty page and the review queue (benchmarks/bench_web.py over the demo workspace): each
  tree in turn, --rounds times, the median of bench_web's warm and cold medians.

Each tree is `git archive REV src` under a temporary directory, put first on PYTHONPATH; both run
with this virtualenv, on the same machine at the same time, so the ratio holds even when the machine is
shared. Printed: medians per tree and their ratio (this tree / base).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from generate import WALL_CLOCK

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PAGES = {"/counterparties/tom": "counterparty (client)", "/counterparties/acme": "counterparty (prepaid)",
         "/counterparties/pc-03": "counterparty (partner)", "/review": "review queue"}


def _export(rev: str, into: Path) -> Path:
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "src"], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into / "src"


def _env(src: Path, now: str | None = None) -> dict[str, str]:
    """The tree `src` first on the path; `now` fixes the wall clock (the generated history ends in 2027)."""
    return {**({"FIRMLY_NOW": now} if now else {}), **os.environ, "PYTHONPATH": str(src)}


def _firmly(src: Path, *args: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "firmly", *args], env=_env(src), check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def _decisions_db(work: Path, src: Path) -> tuple[str, int]:
    events = work / "clinic.jsonl"
    subprocess.run([sys.executable, str(HERE / "generate.py"), "--clients", "12000", "--events", "110000",
                    "--out", str(events)], check=True, stdout=subprocess.DEVNULL)
    url = f"sqlite:///{work / 'decisions.db'}"
    common = ("--db", url, "--workspace", "bench")
    subprocess.run([sys.executable, "-m", "firmly", "init", "--locale", "ru", "--timezone", "Europe/Moscow", *common],
                   env=_env(src), check=True, stdout=subprocess.DEVNULL)
    subprocess.run([sys.executable, "-m", "firmly", "rulebook", "load", str(HERE / "clinic.yaml"), *common],
                   env=_env(src), check=True, stdout=subprocess.DEVNULL)
    subprocess.run([sys.executable, "-m", "firmly", "ingest", str(events), *common], env=_env(src, WALL_CLOCK),
                   check=True, stdout=subprocess.DEVNULL)
    out = subprocess.run([sys.executable, "-m", "firmly", "decisions", "--json", *common], env=_env(src), check=True,
                         capture_output=True)
    return url, len(json.loads(out.stdout))


def _pages(src: Path, url: str, repeat: int, work: Path, mode: str) -> dict[str, dict[str, float]]:
    out = work / f"web-{time.monotonic_ns()}.json"
    subprocess.run([sys.executable, __file__, mode, url, "--repeat", str(repeat), "--json-out", str(out)],
                   env=_env(src), check=True, stdout=subprocess.DEVNULL)
    found: dict[str, dict[str, float]] = json.loads(out.read_text())
    return found


def _child_service(url: str, repeat: int, out: Path) -> None:
    """The counterparty page's and the review queue's service calls in-process (no HTTP, no template): the
    part of a page this change touches, timed without the server's noise."""
    import inspect  # noqa: PLC0415

    from firmly import bootstrap  # noqa: PLC0415
    from firmly.service import queries, review, timeline  # noqa: PLC0415

    store = bootstrap.store(url, "demo")
    by_reader = "lang" in inspect.signature(timeline.page).parameters

    def page(key: str) -> Callable[[], object]:
        return (lambda: timeline.page(store, key, "ru")) if by_reader else (lambda: timeline.page(store, key))

    def queue() -> object:
        if hasattr(review, "pending_for"):
            return review.pending_for(store, "ru")
        return [queries.public(r) for r in review.pending(store)]

    calls: dict[str, Callable[[], object]] = {name: page(path.rsplit("/", 1)[1]) for path, name in PAGES.items()
                                              if path.startswith("/counterparties/")}
    calls["review queue"] = queue
    found = {}
    for name, call in calls.items():
        call()
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            call()
            times.append((time.perf_counter() - started) * 1000)
        found[name] = {"cold": statistics.median(times), "warm": statistics.median(times)}
    out.write_text(json.dumps(found))


def _child_demo(url: str) -> None:
    """The demo workspace at `url` (built once, for both trees)."""
    from firmly.doors.web.testing import demo_database  # noqa: PLC0415 - the tree under test is on PYTHONPATH

    demo_database(url)


def _child_pages(url: str, repeat: int, out: Path) -> None:
    """The pages of PAGES served by the tree on PYTHONPATH: cold and warm medians as bench_web measures them."""
    import httpx  # noqa: PLC0415

    from bench_web import _measure  # noqa: PLC0415 - the same measurement as the web benchmark
    from firmly import bootstrap  # noqa: PLC0415
    from firmly.doors.web.testing import DEMO_PASSWORD, serve  # noqa: PLC0415
    from firmly.service import demo  # noqa: PLC0415

    email = demo.login(bootstrap.store(url, "demo"), DEMO_PASSWORD, time.time_ns() // 1000)[0]
    found = {}
    with serve(url) as base, httpx.Client(base_url=base, timeout=30) as client:
        token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
        assert token is not None
        client.post("/login", data={"csrf": token.group(1), "email": email, "password": DEMO_PASSWORD})
        for path, name in PAGES.items():
            _measure(client, "GET", path, {}, 2, cold=False)
            cold = statistics.median(_measure(client, "GET", path, {}, repeat, cold=True))
            warm = statistics.median(_measure(client, "GET", path, {}, repeat, cold=False))
            found[name] = {"cold": cold, "warm": warm}
    out.write_text(json.dumps(found))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default="", help="the earlier commit (default: where this branch left main)")
    parser.add_argument("--this", default="HEAD", help="the commit measured against it (default HEAD)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=10, help="requests per page in each bench_web run")
    parser.add_argument("--skip-web", action="store_true")
    parser.add_argument("--skip-decisions", action="store_true")
    parser.add_argument("--json-out", type=Path)
    parser.add_argument("--child-demo", help=argparse.SUPPRESS)
    parser.add_argument("--child-pages", help=argparse.SUPPRESS)
    parser.add_argument("--child-service", help=argparse.SUPPRESS)
    parser.add_argument("--service", action="store_true",
                        help="time the pages' service calls in-process instead of over HTTP (less noise)")
    args = parser.parse_args()
    if args.child_demo:
        return _child_demo(args.child_demo)
    if args.child_pages:
        return _child_pages(args.child_pages, args.repeat, args.json_out)
    if args.child_service:
        return _child_service(args.child_service, args.repeat, args.json_out)
    base = args.base or subprocess.run(["git", "-C", str(ROOT), "merge-base", "HEAD", "main"], capture_output=True,
                                       text=True, check=True).stdout.strip()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "base").mkdir()
        (work / "this").mkdir()
        trees = {"base": _export(base, work / "base"), "this": _export(args.this, work / "this")}
        result: dict[str, Any] = {"base": base, "this": args.this}
        pages: dict[str, list[dict[str, dict[str, float]]]] = {name: [] for name in trees}
        if not args.skip_decisions:
            url, count = _decisions_db(work, trees["this"])
            times: dict[str, list[float]] = {name: [] for name in trees}
            for _ in range(args.rounds):
                for name, src in trees.items():
                    times[name].append(_firmly(src, "decisions", "--json", "--db", url, "--workspace", "bench"))
            seconds = {k: statistics.median(v) for k, v in times.items()}
            result.update(decisions=count, decisions_json_s=seconds,
                          decisions_json_ratio=seconds["this"] / seconds["base"])
            print(f"firmly decisions --json, {count:,} decisions: base {seconds['base']:.2f} s, "
                  f"this {seconds['this']:.2f} s, ratio {seconds['this'] / seconds['base']:.2f}", flush=True)
        if not args.skip_web:
            demo_url = f"sqlite:///{work / 'demo.db'}"
            # built by the base tree: its examples are the ones both trees can read (a `labels:` section is new)
            subprocess.run([sys.executable, __file__, "--child-demo", demo_url], env=_env(trees["base"]), check=True)
            for _ in range(args.rounds):
                for name, src in trees.items():
                    pages[name].append(_pages(src, demo_url, args.repeat, work,
                                              "--child-service" if args.service else "--child-pages"))
    if not args.skip_web:
        result["pages_ms"] = {}
        for page in PAGES.values():
            row = {}
            for name in trees:
                for kind in ("cold", "warm"):
                    row[f"{name}_{kind}"] = statistics.median(r[page][kind] for r in pages[name] if page in r)
            row["ratio_cold"] = row["this_cold"] / row["base_cold"]
            row["ratio_warm"] = row["this_warm"] / row["base_warm"]
            result["pages_ms"][page] = row
            print(f"{page}: cold {row['base_cold']:.1f} → {row['this_cold']:.1f} ms ({row['ratio_cold']:.2f}), "
                  f"warm {row['base_warm']:.1f} → {row['this_warm']:.1f} ms ({row['ratio_warm']:.2f})")
    if args.json_out:
        args.json_out.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
