"""Server time of a client's own page (`/my/WORKSPACE/TOKEN`) over the demo workspace (`firmly demo`'s data),
on SQLite.

    .venv/bin/python benchmarks/bench_own_page.py [--repeat 30] [--json-out FILE]

The server runs in this process on a loopback port (uvicorn, as `firmly serve`); a keep-alive httpx client with
no login opens the page of a few clients (a patient with a long history, a prepaid client, the client with the
most decisions) through a fresh signed link, --repeat times each, one request at a time. Each request pays for
the whole page: the link's check, the per-address count of views (a database write), the counterparty's state,
its rules, decisions and explanations, and the appendix (rendered once per rulebook version and language, as
the server keeps it). Between requests the address's count is cleared (untimed), so the rate limit never
answers instead of the page. Milliseconds at the client (server work plus a ~0.3 ms loopback round trip):
median and worst. The budget is 50 ms median per page. `service`: `own_page.page` alone, in this process.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from firmly import bootstrap
from firmly.doors.web.testing import demo_database, serve
from firmly.service import own_page, wallclock

BUDGET_MS = 50.0


def ms(values: list[float]) -> dict[str, float]:
    return {"median_ms": round(statistics.median(values) * 1000, 2), "max_ms": round(max(values) * 1000, 2)}


def chosen(store: Any) -> list[tuple[str, str]]:
    """(label, key): tom, the prepaid acme, and the client with the most decisions."""
    with store.read():
        rows = store.decisions()
        states = store.load_states(["tom", "acme"])
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["counterparty"]] = counts.get(r["counterparty"], 0) + 1
    busiest = max(counts, key=lambda k: counts[k])
    found = [(f"client with the most decisions ({counts[busiest]})", busiest)]
    found += [(label, key) for label, key in (("patient tom", "tom"), ("prepaid acme", "acme")) if key in states]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/demo.db"
        demo_database(url)
        store = bootstrap.store(url, "demo")
        users = bootstrap.store(url, "")
        pages = chosen(store)
        links = {key: own_page.show_link(store, key, wallclock.now()) for _, key in pages}
        results: dict[str, Any] = {}
        with serve(url) as base, httpx.Client(base_url=base) as client:
            for label, key in pages:
                path = "/my/" + links[key].split("/my/", 1)[1]
                assert client.get(path).status_code == 200, path  # the appendix rendered once, as a server keeps it
                took = []
                for _ in range(args.repeat):
                    with users.write():
                        users.drop_login_attempts(before=wallclock.now() + 1)
                    started = time.perf_counter()
                    answer = client.get(path)
                    took.append(time.perf_counter() - started)
                    assert answer.status_code == 200, answer.status_code
                service = []
                for _ in range(args.repeat):
                    started = time.perf_counter()
                    own_page.page(store, key, wallclock.now())
                    service.append(time.perf_counter() - started)
                results[label] = {"page": ms(took), "service": ms(service), "bytes": len(answer.content)}
    medians = [r["page"]["median_ms"] for r in results.values()]
    result = {"repeat": args.repeat, "pages": results, "median_of_medians_ms": statistics.median(medians),
              "within_budget": max(medians) <= BUDGET_MS}
    print(json.dumps(result, indent=2, ensure_ascii=False))
    if args.json_out:
        args.json_out.write_text(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
