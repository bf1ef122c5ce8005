"""`firmly counterparty show | list`, `decisions`, `account show | invoice` and `report`: what the engine
knows of each counterparty, in the reader's words, times and money."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from firmly import bootstrap
from firmly.domain.errors import FirmlyError
from firmly.domain.vocabulary import N_
from firmly.doors.cli.common import (
    Db,
    Json,
    Lang,
    PlainTable,
    Workspace,
    _lang,
    _print_decisions,
    _print_json,
    _reader,
    account_app,
    app,
    counterparty_app,
    friendly,
    out,
)
from firmly.doors.reading import Reader
from firmly.service import (
    accounts,
    explanations,
    invoices,
    queries,
    reports,
    wording,
)


@counterparty_app.command("show")
@friendly
def counterparty_show(key: str, lang: Lang = None, db: Db = None, ws: Workspace = None,
                      as_json: Json = False) -> None:
    """The conduct page of one counterparty."""
    store = bootstrap.store(db, ws)
    page = queries.counterparty(store, key)
    if as_json:
        _print_json(page)
        return
    reader = _reader(store, lang)
    words, titles = explanations.counterparty_words(store, key, _lang(lang))
    tier = escape(reader.say("tier %(tier)s", tier=words.tier(page["tier"])))
    out.print(f"[bold]{escape(page['name'])}[/bold] ({escape(page['key'])}, {escape(words.kind(page['kind']))}, "
              f"{tier}): [bold]{escape(words.status(page['status']))}[/bold]", highlight=False)
    for r in page["restrictions"]:
        out.print("  " + reader.say("%(what)s until %(until)s (%(rule)s)", what=words.action(r["type"]),
                                    until=reader.time(r["until"]), rule=titles.get(r["rule"], r["rule"])),
                  markup=False, highlight=False)
    table = PlainTable(reader.say("rule"), reader.say("strikes"), reader.say("step"), reader.say("kept in a row"),
                       reader.say("broken"), reader.say("kept"))
    for rule_id, r in page["rules"].items():
        table.add_row(titles.get(rule_id, rule_id), str(r["strikes"]), words.action(r["step"]) if r["step"] else "—",
                      str(r["kept_streak"]), str(r["broken"]), str(r["kept"]))
    out.print(table)
    account = page["account"]
    if account is not None:
        cur = account["currency"]
        due = reader.say(", due %(due)s", due=reader.money(account["due"], cur)) if account["due"] != "0.00" else ""
        out.print(reader.say("account: balance %(balance)s", balance=reader.money(account["balance"], cur)) + due,
                  markup=False, highlight=False)
    for name, value in page["scores"].items():  # a flag, a list of event ids, a class: in words, no literals
        out.print(f"{name.replace('_', ' ')}: {words.value(name, value)}", markup=False, highlight=False)


@counterparty_app.command("list")
@friendly
def counterparty_list(kind: Annotated[str | None, typer.Option(help="client, partner or supplier")] = None,
                      status: Annotated[str | None, typer.Option(help="active, restricted, suspended, "
                                                                      "terminated")] = None,
                      db: Db = None, ws: Workspace = None, as_json: Json = False, lang: Lang = None) -> None:
    """Counterparties, with filters."""
    store = bootstrap.store(db, ws)
    rows = queries.counterparties(store, kind, status)
    if as_json:
        _print_json([{"key": r.key, "kind": r.kind, "name": r.name, "tier": r.tier, "status": r.status}
                     for r in rows])
        return
    reader = _reader(store, lang)
    words = wording.words(reader.lang)
    table = PlainTable(*(reader.say(h) for h in (N_("key"), N_("name"), N_("kind"), N_("tier"), N_("status"))))
    for r in rows:
        table.add_row(r.key, r.name, words.kind(r.kind), words.tier(r.tier), words.status(r.status))
    out.print(table)


@app.command("decisions")
@friendly
def decisions_command(counterparty: Annotated[str | None, typer.Option(help="only this counterparty")] = None,
                      rule: Annotated[str | None, typer.Option(help="only this rule")] = None,
                      status: Annotated[str | None, typer.Option(help="only this status")] = None,
                      lang: Lang = None, db: Db = None, ws: Workspace = None, as_json: Json = False) -> None:
    """Decisions, oldest first, each with its explanation (--json: as stored, in the counterparty's language)."""
    store = bootstrap.store(db, ws)
    if as_json:
        _print_json(queries.decisions(store, counterparty, rule, status))
    else:
        _print_decisions(explanations.decisions(store, counterparty, rule, status, _lang(lang)), _reader(store, lang))


# -- accounts -----------------------------------------------------------------------------------
MODES = {"prepaid": N_("prepaid"), "postpaid": N_("postpaid")}  # an account's terms, as people say them


@account_app.command("show")
@friendly
def account_show(key: str, db: Db = None, ws: Workspace = None, as_json: Json = False, lang: Lang = None) -> None:
    """Balance, amount due and the statement of one counterparty's account."""
    store = bootstrap.store(db, ws)
    page = accounts.show(store, key)
    if as_json:
        _print_json(page)
        return
    reader = _reader(store, lang)
    cur = page["currency"]
    figures = reader.say("balance %(balance)s, due %(due)s", balance=reader.money(page["balance"], cur),
                         due=reader.money(page["due"], cur))
    out.print(f"[bold]{escape(page['name'])}[/bold] ({escape(page['key'])}): {escape(figures)}"
              + (f", {escape(reader.say(MODES.get(page['mode'], page['mode'])))}" if page["mode"] else ""),
              highlight=False)
    at, when = reader.column(reader.say("at"), [e["at"] for e in page["entries"]])
    table = PlainTable(at, reader.say("entry"), reader.say("amount"), reader.say("account"), reader.say("event"),
                       reader.say("service"))
    for e, moment in zip(page["entries"], when, strict=True):
        sign = "+" if e["kind"] == "credit" else "−"
        table.add_row(moment, e["memo"], f"{sign}{reader.money(e['amount'], cur)}", e["account"], e["event"],
                      e["service"] or "")
    out.print(table)
    if page["prices"]:
        prices = PlainTable(reader.say("service"), reader.say("title"), reader.say("price"))
        for code, p in page["prices"].items():
            prices.add_row(code, p["title"], reader.money(p["price"], cur) + (" *" if p["special"] else ""))
        out.print(prices)
        out.print(reader.say("* this counterparty's own price"), style="dim", markup=False)


@account_app.command("invoice")
@friendly
def account_invoice(key: str,
                    decision: Annotated[str | None, typer.Option(help="this top-up invoice decision "
                                                                 "(default: the latest)")] = None,
                    fmt: Annotated[str, typer.Option("--format", help="pdf or html")] = "pdf",
                    to: Annotated[Path | None, typer.Option("--out", help="the file to write "
                                                            "(default: invoice-NUMBER.pdf here)")] = None,
                    db: Db = None, ws: Workspace = None) -> None:
    """Write the top-up invoice of a prepaid account as a PDF or HTML document."""
    if fmt not in ("pdf", "html"):
        raise FirmlyError(f"--format must be pdf or html, got {fmt!r}")
    documents = bootstrap.documents()
    inv = invoices.invoice(bootstrap.store(db, ws), key, decision)
    path = to or Path(f"invoice-{inv.number}.{fmt}")
    try:
        if fmt == "pdf":
            path.write_bytes(documents.invoice_pdf(inv))
        else:
            path.write_text(documents.invoice_html(inv), encoding="utf-8")
    except OSError as exc:
        raise FirmlyError(f"cannot write {path}: {exc.strerror}") from None
    reader = Reader(inv.timezone, inv.locale)
    out.print(reader.say("invoice %(number)s for %(amount)s to %(buyer)s: %(path)s", number=inv.number,
                         amount=reader.money(inv.amount, inv.currency), buyer=inv.name, path=path),
              markup=False, highlight=False)


# -- reports ------------------------------------------------------------------------------------
@app.command("report")
@friendly
def report_command(name: Annotated[str, typer.Argument(help="cost-to-serve, partners, suppliers or courtesy")],
                   db: Db = None, ws: Workspace = None, as_json: Json = False,
                   as_csv: Annotated[bool, typer.Option("--csv", help="print CSV")] = False, lang: Lang = None
                   ) -> None:
    """A report over all counterparties: JSON, CSV or a readable table."""
    make = reports.BY_NAME.get(name)
    if make is None:
        raise FirmlyError(f"no report {name!r}; there are: {', '.join(reports.BY_NAME)}")
    store = bootstrap.store(db, ws)
    rows = make(store)
    if as_json:
        _print_json(rows)
        return
    if as_csv:
        reports.write_csv(rows, sys.stdout, " ")
        return
    _print_report(name, rows, _reader(store, lang))


# the figures a person scans in a terminal; the rest of a row goes on an indented line below it
SUMMARY = {
    "cost-to-serve": ("key", "name", "effort_minutes", "revenue", "currency", "ratio", "flagged"),
    "partners": ("key", "name", "karma", "rating", "reviews", "clean_bookings", "incidents", "bonus"),
    "suppliers": ("key", "name", "class", "weighted", "late_deliveries", "incidents", "switching_cost"),
    "courtesy": ("key", "name", "messages", "hostile", "courtesy"),
}


# a report column's header: English words for the catalogues (the keys stay in JSON and CSV)
HEADS = {"key": N_("key"), "name": N_("name"), "effort_minutes": N_("effort, min"), "revenue": N_("revenue"),
         "currency": N_("currency"), "ratio": N_("ratio"), "flagged": N_("flagged"), "karma": N_("karma"),
         "rating": N_("rating"), "reviews": N_("reviews"), "clean_bookings": N_("clean bookings"),
         "incidents": N_("incidents"), "bonus": N_("bonus"), "class": N_("class"), "weighted": N_("weighted"),
         "late_deliveries": N_("late deliveries"), "switching_cost": N_("switching cost"),
         "messages": N_("messages"), "hostile": N_("hostile"), "courtesy": N_("courtesy")}
MONEY_COLUMNS = ("revenue",)  # amounts whose row names their currency
_DECIMAL = re.compile(r"-?[0-9]+\.[0-9]+")


def _why(name: str, row: dict[str, Any]) -> str:
    if name == "cost-to-serve":
        b = row["breakdown"]
        parts = [f"{k} ×{v}" for k, v in {**b["by_service"], **b["by_topic"]}.items()]
        parts += [f"off-channel ×{b['off_channel']}"] if b["off_channel"] else []
        parts += [f"out of tariff {b['out_of_tariff_minutes']} min"] if b["out_of_tariff_minutes"] else []
        return ", ".join(parts)
    if name == "suppliers" and row["reason"]:
        return f"{row['reason']} ({', '.join(row['evidence'])})" if row["evidence"] else row["reason"]
    return ""


def _figure(value: Any, column: str, row: dict[str, Any], reader: Reader) -> str:
    """A report's cell as a person reads it: money with its currency sign, numbers as the language writes
    them, yes/no rather than True/False (the CSV and JSON keep the values as they are)."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return reader.say("yes") if value else reader.say("no")
    if column in MONEY_COLUMNS and row.get("currency"):
        return reader.money(str(value), str(row["currency"]))
    if isinstance(value, int | float) or (isinstance(value, str) and _DECIMAL.fullmatch(value)):
        return reader.number(value)
    return str(value)


def _print_report(name: str, rows: list[dict[str, Any]], reader: Reader) -> None:
    if not rows:
        out.print(reader.say("no counterparties"))
        return
    columns = [c for c in SUMMARY.get(name) or tuple(rows[0])
               if not (c == "currency" and any(m in rows[0] for m in MONEY_COLUMNS))]  # said by the sign
    table = PlainTable(*(reader.say(HEADS.get(c, c.replace("_", " "))) for c in columns), show_lines=False)
    for r in rows:
        table.add_row(*(_figure(r.get(c), c, r, reader) for c in columns))
    out.print(table)
    notes = [(r["key"], _why(name, r)) for r in rows]
    for key, note in notes:
        if note:
            out.print(f"  [bold]{escape(key)}[/bold]: {escape(note)}", highlight=False)
