"""The web what-if as a background job over a long history: how often it reports progress, and how fast other
pages answer while it runs, against the same pages with the server idle (measured in the same run).

    .venv/bin/python benchmarks/bench_what_if_job.py --events 100000      # about 2 minutes on 2 cores
    .venv/bin/python benchmarks/bench_what_if_job.py --events 1000000     # the 1M-event history

A synthetic clinic history (benchmarks/generate.py) is ingested into SQLite under benchmarks/clinic.yaml; the
server runs in this process (uvicorn on a loopback port). One client starts a what-if under
benchmarks/stricter.yaml through the page; while its thread replays, this process samples the job every
20 ms (when did its phase or counts last change) and a second client asks for the review queue and the
dashboard one after another. Prints the largest gap between two progress reports — all of them, and only those
the job made before it named its phases (the start of reading and the replay's counts), both from the same
run — and the pages' medians idle and busy.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import threading
import time
from contextlib import closing
from itertools import pairwise
from pathlib import Path

import httpx

from firmly import bootstrap
from firmly.doors.web.testing import serve
from firmly.service import ingest, rulebooks, users, what_if_jobs, workspace

HERE = Path(__file__).resolve().parent
PAGES = ("/review", "/")
PASSWORD = "a long enough password"


def login(base: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=60)
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
    assert token is not None
    client.post("/login", data={"csrf": token.group(1), "email": "bench@example.org", "password": PASSWORD})
    return client


def timed(client: httpx.Client, path: str) -> float:
    started = time.perf_counter()
    answer = client.get(path)
    if answer.status_code != 200:
        raise RuntimeError(f"GET {path}: {answer.status_code}")
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=10_000)
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    import generate  # noqa: PLC0415 - the benchmarks' own generator, beside this file

    with tempfile.TemporaryDirectory() as tmp:
        events = Path(tmp) / "clinic.jsonl"
        generate.generate(args.clients, args.events, events, 1)
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        store = bootstrap.store(url, "bench")
        book = rulebooks.read(HERE / "clinic.yaml")
        workspace.init(store, book.locale, book.timezone, 0)
        rulebooks.load(store, book, 0)
        started = time.perf_counter()
        ingest.ingest(store, ingest.read_file(events))
        print(f"{args.events:,} events ingested in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        users.create(store, "bench@example.org", "operator", PASSWORD, 0)
        stricter = (HERE / "stricter.yaml").read_text(encoding="utf-8")

        with serve(url) as base, closing(login(base)) as starter, closing(login(base)) as reader:
            idle = {p: [timed(reader, p) for _ in range(20)] for p in PAGES}
            runs = [run(starter, reader, stricter) for _ in range(2)]

    print(f"{'page':10} {'idle p50':>9}  (ms, the server idle)")
    for p in PAGES:
        print(f"{p:10} {statistics.median(idle[p]):9.1f}")
    for label, (start_ms, total_s, reports, busy) in zip(("first (starts the fork server)", "second"), runs,
                                                        strict=True):
        moments = [at for at, _, _ in reports]
        # what the job reported before it named its phases: the start of reading, then the replay's counts
        # (the first report in the job's process stood for "reading" then: it set the total)
        counts_only = moments[:2] + [at for at, phase, done in reports[2:-1] if phase == "replaying" and done]
        counts_only.append(moments[-1])
        print(f"what-if over {args.events:,} events, {label}: page answered in {start_ms:.0f} ms, done in "
              f"{total_s:.1f} s; {len(reports) - 2} progress reports, largest gap {largest(moments):.0f} ms; "
              f"first report after {(moments[1] - moments[0]) * 1000:.0f} ms; from there to the end: largest gap "
              f"{largest(moments[1:]):.0f} ms, counts only (as before phases) {largest(counts_only[1:]):.0f} ms")
        for p in PAGES:
            a, b = statistics.median(idle[p]), statistics.median(busy[p])
            print(f"  {p:10} busy p50 {b:7.1f}  max {max(busy[p]):7.1f}  ratio to idle {b / a:5.2f}  n {len(busy[p])}")


def largest(moments: list[float]) -> float:
    """The longest wait between two of these moments, in milliseconds."""
    return max((b - a for a, b in pairwise(moments)), default=0.0) * 1000


def run(starter: httpx.Client, reader: httpx.Client, source: str
        ) -> tuple[float, float, list[tuple[float, str, int]], dict[str, list[float]]]:
    """One what-if through the page; meanwhile its progress sampled and the pages asked for, one after another."""
    token = re.search(r'name="csrf" value="([^"]+)"', starter.get("/rulebooks/what-if").text)
    assert token is not None
    begun = time.perf_counter()
    page = starter.post("/rulebooks/what-if", data={"csrf": token.group(1), "source": source}).text
    start_ms = (time.perf_counter() - begun) * 1000
    found = re.search(r'hx-get="/rulebooks/what-if/jobs/([^"]+)"', page)
    assert found is not None, "the job finished before the page was written: use more --events"
    job = what_if_jobs.get("bench", found.group(1))
    reports: list[tuple[float, str, int]] = [(begun, "", 0)]  # when, phase, done
    done = threading.Event()

    def sample() -> None:
        last = (job.phase, job.done, job.total)
        while job.finished is None:
            if (job.phase, job.done, job.total) != last:
                last = (job.phase, job.done, job.total)
                reports.append((time.perf_counter(), job.phase, job.done))
            time.sleep(0.02)
        reports.append((time.perf_counter(), "", 0))
        done.set()

    threading.Thread(target=sample, daemon=True).start()
    busy: dict[str, list[float]] = {p: [] for p in PAGES}
    while not done.is_set():
        for p in PAGES:
            busy[p].append(timed(reader, p))
    assert job.result is not None, job.error
    return start_ms, time.perf_counter() - begun, reports, busy

if __name__ == "__main__":
    main()
