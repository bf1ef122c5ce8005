"""`firmly demo`: a workspace filled from one of the examples shipped with firmly."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from firmly.domain.clock import parse_instant
from firmly.domain.errors import FirmlyError
from firmly.domain.ports import Store, UserStore
from firmly.service import clock, ingest, outbox, rulebooks, workspace

EXAMPLES = Path(str(resources.files("firmly") / "examples"))
# A plausible business behind the demo's invoices, by the workspace's language: the Russian one is paid by
# BIK and accounts (Sberbank's real BIK and correspondent account, a made-up settlement account whose check
# digit fits), the English one by IBAN (the IBAN standard's own example number).
SELLER = {
    "ru": {"seller_name": "ООО «Демо-сервис»", "seller_address": "125009, г. Москва, ул. Тверская, д. 7, офис 12",
           "seller_inn": "7707083893", "seller_kpp": "773601001", "seller_bank": "ПАО Сбербанк, г. Москва",
           "seller_bik": "044525225", "seller_account": "40702810938000000001",
           "seller_corr_account": "30101810400000000225"},
    "en": {"seller_name": "Demo Services Ltd", "seller_address": "1 High Street, London EC1A 1AA",
           "seller_vat_id": "GB123456789", "seller_bank": "Demo Bank plc, London",
           "seller_iban": "GB82WEST12345698765432", "seller_swift": "DEMOGB22"},
}


def _seller(store: Store, lang: str) -> None:
    """The demo business's details, so its invoices render; details the workspace already has are kept."""
    have = outbox.settings(store)
    for name, value in SELLER["ru" if lang == "ru" else "en"].items():
        if not have.get(name):
            outbox.set_setting(store, name, value)


def examples() -> list[str]:
    return sorted(p.parent.name for p in EXAMPLES.glob("*/scenario.json"))


@dataclass(frozen=True, slots=True)
class DemoReport:
    example: str
    story: str
    stored: int
    duplicates: int


def demo(store: Store, example: str, now: int) -> DemoReport:
    folder = EXAMPLES / example
    if not (folder / "scenario.json").is_file():
        raise FirmlyError(f"no example {example!r}; choose one of {', '.join(examples())}")
    spec = json.loads((folder / "scenario.json").read_text(encoding="utf-8"))
    book = rulebooks.read(folder / "rulebook.yaml")
    workspace.init(store, book.locale, book.timezone, now)
    _seller(store, book.locale)
    # every rulebook the example's scenario loads (a network has one for partners and one for suppliers)
    loaded = [item["run"][2] for item in spec["items"] if item.get("run", [None])[:2] == ["rulebook", "load"]]
    for name in loaded or ["rulebook.yaml"]:
        rulebooks.load(store, rulebooks.read(folder / name), now)
    report = ingest.ingest(store, ingest.read_file(folder / "events.jsonl"))
    ticks = [item["run"][2] for item in spec["items"] if item.get("run", [None])[0] == "tick"]
    if ticks:
        clock.tick(store, parse_instant(ticks[0]))
    return DemoReport(example, spec.get("story", ""), report.stored, report.duplicates)


# -- the showcase: every example's rulebooks and a few thousand generated events in one workspace --------
SHOWCASE_LOCALE = "en"
SHOWCASE_TIMEZONE = "Europe/London"
# the rulebook that governs each example's clients (the examples' partners and suppliers go by their kind)
CLIENT_BOOKS = {"clinic-en": ["smile"], "agency-ru": ["print-shop"], "studio-en": ["studio"],
                "network-en": ["smile"], "leniency-ru": ["leniency"]}


@dataclass(frozen=True, slots=True)
class ShowcaseReport:
    rulebooks: list[str]
    stored: int
    duplicates: int


def showcase(store: Store, now: int, locale: str | None = None) -> ShowcaseReport:
    """The demo workspace: the examples' rulebooks, their events and the generated ones, the clock ticked to
    the end of June 2026, as if that were today (so the last week's messages wait in the outbox). Safe to run
    again: everything is stored once."""
    from firmly.domain.events import validate  # noqa: PLC0415 - only the showcase validates dicts itself
    from firmly.service import demo_data  # noqa: PLC0415

    workspace.init(store, locale or SHOWCASE_LOCALE, SHOWCASE_TIMEZONE, now)
    _seller(store, locale or SHOWCASE_LOCALE)
    loaded: list[str] = []
    envelopes: list[dict[str, object]] = []
    for example in examples():
        folder = EXAMPLES / example
        spec = json.loads((folder / "scenario.json").read_text(encoding="utf-8"))
        names = [item["run"][2] for item in spec["items"] if item.get("run", [None])[:2] == ["rulebook", "load"]]
        for name in names or ["rulebook.yaml"]:
            book = rulebooks.read(folder / name)
            rulebooks.load(store, book, now)
            loaded.append(f"{book.id}@{book.version}")
        envelopes += _with_rulebooks(_read_jsonl(folder / "events.jsonl"), example)
    envelopes += demo_data.generate()
    envelopes.sort(key=lambda e: parse_instant(e["occurred_at"]))
    parsed: list[ingest.Parsed] = [("demo", n, validate(e)) for n, e in enumerate(envelopes, start=1)]
    today = parse_instant(demo_data.TICK)
    report = ingest.ingest(store, parsed, now=today)
    clock.tick(store, today, now=today)
    return ShowcaseReport(loaded, report.stored, report.duplicates)


def _read_jsonl(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _with_rulebooks(events: list[dict[str, object]], example: str) -> list[dict[str, object]]:
    """An example's events, its clients first told which rulebook governs them: in one workspace with every
    example, a dental patient must not fall under the print shop's rules."""
    kinds: dict[str, str] = {}
    first: dict[str, str] = {}
    for ev in events:
        key, data = str(ev["counterparty"]), ev.get("data")
        if ev["type"] == "counterparty.upserted" and isinstance(data, dict) and "kind" in data:
            kinds.setdefault(key, str(data["kind"]))
        at = str(ev["occurred_at"])
        if key not in first or parse_instant(at) < parse_instant(first[key]):
            first[key] = at
    books = CLIENT_BOOKS.get(example)
    if not books:
        return events
    told: list[dict[str, object]] = [
        {"id": f"demo-{example}-{key}-rulebooks", "type": "counterparty.upserted", "counterparty": key,
         "occurred_at": at, "data": {"rulebooks": books}}
        for key, at in first.items() if kinds.get(key, "client") == "client"]
    return told + events


def login(store: UserStore, password: str | None, now: int) -> tuple[str, str]:
    """The demo's admin login (email, password): a new random password unless one is given."""
    from firmly.service import users  # noqa: PLC0415 - argon2 loads only for the demo's login

    email = f"{store.workspace}@firmly.demo"
    chosen = password or secrets.token_urlsafe(9)
    users.create(store, email, "admin", chosen, now)
    return email, chosen
