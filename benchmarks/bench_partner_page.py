"""The public partner page in a big workspace: its service time, and pages per second for anonymous clients.

    .venv/bin/python benchmarks/bench_partner_page.py sqlite:///benchmarks/data/late-scratch.db \
        [--workspace bench] [--bookings 2000] [--reviews 50] [--runs 50] [--threads 8] [--json-out FILE]

Into a workspace that already holds a history (e.g. the copy `bench_late.py` leaves behind: the clinic
year, a million events) go a partner, --bookings appointments booked into it by as many patients, and
--reviews reviews of it (half published). Then `service.reviews.partner_page` (what
GET /partners/WORKSPACE/KEY renders) runs --runs times (median, p95), and --threads threads call it for
five seconds (pages/s). For comparison, the query the page used to make for the partner's events (one
`counterparty IN (...) OR partner IN (...)`, its whole history) is timed on the same database.
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text

from firmly import bootstrap
from firmly.service import ingest, reviews

PARTNER = "bench-partner"


def seed(store: Any, bookings: int, reviews_n: int) -> None:
    items: list[dict[str, Any]] = [{"id": "bp-upsert", "type": "counterparty.upserted", "counterparty": PARTNER,
                                    "occurred_at": "2027-02-01T09:00:00+03:00",
                                    "data": {"kind": "partner", "name": "Bench Partner"}}]
    items += [{"id": f"bp-book-{n}", "type": "appointment.booked", "counterparty": f"bp-patient-{n}",
               "occurred_at": "2027-02-01T10:00:00+03:00",
               "data": {"appointment": f"bp-{n}", "starts_at": "2027-02-20T10:00:00+03:00", "partner": PARTNER}}
              for n in range(bookings)]
    items += [{"id": f"bp-review-{n}", "type": "review.received", "counterparty": PARTNER,
               "occurred_at": "2027-02-02T10:00:00+03:00",
               "data": {"rating": 1 + n % 5, "text": f"review {n}", "author": f"bp-patient-{n}",
                        "publish": n % 2 == 0}} for n in range(reviews_n)]
    report = ingest.ingest(store, ingest.parsed("seed", items))
    assert not report.rejected, report.as_dict()


def timed(fn: Any, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        out.append(time.perf_counter() - started)
    return sorted(out)


def ms(values: list[float]) -> dict[str, float]:
    return {"median_ms": round(statistics.median(values) * 1000, 2),
            "p95_ms": round(values[int(0.95 * (len(values) - 1))] * 1000, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url")
    parser.add_argument("--workspace", default="bench")
    parser.add_argument("--bookings", type=int, default=2000)
    parser.add_argument("--reviews", type=int, default=50)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()
    store = bootstrap.store(args.url, args.workspace)
    with store.read():
        have = store.load_states([PARTNER])
    if PARTNER not in have:
        seed(store, args.bookings, args.reviews)
    page = reviews.partner_page(store, PARTNER)
    assert len(page.reviews) == (args.reviews + 1) // 2
    now = timed(lambda: reviews.partner_page(store, PARTNER), args.runs)

    def before() -> None:  # the query the page made before: the partner's whole history
        with store.read():
            list(store.c.execute(text("SELECT * FROM events WHERE workspace = :w AND (counterparty IN (:k) OR "
                                      "partner IN (:k))"), {"w": args.workspace, "k": PARTNER}))

    old = timed(before, max(3, args.runs // 10))
    done = [0]
    stop = time.perf_counter() + 5

    def client() -> None:
        mine = bootstrap.store(args.url, args.workspace)  # a store per request thread, as the server has
        while time.perf_counter() < stop:
            reviews.partner_page(mine, PARTNER)
            done[0] += 1

    threads = [threading.Thread(target=client) for _ in range(args.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with store.read():
        info = store.workspace_info()
    result = {"url": args.url.split("@")[-1], "workspace_events": info.events - 1 if info else None,
              "partner_bookings": args.bookings, "reviews": args.reviews, "page": ms(now),
              "old_history_query": ms(old), "threads": args.threads, "pages_per_s": round(done[0] / 5, 1)}
    print(json.dumps(result, indent=2))
    if args.json_out:
        args.json_out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
