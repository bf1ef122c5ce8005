"""Server time of every web UI page over the demo workspace (`firmly demo`'s data: ~3,900 events, ~580
counterparties, five rulebooks), on SQLite.

    .venv/bin/python benchmarks/bench_web.py [--repeat 30] [--json-out FILE] [--only "rule editor"]

The server runs in this process on a loopback port (uvicorn, as `firmly serve`); a keep-alive httpx client
logged in as the demo admin requests each page --repeat times, one request at a time. Two figures per page:
- cold: before each request the caches that a change of data empties (the whole-workspace scan behind the
  list and dashboard, the peer medians of cost-to-serve) are emptied, so every request pays for them as the
  first one after new events does;
- warm: the same requests with the caches kept, as pages in a row are served.
Each is the median and the worst of the repeats, in milliseconds, measured at the client: the server's work
plus a loopback round trip (~0.3 ms). The budget is 150 ms per page.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from firmly.doors.web.testing import demo_database, serve
from firmly.service import listing, reports

CLINIC = Path(__file__).resolve().parents[1] / "src" / "firmly" / "examples" / "clinic-en" / "rulebook.yaml"
EDIT = "/rulebooks/smile/2026-05/edit"
START_PREVIEW = "/start?business=clinic&preview=1&name=Smile&fee=25&currency=EUR&preset=strict&notice_hours=12"
PAGES: tuple[tuple[str, str, str], ...] = (
    ("GET", "/login", "login"),
    ("GET", "/", "dashboard"),
    ("GET", "/counterparties", "counterparties"),
    ("GET", "/counterparties?q=ООО&kind=client", "counterparties, search"),
    ("GET", "/counterparties/tom", "counterparty (client)"),
    ("GET", "/counterparties/acme", "counterparty (prepaid)"),
    ("GET", "/counterparties/pc-03", "counterparty (partner)"),
    ("GET", "/review", "review queue"),
    ("GET", "/agenda", "agenda: today"),
    ("GET", "/agenda?span=week", "agenda: this week"),
    ("GET", "/outbox", "outbox"),
    ("GET", "/rulebooks", "rulebooks"),
    ("GET", "/rulebooks/smile/2026-05", "rulebook + appendix"),
    ("GET", "/rulebooks/upload", "upload form"),
    ("POST", "/rulebooks/upload", "upload: broken rulebook"),
    ("GET", "/rulebooks/what-if?start=smile", "what-if form"),
    ("POST", "/rulebooks/what-if", "what-if: start the job"),
    ("GET", "/reports/cost-to-serve", "report: cost-to-serve"),
    ("GET", "/reports/partners", "report: partners"),
    ("GET", "/reports/suppliers", "report: suppliers"),
    ("GET", "/reports/courtesy", "report: courtesy"),
    ("GET", "/reports/cost-to-serve.csv", "report CSV"),
    ("GET", "/partners/demo/northside", "public partner page"),
    ("GET", "/counterparties?sort=-ratio&page=3", "counterparties, sorted, page 3"),
    ("GET", "/counterparties.csv?kind=client", "counterparties CSV"),
    ("GET", "/reports/cost-to-serve?sort=-revenue&page=2", "cost-to-serve, sorted, page 2"),
    ("GET", "/reports/cost-to-serve?currency=RUB", "cost-to-serve, one currency"),
    ("GET", "/start", "start page"),
    ("GET", START_PREVIEW, "start: rules and letters"),
    ("GET", "/start/events", "how to send events"),
    ("GET", "/record", "record: the event types"),
    ("GET", "/record/payment.received", "record: payment form"),
    ("POST", "/record/payment.received", "record: refused at its field"),
    ("GET", "/events/upload", "event file upload form"),
    ("GET", "/counterparties/acme/statement.csv", "statement CSV"),
    ("GET", EDIT, "rule editor"),
    ("POST", EDIT + "?refused", "rule editor: refused at field"),
    ("POST", EDIT + "?preview", "rule editor: diff + what-if"),
)


def _cold() -> None:
    listing._cache.clear()
    reports._medians.clear()


def _measure(client: httpx.Client, method: str, path: str, form: dict[str, str], repeat: int, cold: bool
             ) -> list[float]:
    times = []
    for _ in range(repeat):
        if cold:
            _cold()
        started = time.perf_counter()
        answer = client.request(method, path, data=form if method == "POST" else None)
        times.append((time.perf_counter() - started) * 1000)
        if answer.status_code not in (200, 422):
            raise RuntimeError(f"{method} {path}: {answer.status_code}")
        _finish_job(client, answer.text)
    return times


def _finish_job(client: httpx.Client, page: str) -> None:
    """A what-if answers at once and replays in a process of its own: wait for its result (untimed, as the page
    polls it) so that the next one is not refused as a second simulation of the workspace."""
    job = re.search(r'hx-get="(/rulebooks/what-if/jobs/[^"?]+)', page)
    while job is not None and 'id="job"' in page:
        time.sleep(0.05)
        page = client.get(job.group(1), headers={"HX-Request": "true"}).text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--json-out", type=Path)
    parser.add_argument("--only", default="", help="measure only the pages whose name has this text")
    args = parser.parse_args()
    source = CLINIC.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'demo.db'}"
        started = time.perf_counter()
        email, password = demo_database(url)
        print(f"demo workspace built in {time.perf_counter() - started:.1f}s", file=sys.stderr)
        rows: list[dict[str, Any]] = []
        with serve(url) as base, httpx.Client(base_url=base, timeout=30) as client, \
                httpx.Client(base_url=base, timeout=30) as anonymous:
            found = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
            assert found is not None
            client.post("/login", data={"csrf": found.group(1), "email": email, "password": password})
            token = re.search(r'name="csrf" value="([^"]+)"', client.get("/").text)
            assert token is not None
            forms = {"/rulebooks/upload": {"csrf": token.group(1), "action": "check",
                                           "source": source.replace("min_notice: 12h", "min_notice: soon")},
                     "/rulebooks/what-if": {"csrf": token.group(1),
                                            "source": source.replace("min_notice: 12h", "min_notice: 72h")},
                     # an amount in words: refused at its field, so the repeats store nothing
                     "/record/payment.received": {"csrf": token.group(1), "counterparty": "tom",
                                                  "occurred_at": "2026-06-01T10:00", "amount": "twelve"},
                     # the rule editor: a notice that is no duration (refused, nothing stored); a valid change
                     # checked, its diff shown and its what-if started (the job's time is not the page's)
                     EDIT + "?refused": {"csrf": token.group(1), "action": "save", "y/version": "bench",
                                         "y/rules/late_change/min_notice": "soon"},
                     EDIT + "?preview": {"csrf": token.group(1), "action": "preview", "y/version": "bench",
                                         "y/rules/late_change/min_notice": "72h"}}
            for method, path, name in (p for p in PAGES if args.only in p[2]):
                form = forms.get(path, {})
                who = anonymous if path == "/login" else client
                _measure(who, method, path, form, 2, cold=False)  # templates compiled, connections open
                cold = _measure(who, method, path, form, args.repeat, cold=True)
                warm = _measure(who, method, path, form, args.repeat, cold=False)
                rows.append({"page": name, "method": method, "path": path,
                             "cold_p50": statistics.median(cold), "cold_max": max(cold),
                             "warm_p50": statistics.median(warm), "warm_max": max(warm)})
    print(f"{'page':28} {'cold p50':>9} {'cold max':>9} {'warm p50':>9} {'warm max':>9}  (ms)")
    for r in rows:
        print(f"{r['page']:28} {r['cold_p50']:9.1f} {r['cold_max']:9.1f} {r['warm_p50']:9.1f} {r['warm_max']:9.1f}")
    worst = max(rows, key=lambda r: r["cold_p50"])
    print(f"slowest (cold median): {worst['page']} {worst['cold_p50']:.1f} ms; budget 150 ms", file=sys.stderr)
    if args.json_out:
        args.json_out.write_text(json.dumps(rows, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
