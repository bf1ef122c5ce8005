"""Screenshots of every main page of the web UI at a desktop and a phone width, over the demo workspace.

    .venv/bin/python benchmarks/screenshots.py [--out screenshots] [--lang en|ru|both]

Builds the demo workspace (`firmly demo`'s data) in a temporary SQLite file, runs the server on a loopback
port, logs in with Playwright driving Debian's Chromium and writes PNG files (gitignored) named
PAGE-LANG-WIDTH.png, e.g. dashboard-en-desktop.png. Nothing outside --out is written.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from firmly import bootstrap
from firmly.doors.web.testing import demo_database, launch, serve
from firmly.service import own_page, wallclock

PAGES = (
    ("login", "/login"),
    ("dashboard", "/"),
    ("counterparties", "/counterparties"),
    ("counterparty", "/counterparties/tom"),
    ("counterparty-prepaid", "/counterparties/acme"),
    ("counterparty-partner", "/counterparties/northside"),
    ("review", "/review"),
    ("rulebooks", "/rulebooks"),
    ("rulebook", "/rulebooks/smile/2026-05"),
    ("upload", "/rulebooks/upload"),
    ("what-if", "/rulebooks/what-if?start=smile"),
    ("rule-editor", "/rulebooks/smile/2026-05/edit"),
    ("cost-to-serve", "/reports/cost-to-serve"),
    ("partners", "/reports/partners"),
    ("suppliers", "/reports/suppliers"),
    ("courtesy", "/reports/courtesy"),
    ("public-partner", "/partners/demo/northside"),
    ("start", "/start?business=clinic&preview=1&name=Smile&fee=25&currency=EUR&preset=moderate&notice_hours=12"),
    ("start-events", "/start/events"),
    ("record", "/record"),
    ("record-incident", "/record/incident.reported?key=northside"),
    ("record-counterparty", "/record/counterparty.upserted"),
    ("events-upload", "/events/upload"),
    ("cost-to-serve-sorted", "/reports/cost-to-serve?currency=RUB&sort=-ratio&page=2"),
    ("not-found", "/rulebooks/smile"),
    ("agenda", "/agenda"),
    ("agenda-week", "/agenda?span=week"),
    ("outbox", "/outbox"),
    ("messages", "/messages"),
)
WIDTHS = {"desktop": (1366, 900), "phone": (390, 844)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", type=Path, default=Path("screenshots"), help="folder for the PNGs (gitignored)")
    parser.add_argument("--lang", choices=("en", "ru", "both"), default="both")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    langs = ("en", "ru") if args.lang == "both" else (args.lang,)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'demo.db'}"
        email, password = demo_database(url)
        link = own_page.show_link(bootstrap.store(url, "demo"), "tom", wallclock.now())
        with serve(url) as base, sync_playwright() as pw:
            browser = launch(pw)
            written = 0
            for lang in langs:
                for width, (w, h) in WIDTHS.items():
                    context = browser.new_context(viewport={"width": w, "height": h}, locale=lang,
                                                  device_scale_factor=1, is_mobile=width == "phone")
                    page = context.new_page()
                    page.goto(f"{base}/login")
                    page.screenshot(path=str(args.out / f"login-{lang}-{width}.png"), full_page=True)
                    page.fill("#email", email)
                    page.fill("#password", password)
                    page.click("form[action='/login'] button[type=submit]")
                    page.wait_for_url(f"{base}/")
                    page.click(f"form[action='/lang'] button[value={lang}]")
                    for name, path in PAGES[1:]:
                        page.goto(base + path)
                        page.wait_for_load_state("networkidle")
                        page.screenshot(path=str(args.out / f"{name}-{lang}-{width}.png"), full_page=True)
                        written += 1
                    # the what-if job's page once its result is in (htmx polls the job every second)
                    page.goto(f"{base}/rulebooks/what-if?start=smile")
                    page.click("form[action='/rulebooks/what-if'] button[type=submit]")
                    page.locator("#result").wait_for(timeout=120_000)
                    page.screenshot(path=str(args.out / f"what-if-result-{lang}-{width}.png"), full_page=True)
                    written += 1
                    context.close()
                    # the client's own page, opened with no login from the link its messages end with
                    client = browser.new_context(viewport={"width": w, "height": h}, locale=lang,
                                                 device_scale_factor=1, is_mobile=width == "phone")
                    own = client.new_page()
                    own.goto(f"{base}/my/{link.split('/my/', 1)[1]}?lang={lang}")
                    own.screenshot(path=str(args.out / f"own-page-{lang}-{width}.png"), full_page=True)
                    written += 1
                    client.close()
            browser.close()
    print(f"{written + 2 * len(langs)} screenshots in {args.out}/", file=sys.stderr)


if __name__ == "__main__":
    main()
