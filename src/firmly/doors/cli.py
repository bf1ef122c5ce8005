"""`firmly`: the command line. Parses, calls one use case, prints a table or JSON.

Exit codes: 0 success, 1 the input was wrong (the message says which and where), 2 usage.
"""

from __future__ import annotations

import errno
import functools
import getpass
import json
import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from firmly import bootstrap, config, redact
from firmly.domain.clock import TimeError, iso, parse_instant
from firmly.domain.errors import FirmlyError, InvalidInput, StorageError, StorageFull, ValueRefused
from firmly.domain.render import render_html, render_markdown
from firmly.doors.catalogues import LOCALES, problem_text
from firmly.doors.reading import Reader
from firmly.service import (
    accounts,
    bulk,
    clock,
    demo,
    explanations,
    ingest,
    invoices,
    outbox,
    queries,
    replay,
    reports,
    review,
    rulebooks,
    simulate,
    tokens,
    tone,
    wallclock,
    wording,
    workspace,
)

app = typer.Typer(help="firmly — polite, but firm. A conduct engine for clients, partners and suppliers.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
rulebook_app = typer.Typer(help="Check, load and render rulebooks.", no_args_is_help=True)
counterparty_app = typer.Typer(help="Counterparties and their conduct.", no_args_is_help=True)
review_app = typer.Typer(help="The review queue: proposals that wait for a person.", no_args_is_help=True)
account_app = typer.Typer(help="Prepaid accounts: balance, statement, invoices.", no_args_is_help=True)
outbox_app = typer.Typer(help="Messages waiting to go out, sent, or failed.", no_args_is_help=True)
workspace_app = typer.Typer(help="Workspace settings: sender, signature, quiet hours, webhooks.", no_args_is_help=True)
webhook_app = typer.Typer(help="Decisions pushed to your systems as Standard Webhooks.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens: each belongs to one workspace and has a role.", no_args_is_help=True)
app.add_typer(rulebook_app, name="rulebook")
app.add_typer(counterparty_app, name="counterparty")
app.add_typer(review_app, name="review")
app.add_typer(account_app, name="account")
app.add_typer(token_app, name="token")
app.add_typer(outbox_app, name="outbox")
app.add_typer(workspace_app, name="workspace")
app.add_typer(webhook_app, name="webhook")

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

Db = Annotated[str | None, typer.Option("--db", help=f"database URL [env: {config.DATABASE_URL.env}]",
                                         show_default=False)]
Workspace = Annotated[str | None, typer.Option("--workspace", "-w", show_default=False,
                                                help=f"workspace [env: {config.WORKSPACE.env}]")]
Json = Annotated[bool, typer.Option("--json", help="print JSON instead of a table")]
Lang = Annotated[str | None, typer.Option("--lang", show_default=False,
                                          help="the language of messages: ru or en (default: the workspace's)")]
F = TypeVar("F", bound=Callable[..., Any])


class PlainTable(Table):
    """A table whose cells are text as it is: data never becomes Rich markup (a name like `Evil [/bold]`)."""

    def add_row(self, *cells: Any, **options: Any) -> None:
        super().add_row(*(Text(c) if isinstance(c, str) else c for c in cells), **options)


DISK_FULL = "the disk is full: what was stored before is kept; free some space and run the command again"


def friendly(func: F) -> F:
    """Bad input is a message and exit 1, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except InvalidInput as exc:
            for problem in exc.problems:
                err.print(str(problem), markup=False, highlight=False)
            raise typer.Exit(1) from None
        except (StorageError, ValueRefused) as exc:
            cause = DISK_FULL if isinstance(exc, StorageFull) else str(exc)
            where = "".join(f" ({note})" for note in getattr(exc, "__notes__", ()))  # which lines, from ingest
            err.print(f"database error: {redact.text(cause)}{where}", markup=False, highlight=False)
            raise typer.Exit(1) from None
        except FirmlyError as exc:
            err.print(f"error: {redact.text(str(exc))}", markup=False, highlight=False)
            raise typer.Exit(1) from None
        except OSError as exc:  # a file that cannot be written or read: a full disk, a missing directory
            where = f" ({exc.filename})" if exc.filename else ""
            said = DISK_FULL if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
            err.print(f"error: {redact.text(said)}{where}", markup=False, highlight=False)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")


def _instant(value: str, option: str) -> int:
    try:
        return parse_instant(value)
    except TimeError as exc:
        raise FirmlyError(f"{option}: {exc}") from None


def _now() -> int:
    return wallclock.now()  # the system clock, or FIRMLY_NOW


def _reader(store: Any) -> Reader:
    """How the workspace's people read times and money: its zone and its language."""
    info = workspace.info(store)
    return Reader(info.timezone, info.locale)


# -- init ---------------------------------------------------------------------------------------
@app.command()
@friendly
def init(locale: Annotated[str | None, typer.Option(help="the workspace's default language: ru or en")] = None,
         timezone: Annotated[str | None, typer.Option(help="the workspace's time zone, e.g. Europe/Moscow")] = None,
         db: Db = None, ws: Workspace = None) -> None:
    """Create or upgrade the database and the workspace; safe to run again."""
    if locale is not None and locale not in ("ru", "en"):
        raise FirmlyError(f"--locale must be ru or en, got {locale!r}")
    store = bootstrap.store(db, ws)
    info = workspace.init(store, locale, timezone, _now())
    out.print(f"workspace [bold]{escape(info.id)}[/bold] is ready ({escape(info.locale)}, {escape(info.timezone)})")


# -- rulebooks ----------------------------------------------------------------------------------
def _show_warnings(book: Any) -> None:
    for warning in book.warnings:
        err.print(f"warning: {warning}", markup=False, highlight=False)


def _reader_language(lang: str | None, db: str | None, ws: str | None) -> str:
    """--lang, else the workspace's language where there is a workspace, else English."""
    if lang is not None:
        if lang not in LOCALES:
            raise FirmlyError(f"--lang must be ru or en, got {lang!r}")
        return lang
    url = config.DATABASE_URL.value(db)
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        return "en"  # no database here to take a language from, and a check creates none
    try:
        return workspace.language(bootstrap.store(db, ws)) or "en"
    except FirmlyError:  # a database not initialised, or out of reach: the check goes on
        return "en"


@rulebook_app.command("check")
@friendly
def rulebook_check(file: Path,
                   lang: Annotated[str | None, typer.Option(help="ru or en (default: the workspace's)")] = None,
                   db: Db = None, ws: Workspace = None) -> None:
    """Validate a rulebook: exit 0, or 1 with each problem as FILE:LINE: field: message, in the reader's language."""
    language = _reader_language(lang, db, ws)
    try:
        book = rulebooks.read(file)
    except InvalidInput as exc:
        for problem in exc.problems:
            err.print(problem_text(problem, language), markup=False, highlight=False)
        raise typer.Exit(1) from None
    for warning in book.warnings:
        err.print(f"warning: {problem_text(warning, language)}", markup=False, highlight=False)
    out.print(f"{file}: rulebook {book.id} version {book.version} is valid "
              f"({len(book.rules)} rules, {len(book.ladders)} ladders)", markup=False, highlight=False)


@rulebook_app.command("load")
@friendly
def rulebook_load(file: Path, db: Db = None, ws: Workspace = None, as_json: Json = False) -> None:
    """Validate and store a new version of a rulebook."""
    book = rulebooks.read(file)
    _show_warnings(book)
    loaded = rulebooks.load(bootstrap.store(db, ws), book, _now())
    if as_json:
        _print_json({"id": loaded.id, "version": loaded.version, "hash": loaded.hash, "new": loaded.new})
        return
    state = "loaded" if loaded.new else "already loaded, unchanged"
    note = "; stored events replayed under it" if loaded.replayed else ""
    out.print(f"{loaded.id} {loaded.version} {loaded.hash[:12]} {state}{note}", markup=False, highlight=False)


@rulebook_app.command("list")
@friendly
def rulebook_list(db: Db = None, ws: Workspace = None, as_json: Json = False) -> None:
    """Every loaded version of every rulebook, with its hash and when it took effect."""
    store = bootstrap.store(db, ws)
    versions = rulebooks.stored(store)
    rows = [{"id": v.id, "version": v.version, "hash": v.hash, "loaded_at": iso(v.loaded_at),
             "effective_from": iso(v.effective_from) if v.effective_from is not None else None}
            for v in versions]
    if as_json:
        _print_json(rows)
        return
    reader = _reader(store)
    loaded, when_loaded = reader.column("loaded", [v.loaded_at for v in versions])
    start, when_start = reader.column("in force from", [v.effective_from for v in versions], "the beginning")
    table = PlainTable("rulebook", "version", "hash", loaded, start)
    for r, at, since in zip(rows, when_loaded, when_start, strict=True):
        table.add_row(str(r["id"]), str(r["version"]), str(r["hash"])[:12], at, since)
    out.print(table)


@rulebook_app.command("render")
@friendly
def rulebook_render(file: Path,
                    fmt: Annotated[str, typer.Option("--format", help="md, html or pdf")] = "md",
                    lang: Annotated[str | None, typer.Option(help="ru or en (default: the rulebook's)")] = None,
                    output: Annotated[Path | None, typer.Option("-o", "--output", help="write to a file")] = None,
                    ) -> None:
    """The rules of cooperation as people read them: the appendix to a contract."""
    if lang is not None and lang not in ("ru", "en"):
        raise FirmlyError(f"--lang must be ru or en, got {lang!r}")
    if fmt not in ("md", "html", "pdf"):
        raise FirmlyError(f"--format must be md, html or pdf, got {fmt!r}")
    book = rulebooks.read(file)  # a broken rulebook is reported as FILE:LINE before anything is drawn
    if fmt == "pdf":
        # A PDF goes to a file, or down a pipe (`> appendix.pdf`, `| lp`); never as bytes onto a terminal.
        if output is None and sys.stdout.isatty():
            raise FirmlyError("a PDF cannot be shown on a terminal: add -o FILE.pdf (or redirect the output)")
        pdf = bootstrap.documents().html_to_pdf(render_html(book, lang, wording.translator(lang or book.locale)))
        if output is not None:
            output.write_bytes(pdf)
            err.print(f"written {output}", markup=False, highlight=False)
        else:
            sys.stdout.buffer.write(pdf)
            sys.stdout.flush()
        return
    translator = wording.translator(lang or book.locale)
    text = render_markdown(book, lang, translator) if fmt == "md" else render_html(book, lang, translator)
    if output is not None:
        output.write_text(text, encoding="utf-8")
        err.print(f"written {output}", markup=False, highlight=False)
    else:
        sys.stdout.write(text)


# -- events -------------------------------------------------------------------------------------
@app.command("ingest")
@friendly
def ingest_command(files: Annotated[list[Path], typer.Argument(help=".jsonl or .csv files of events "
                                                                 "(a CSV's cells split by , or ;)")],
                   db: Db = None, ws: Workspace = None, as_json: Json = False, lang: Lang = None) -> None:
    """Store events and decide on them; bad lines are reported by line and field, good ones stored."""
    if lang is not None and lang not in ("ru", "en"):
        raise FirmlyError(f"--lang must be ru or en, got {lang!r}")
    for file in files:
        if not file.is_file():
            raise FirmlyError(f"no such file: {file}")
    store = bootstrap.store(db, ws)

    def parsed() -> Iterator[ingest.Parsed]:
        for file in files:
            yield from ingest.read_file(file)

    if err.is_terminal and not as_json:
        total = sum(sum(1 for line in f.open("rb") if line.strip()) for f in files)
        columns = (TextColumn("ingesting"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, console=err, transient=True) as bar:
            task = bar.add_task("ingest", total=total)
            with bulk.quiet_gc():
                report = ingest.ingest(store, parsed(), progress=lambda n: bar.advance(task, n))
    else:
        with bulk.quiet_gc():
            report = ingest.ingest(store, parsed())
    if as_json:
        _print_json(report.as_dict())
    else:
        out.print(f"stored {report.stored}, duplicates {report.duplicates}, rejected {len(report.rejected)}, "
                  f"decisions {report.decisions}", highlight=False)
        _print_rejections(report.rejected, lang or workspace.info(store).locale)
    if report.rejected:
        raise typer.Exit(1)


def _print_rejections(rejected: list[ingest.Rejection], lang: str) -> None:
    """Each refused line as FILE line N: field: message, the message in the reader's language."""
    if not rejected:
        return
    from firmly.doors.web.i18n import translations  # noqa: PLC0415 - the catalogues load only to refuse lines

    gettext = translations(lang).gettext
    for rejection in rejected:
        err.print(f"rejected: {rejection.in_language(gettext)}", markup=False, highlight=False)


@app.command("tick")
@friendly
def tick_command(as_of: Annotated[str | None, typer.Option(
                     "--as-of", help="RFC 3339 time, at most FIRMLY_FUTURE_HORIZON ahead (default: now)")] = None,
                 db: Db = None, ws: Workspace = None, as_json: Json = False) -> None:
    """Advance the engine clock: fire deadlines, expiries and due reminders."""
    moment = _instant(as_of, "--as-of") if as_of else _now()
    store = bootstrap.store(db, ws)
    report = clock.tick(store, moment)
    if as_json:
        _print_json({"as_of": iso(report.as_of), "counterparties": report.woken, "decisions": report.decisions})
    else:
        out.print(f"clock at {_reader(store).time(report.as_of)}: {report.woken} counterparties woken, "
                  f"{report.decisions} decisions", highlight=False)


# -- reading ------------------------------------------------------------------------------------
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
    reader = _reader(store)
    words, titles = explanations.counterparty_words(store, key, _lang(lang))
    out.print(f"[bold]{escape(page['name'])}[/bold] ({escape(page['key'])}, {escape(words.kind(page['kind']))}, "
              f"tier {escape(words.tier(page['tier']))}): [bold]{escape(words.status(page['status']))}[/bold]",
              highlight=False)
    for r in page["restrictions"]:
        out.print(f"  {words.action(r['type'])} until {reader.time(r['until'])} ({titles.get(r['rule'], r['rule'])})",
                  markup=False, highlight=False)
    table = PlainTable("rule", "strikes", "step", "kept in a row", "broken", "kept")
    for rule_id, r in page["rules"].items():
        table.add_row(titles.get(rule_id, rule_id), str(r["strikes"]), words.action(r["step"]) if r["step"] else "—",
                      str(r["kept_streak"]), str(r["broken"]), str(r["kept"]))
    out.print(table)
    account = page["account"]
    if account is not None:
        cur = account["currency"]
        due = f", due {reader.money(account['due'], cur)}" if account["due"] != "0.00" else ""
        out.print(f"account: balance {reader.money(account['balance'], cur)}{due}", markup=False, highlight=False)
    for name, value in page["scores"].items():  # a flag, a list of event ids, a class: in words, no literals
        out.print(f"{name.replace('_', ' ')}: {words.value(name, value)}", markup=False, highlight=False)


# -- accounts -----------------------------------------------------------------------------------
@account_app.command("show")
@friendly
def account_show(key: str, db: Db = None, ws: Workspace = None, as_json: Json = False) -> None:
    """Balance, amount due and the statement of one counterparty's account."""
    store = bootstrap.store(db, ws)
    page = accounts.show(store, key)
    if as_json:
        _print_json(page)
        return
    reader = _reader(store)
    cur = page["currency"]
    out.print(f"[bold]{escape(page['name'])}[/bold] ({escape(page['key'])}): "
              f"balance [bold]{escape(reader.money(page['balance'], cur))}[/bold], "
              f"due {escape(reader.money(page['due'], cur))}"
              + (f", {escape(page['mode'])}" if page["mode"] else ""), highlight=False)
    at, when = reader.column("at", [e["at"] for e in page["entries"]])
    table = PlainTable(at, "entry", "amount", "account", "event", "service")
    for e, moment in zip(page["entries"], when, strict=True):
        sign = "+" if e["kind"] == "credit" else "−"
        table.add_row(moment, e["memo"], f"{sign}{reader.money(e['amount'], cur)}", e["account"], e["event"],
                      e["service"] or "")
    out.print(table)
    if page["prices"]:
        prices = PlainTable("service", "title", "price")
        for code, p in page["prices"].items():
            prices.add_row(code, p["title"], reader.money(p["price"], cur) + (" *" if p["special"] else ""))
        out.print(prices)
        out.print("* this counterparty's own price", style="dim")


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
    amount = Reader(inv.timezone, inv.locale).money(inv.amount, inv.currency)
    out.print(f"invoice {inv.number} for {amount} to {inv.name}: {path}", markup=False, highlight=False)


# -- reports ------------------------------------------------------------------------------------
@app.command("report")
@friendly
def report_command(name: Annotated[str, typer.Argument(help="cost-to-serve, partners, suppliers or courtesy")],
                   db: Db = None, ws: Workspace = None, as_json: Json = False,
                   as_csv: Annotated[bool, typer.Option("--csv", help="print CSV")] = False) -> None:
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
    _print_report(name, rows, _reader(store))


# the figures a person scans in a terminal; the rest of a row goes on an indented line below it
SUMMARY = {
    "cost-to-serve": ("key", "name", "effort_minutes", "revenue", "currency", "ratio", "flagged"),
    "partners": ("key", "name", "karma", "rating", "reviews", "clean_bookings", "incidents", "bonus"),
    "suppliers": ("key", "name", "class", "weighted", "late_deliveries", "incidents", "switching_cost"),
    "courtesy": ("key", "name", "messages", "hostile", "courtesy"),
}


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
        return "yes" if value else "no"
    if column in MONEY_COLUMNS and row.get("currency"):
        return reader.money(str(value), str(row["currency"]))
    if isinstance(value, int | float) or (isinstance(value, str) and _DECIMAL.fullmatch(value)):
        return reader.number(value)
    return str(value)


def _print_report(name: str, rows: list[dict[str, Any]], reader: Reader) -> None:
    if not rows:
        out.print("no counterparties")
        return
    columns = [c for c in SUMMARY.get(name) or tuple(rows[0])
               if not (c == "currency" and any(m in rows[0] for m in MONEY_COLUMNS))]  # said by the sign
    table = PlainTable(*(c.replace("_", " ") for c in columns), show_lines=False)
    for r in rows:
        table.add_row(*(_figure(r.get(c), c, r, reader) for c in columns))
    out.print(table)
    notes = [(r["key"], _why(name, r)) for r in rows]
    for key, note in notes:
        if note:
            out.print(f"  [bold]{escape(key)}[/bold]: {escape(note)}", highlight=False)


@counterparty_app.command("list")
@friendly
def counterparty_list(kind: Annotated[str | None, typer.Option(help="client, partner or supplier")] = None,
                      status: Annotated[str | None, typer.Option(help="active, restricted, suspended, "
                                                                      "terminated")] = None,
                      db: Db = None, ws: Workspace = None, as_json: Json = False) -> None:
    """Counterparties, with filters."""
    rows = queries.counterparties(bootstrap.store(db, ws), kind, status)
    if as_json:
        _print_json([{"key": r.key, "kind": r.kind, "name": r.name, "tier": r.tier, "status": r.status}
                     for r in rows])
        return
    table = PlainTable("key", "name", "kind", "tier", "status")
    for r in rows:
        table.add_row(r.key, r.name, r.kind, r.tier, r.status)
    out.print(table)


def _lang(lang: str | None) -> str | None:
    if lang is not None and lang not in LOCALES:
        raise FirmlyError(f"--lang must be ru or en, got {lang!r}")
    return lang


def _print_decisions(rows: list[dict[str, Any]], reader: Reader) -> None:
    """One decision per line with its explanation indented below: readable at any terminal width."""
    if not rows:
        out.print("no decisions")
    for r in rows:
        amount = f" {reader.money(r['amount'], r['currency'])}" if r["amount"] and r["currency"] else ""
        rule = r["rule_title"] or r["rule"] or "—"  # a rule no longer in force keeps its id
        out.print(f"{reader.time(r['at'])}  [bold]{escape(r['counterparty'])}[/bold]  "
                  f"{escape(rule)}  [bold]{escape(r['action_name'])}[/bold]{escape(amount)}  "
                  f"{escape(r['status_name'])}  [dim]{escape(r['id'])}[/dim]", highlight=False)
        out.print(f"    {r['explanation']}", markup=False, highlight=False)


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
        _print_decisions(explanations.decisions(store, counterparty, rule, status, _lang(lang)), _reader(store))


# -- the review queue ---------------------------------------------------------------------------
Reason = Annotated[str, typer.Option("--reason", help="why: kept in the audit log")]


def _author() -> str:
    return config.AUTHOR.value() or getpass.getuser()


@review_app.command("list")
@friendly
def review_list(lang: Lang = None, db: Db = None, ws: Workspace = None, as_json: Json = False) -> None:
    """Proposals waiting for a person."""
    store = bootstrap.store(db, ws)
    if as_json:
        _print_json([queries.public(r) for r in review.pending(store)])
    else:
        _print_decisions(explanations.for_reader(store, review.pending(store), _lang(lang)), _reader(store))


# an act on the queue by the status it leaves the decision in, which the vocabulary names
ACTED = {"approve": "approved", "soften": "softened", "dismiss": "dismissed", "reopen": "proposed"}


@review_app.command("log")
@friendly
def review_log(counterparty: Annotated[str | None, typer.Option(help="only this counterparty")] = None,
               lang: Lang = None, db: Db = None, ws: Workspace = None, as_json: Json = False) -> None:
    """The audit log: every act on the review queue with its author and reason."""
    store = bootstrap.store(db, ws)
    rows = review.log(store, counterparty)
    if as_json:
        _print_json(rows)
        return
    reader = _reader(store)
    words = explanations.workspace_words(store, _lang(lang) or reader.lang)
    acted_header, acted = reader.column("acted at", [r["acted_at"] for r in rows])
    at, when = reader.column("engine time", [r["at"] for r in rows])
    table = PlainTable(acted_header, at, "counterparty", "decision", "act", "author", "reason")
    for r, person, moment in zip(rows, acted, when, strict=True):
        done = words.status(ACTED.get(r["act"], r["act"]))
        act = f"{done} to step {r['step']}" if r["step"] else done
        table.add_row(person, moment, r["counterparty"], r["decision"], act, r["author"], r["reason"])
    out.print(table)


def _act(decision: str, act: str, reason: str, db: str | None, ws: str | None, step: int | None,
         as_json: bool) -> None:
    row = review.act(bootstrap.store(db, ws), decision, act, reason, _author(), step)
    if as_json:
        _print_json(queries.public(row))
    elif act == "reinstate":
        out.print(f"{decision}: the relationship with {row['counterparty']} is reinstated ({row['id']})",
                  markup=False, highlight=False)
    else:
        out.print(f"{decision}: {row['action']} is now {row['status']}", markup=False, highlight=False)


@review_app.command("approve")
@friendly
def review_approve(decision: str, reason: Reason, db: Db = None, ws: Workspace = None, as_json: Json = False
                   ) -> None:
    """Approve a proposed step; it applies from the engine clock's current time."""
    _act(decision, "approve", reason, db, ws, None, as_json)


@review_app.command("soften")
@friendly
def review_soften(decision: str, reason: Reason,
                  step: Annotated[int, typer.Option("--step", help="the lower ladder step to apply (1 = first)")],
                  db: Db = None, ws: Workspace = None, as_json: Json = False) -> None:
    """Apply a lower step of the ladder instead of the proposed one."""
    _act(decision, "soften", reason, db, ws, step, as_json)


@review_app.command("dismiss")
@friendly
def review_dismiss(decision: str, reason: Reason, db: Db = None, ws: Workspace = None, as_json: Json = False
                   ) -> None:
    """Do not apply a proposed step."""
    _act(decision, "dismiss", reason, db, ws, None, as_json)


@review_app.command("reopen")
@friendly
def review_reopen(decision: str, reason: Reason, db: Db = None, ws: Workspace = None, as_json: Json = False
                  ) -> None:
    """Put a dismissed proposal back in the queue, to be decided again."""
    _act(decision, "reopen", reason, db, ws, None, as_json)


@review_app.command("reinstate")
@friendly
def review_reinstate(decision: str, reason: Reason, db: Db = None, ws: Workspace = None, as_json: Json = False
                     ) -> None:
    """Reinstate the relationship that the termination DECISION ended."""
    _act(decision, "reinstate", reason, db, ws, None, as_json)


# -- history ------------------------------------------------------------------------------------
@app.command("replay")
@friendly
def replay_command(db: Db = None, ws: Workspace = None, as_json: Json = False) -> None:
    """Rebuild all derived state (strikes, status, decisions) from the event log."""
    with err.status("replaying the event log…") if err.is_terminal and not as_json else nullcontext(), \
            bulk.quiet_gc():
        report = replay.replay(bootstrap.store(db, ws))
    if as_json:
        _print_json({"events": report.events, "counterparties": report.counterparties,
                     "decisions": report.decisions, "rewritten": report.rewritten})
    else:
        out.print(f"replayed {report.events} events: {report.counterparties} counterparties, "
                  f"{report.decisions} decisions, {report.rewritten} of them changed", highlight=False)


@app.command("simulate")
@friendly
def simulate_command(rulebook: Annotated[Path, typer.Option("--rulebook", help="the changed rulebook")],
                     since: Annotated[str | None, typer.Option(help="count decisions from this time")] = None,
                     until: Annotated[str | None, typer.Option(help="count decisions up to this time")] = None,
                     db: Db = None, ws: Workspace = None, as_json: Json = False) -> None:
    """What would change under another rulebook: replayed in memory, nothing stored."""
    book = rulebooks.read(rulebook)
    with err.status("replaying history under the changed rulebook…") if err.is_terminal and not as_json \
            else nullcontext(), bulk.quiet_gc():
        result = simulate.simulate(bootstrap.store(db, ws), book,
                                   _instant(since, "--since") if since else None,
                                   _instant(until, "--until") if until else None)
    if as_json:
        _print_json(result)
        return
    table = PlainTable("action", "current", "simulated", "change")
    for action, counts in result["totals"].items():
        delta = counts["simulated"] - counts["current"]
        table.add_row(action, str(counts["current"]), str(counts["simulated"]), f"{delta:+d}" if delta else "")
    out.print(f"under {result['rulebook']} ({result['governed']} counterparties governed):", markup=False,
              highlight=False)
    out.print(table)
    for currency, actions in result["money"].items():
        money = PlainTable("action", f"current {currency}", f"simulated {currency}", "change")
        for action, m in actions.items():
            money.add_row(action, m["current"], m["simulated"], "" if m["change"] == "0" else m["change"])
        out.print(money)
    out.print(f"{len(result['counterparties'])} counterparties would be treated differently")


# -- tone -----------------------------------------------------------------------------------------
@app.command("tone")
@friendly
def tone_command(text: Annotated[str | None, typer.Argument(help="the message to analyse")] = None,
                 file: Annotated[str | None, typer.Option("--file", help="read every message of a .jsonl (text, "
                                                           "lang, id) or text file, - for stdin")] = None,
                 as_json: Json = False) -> None:
    """How firmly reads a message: polite, neutral or hostile, and the phrases that decided it."""
    if (text is None) == (file is None):
        raise FirmlyError("give either a TEXT or --file FILE")
    if file is not None:
        from firmly.doors import tone_file  # noqa: PLC0415 - only the batch reading needs it
        if tone_file.read_file(file, tone.text_tone, sys.stdout, err):
            raise typer.Exit(1)
        return
    assert text is not None
    found = tone.text_tone(text)
    if as_json:
        _print_json({"tone": found.tone, "kinds": list(found.kinds), "phrases": list(found.phrases),
                     "polite": list(found.polite), "language": found.language})
        return
    colour = {"hostile": "red", "polite": "green"}.get(found.tone, "default")
    out.print(f"[bold {colour}]{escape(found.tone)}[/bold {colour}] ({escape(found.language)})", highlight=False)
    if found.kinds:
        out.print(f"  hostility: {', '.join(found.kinds)}", markup=False, highlight=False)
    for phrase in found.phrases:
        out.print(f"  «{phrase}»", markup=False, highlight=False)
    if found.polite:
        out.print(f"  courtesy markers: {', '.join(found.polite)}", markup=False, highlight=False)


# -- messages: the worker, the outbox, settings ------------------------------------------------------
@app.command("worker")
@friendly
def worker_command(once: Annotated[bool, typer.Option(help="one round, then exit")] = False,
                   as_of: Annotated[str | None, typer.Option(help="use this time instead of the wall clock "
                                                             "(with --once: a test or a catch-up)")] = None,
                   interval: Annotated[float | None, typer.Option(
                       help=f"seconds between rounds [env: {config.WORKER_INTERVAL.env}]")] = None,
                   db: Db = None) -> None:
    """Fire the clock (reminders, deadlines, expiries) and send the outbox, every few seconds."""
    from firmly.doors import worker as loop  # noqa: PLC0415 - the senders load only for the worker

    def report(done: Any) -> None:
        if done.sent or done.failed or done.retried or done.deferred or done.taken or once:
            taken = f", {done.taken} taken over by another worker" if done.taken else ""
            err.print(f"{iso(_now())[:19]}  woken {done.woken}, sent {done.sent}, deferred {done.deferred}, "
                      f"retrying {done.retried}, failed {done.failed}{taken}", highlight=False)
        for line in done.errors[:5]:
            err.print(f"  {line}", markup=False, highlight=False)

    loop.run(db, interval if interval is not None else float(config.WORKER_INTERVAL.value()), once,
             _instant(as_of, "--as-of") if as_of else None, report)


@outbox_app.command("list")
@friendly
def outbox_list(status: Annotated[str | None, typer.Option(help="pending, sending, sent or failed")] = None,
                lang: Lang = None, db: Db = None, ws: Workspace = None, as_json: Json = False) -> None:
    """The workspace's messages, the next due first."""
    store = bootstrap.store(db, ws)
    rows: list[dict[str, Any]] = [{"id": r.id, "decision": r.decision, "counterparty": r.counterparty,
                                   "channel": r.channel,
             "recipient": redact.url(r.recipient), "subject": r.subject, "status": r.status, "attempts": r.attempts,
             "next_at": iso(r.next_at), "sent_at": iso(r.sent_at) if r.sent_at else None,
             "error": redact.text(r.error) if r.error else None}  # a webhook URL's password stays hidden
            for r in outbox.listed(store, status)]
    if as_json:
        _print_json(rows)
        return
    if not rows:
        out.print("no messages")
    reader = _reader(store)
    words = wording.words(_lang(lang) or reader.lang)
    for r in rows:  # one line each, the error below: readable at any terminal width
        when = reader.time(r["sent_at"] or r["next_at"])
        out.print(f"{when}  [bold]{escape(words.status(r['status']))}[/bold]  {escape(words.channel(r['channel']))} → "
                  f"{escape(r['recipient'])}  "
                  f"{escape(r['subject'])}  [dim]{escape(r['id'])} ×{r['attempts']}[/dim]", highlight=False)
        if r["error"]:
            out.print(f"    {r['error']}", markup=False, highlight=False)


@outbox_app.command("retry")
@friendly
def outbox_retry(message: Annotated[str | None, typer.Argument(help="one failed message (default: all)")] = None,
                 db: Db = None, ws: Workspace = None) -> None:
    """Send failed messages again."""
    from firmly.service import worker  # noqa: PLC0415

    n = worker.retry(bootstrap.store(db, ws), message, _now())
    if message and not n:
        raise FirmlyError(f"no failed message {message!r}")
    out.print(f"{n} message(s) will be sent again")


@workspace_app.command("set")
@friendly
def workspace_set(name: Annotated[str, typer.Argument(help=", ".join(outbox.SETTINGS))],
                  value: Annotated[str | None, typer.Argument(help="the value; @FILE reads it from a file; "
                                                              "leave out to remove")] = None,
                  db: Db = None, ws: Workspace = None) -> None:
    """Change a workspace setting."""
    if value is not None and value.startswith("@"):
        try:
            value = Path(value[1:]).read_text(encoding="utf-8")
        except OSError as exc:
            raise FirmlyError(f"cannot read {value[1:]}: {exc.strerror}") from None
    outbox.set_setting(bootstrap.store(db, ws), name, value)
    out.print(f"{name} {'set' if value is not None else 'removed'}", markup=False, highlight=False)


@workspace_app.command("show")
@friendly
def workspace_show(db: Db = None, ws: Workspace = None, as_json: Json = False) -> None:
    """The workspace's settings."""
    found = outbox.settings(bootstrap.store(db, ws))
    shown = {k: "whsec_…" if k == "webhook_secret" else redact.url(v) if k == "webhook_url" else v
             for k, v in found.items()}
    if as_json:
        _print_json(shown)
        return
    table = PlainTable("setting", "value", "what it is")
    for name, help_text in outbox.SETTINGS.items():
        table.add_row(name, shown.get(name, "—"), help_text)
    out.print(table)


@webhook_app.command("secret")
@friendly
def webhook_secret(db: Db = None, ws: Workspace = None) -> None:
    """Make a new signing secret for the workspace's webhooks and print it once for the receiver."""
    secret = bootstrap.webhook_secret()
    outbox.set_setting(bootstrap.store(db, ws), "webhook_secret", secret)
    err.print("the receiver verifies webhooks with this secret (Standard Webhooks); keep it safe:")
    sys.stdout.write(secret + "\n")


# -- the HTTP API -------------------------------------------------------------------------------
@app.command("serve")
@friendly
def serve_command(host: Annotated[str | None, typer.Option(help=f"address [env: {config.HOST.env}]")] = None,
                  port: Annotated[int | None, typer.Option(help=f"port [env: {config.PORT.env}]")] = None,
                  workers: Annotated[int, typer.Option(help="server processes (reads scale with them; "
                                                       "SQLite still has one writer)")] = 1,
                  db: Db = None) -> None:
    """Run the HTTP API (`/v1`, docs at /docs) and the web UI until interrupted."""
    import uvicorn  # noqa: PLC0415 - the server is loaded only by the command that runs it

    from firmly.doors.api import create_app  # noqa: PLC0415

    bootstrap.store(db, None).migrate()
    address, number = host or config.HOST.value(), port or int(config.PORT.value())
    err.print(f"firmly on http://{address}:{number} (API docs at /docs); Ctrl+C stops it", highlight=False)
    if workers > 1:  # each process builds its own app from the environment
        if db:
            os.environ[config.DATABASE_URL.env] = db
        uvicorn.run("firmly.doors.api.app:from_environment", factory=True, workers=workers, host=address,
                    port=number, log_level="warning", access_log=False)
    else:
        uvicorn.run(create_app(db, long_lived=True), host=address, port=number, log_level="warning", access_log=False)


@token_app.command("create")
@friendly
def token_create(role: Annotated[str, typer.Option(help="admin, operator, viewer or ingest")],
                 name: Annotated[str, typer.Option(help="who or what uses it, e.g. booking-system")] = "",
                 db: Db = None, ws: Workspace = None, as_json: Json = False) -> None:
    """Create an API token; it is shown once (only its hash is kept)."""
    issued = tokens.create(bootstrap.store(db, ws), role, name, _now())
    if as_json:
        _print_json({"id": issued.row.id, "token": issued.token, "workspace": issued.row.workspace,
                     "role": issued.row.role, "name": issued.row.name})
        return
    err.print(f"token {issued.row.id} ({issued.row.role}) for workspace {issued.row.workspace}; "
              "keep it now, it is not shown again:", markup=False, highlight=False)
    sys.stdout.write(issued.token + "\n")


@token_app.command("list")
@friendly
def token_list(db: Db = None, ws: Workspace = None, as_json: Json = False) -> None:
    """The workspace's tokens (never their secrets)."""
    store = bootstrap.store(db, ws)
    rows = [{"id": t.id, "role": t.role, "name": t.name, "created_at": iso(t.created_at),
             "revoked_at": iso(t.revoked_at) if t.revoked_at else None} for t in tokens.listed(store)]
    if as_json:
        _print_json(rows)
        return
    reader = _reader(store)
    created, made = reader.column("created", [r["created_at"] for r in rows])
    revoked, ended = reader.column("revoked", [r["revoked_at"] for r in rows])
    table = PlainTable("id", "role", "name", created, revoked)
    for r, at, until in zip(rows, made, ended, strict=True):
        table.add_row(r["id"], r["role"], r["name"], at, until)
    out.print(table)


@token_app.command("revoke")
@friendly
def token_revoke(token_id: str, db: Db = None, ws: Workspace = None) -> None:
    """Revoke a token at once (a running server notices within seconds)."""
    tokens.revoke(bootstrap.store(db, ws), token_id, _now())
    out.print(f"token {token_id} revoked", markup=False, highlight=False)


# -- web UI logins -------------------------------------------------------------------------------
user_app = typer.Typer(help="Web UI logins: an email, a password and a role, in one workspace.", no_args_is_help=True)
app.add_typer(user_app, name="user")


@user_app.command("create")
@friendly
def user_create(role: Annotated[str, typer.Option(help="admin, operator or viewer")],
                email: Annotated[str, typer.Option(help="the login")],
                password: Annotated[str | None, typer.Option(help="for scripts; asked for when left out")] = None,
                password_stdin: Annotated[bool, typer.Option("--password-stdin",
                                                             help="read the password from standard input")] = False,
                db: Db = None, ws: Workspace = None) -> None:
    """Create a web UI login, or give an existing one a new password and role (its sessions end)."""
    from firmly.service import users  # noqa: PLC0415 - argon2 loads only for logins

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif password is None:
        if not sys.stdin.isatty():
            raise FirmlyError("no terminal to ask for the password: use --password or --password-stdin")
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    user = users.create(bootstrap.store(db, ws), email, role, password, _now())
    out.print(f"{user.email} ({user.role}) can log in to workspace {user.workspace}", markup=False, highlight=False)


@user_app.command("list")
@friendly
def user_list(db: Db = None, ws: Workspace = None, as_json: Json = False) -> None:
    """The workspace's logins (never their passwords)."""
    from firmly.service import users  # noqa: PLC0415

    store = bootstrap.store(db, ws)
    rows = [{"email": u.email, "role": u.role, "created_at": iso(u.created_at)} for u in users.listed(store)]
    if as_json:
        _print_json(rows)
        return
    created, made = _reader(store).column("created", [r["created_at"] for r in rows])
    table = PlainTable("email", "role", created)
    for r, at in zip(rows, made, strict=True):
        table.add_row(r["email"], r["role"], at)
    out.print(table)


@app.command("demo")
@friendly
def demo_command(example: Annotated[str | None, typer.Option(
                     help="only this example, in workspace demo-NAME: " + ", ".join(demo.examples()))] = None,
                 serve: Annotated[bool, typer.Option("--serve/--no-serve",
                                                     help="start the web UI and the API afterwards")] = True,
                 password: Annotated[str | None, typer.Option(help="the demo login's password "
                                                              "(default: a new random one)")] = None,
                 locale: Annotated[str | None, typer.Option(help="the demo workspace's language: ru or en")] = None,
                 host: Annotated[str | None, typer.Option(help=f"address [env: {config.HOST.env}]")] = None,
                 port: Annotated[int | None, typer.Option(help=f"port [env: {config.PORT.env}]")] = None,
                 db: Db = None, ws: Workspace = None) -> None:
    """The first run: a workspace with every example's rulebooks and a few thousand events, a login, the server."""
    if locale is not None and locale not in ("ru", "en"):
        raise FirmlyError(f"--locale must be ru or en, got {locale!r}")
    store = bootstrap.store(db, ws or (f"demo-{example}" if example else "demo"))
    if example:
        one = demo.demo(store, example, _now())
        out.print(f"[bold]{escape(one.example)}[/bold]: {escape(one.story)}", highlight=False)
        stored, again = one.stored, one.duplicates
    else:
        with err.status("filling the demo workspace…") if err.is_terminal else nullcontext():
            report = demo.showcase(store, _now(), locale)
        out.print(f"rulebooks: {', '.join(report.rulebooks)}", markup=False, highlight=False)
        stored, again = report.stored, report.duplicates
    out.print(f"stored {stored} events ({again} already there) in workspace [bold]{escape(store.workspace)}[/bold]; "
              f"{len(queries.counterparties(store, None, None))} counterparties", highlight=False)
    waiting = review.pending(store)
    out.print(f"{len(waiting)} proposals wait for a person:")
    _print_decisions([queries.public(r) for r in waiting][:5], _reader(store))
    email, secret = demo.login(store, password, _now())
    address, number = host or config.HOST.value(), port or int(config.PORT.value())
    out.print(f"\n[bold]Open http://{escape(address)}:{number}/ and log in as {escape(email)} with the password "
              f"{escape(secret)}[/bold]",
              highlight=False)
    w = f"-w {store.workspace}"
    out.print("Or from the command line:", highlight=False)
    for line in (f"firmly decisions {w}", f"firmly review list {w}", f"firmly report cost-to-serve {w}",
                 f"firmly counterparty show tom {w}"):
        out.print(f"  {line}", markup=False, highlight=False)
    if serve:
        serve_command(host=address, port=number, db=db)


import firmly.doors.connector_cli  # noqa: E402 - registers `firmly connector`, `events` and `import`
import firmly.doors.exception_cli  # noqa: E402, F401 - registers `firmly exception`


def main() -> None:
    app()
