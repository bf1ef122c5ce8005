"""`firmly ingest`, `tick`, `replay` and `simulate`: events in, the clock moved, history rebuilt or tried
under another rulebook."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from firmly import bootstrap
from firmly.domain.clock import iso
from firmly.domain.errors import FirmlyError
from firmly.doors.cli.common import (
    Db,
    Json,
    Lang,
    PlainTable,
    Workspace,
    _instant,
    _now,
    _print_json,
    _reader,
    app,
    err,
    friendly,
    out,
)
from firmly.doors.reading import Reader
from firmly.service import (
    bulk,
    clock,
    ingest,
    replay,
    rulebooks,
    simulate,
    split,
    wording,
)


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
                report = ingest.ingest(store, parsed(), progress=lambda n: bar.advance(task, n), alone=True)
    else:
        with bulk.quiet_gc():
            report = ingest.ingest(store, parsed(), alone=True)
    if as_json:
        _print_json(report.as_dict())
    else:
        reader = _reader(store, lang)
        out.print(reader.say("stored %(stored)s, duplicates %(duplicates)s, rejected %(rejected)s, "
                             "decisions %(decisions)s", stored=report.stored, duplicates=report.duplicates,
                             rejected=len(report.rejected), decisions=report.decisions), highlight=False)
        _print_rejections(report.rejected, reader)
    if report.rejected:
        raise typer.Exit(1)


def _print_rejections(rejected: list[ingest.Rejection], reader: Reader) -> None:
    """Each refused line as FILE line N: field: message, the message in the reader's language."""
    for rejection in rejected:
        err.print(reader.say("rejected: %(why)s", why=rejection.in_language(reader.say)), markup=False,
                  highlight=False)


@app.command("tick")
@friendly
def tick_command(as_of: Annotated[str | None, typer.Option(
                     "--as-of", help="RFC 3339 time, at most FIRMLY_FUTURE_HORIZON ahead (default: now)")] = None,
                 db: Db = None, ws: Workspace = None, as_json: Json = False, lang: Lang = None) -> None:
    """Advance the engine clock: fire deadlines, expiries and due reminders."""
    moment = _instant(as_of, "--as-of") if as_of else _now()
    store = bootstrap.store(db, ws)
    report = clock.tick(store, moment)
    if as_json:
        _print_json({"as_of": iso(report.as_of), "counterparties": report.woken, "decisions": report.decisions})
    else:
        reader = _reader(store, lang)
        out.print(reader.say("clock at %(at)s: counterparties woken %(woken)s, decisions %(decisions)s",
                             at=reader.time(report.as_of), woken=report.woken, decisions=report.decisions),
                  markup=False, highlight=False)


Processes = Annotated[int | None, typer.Option(
    "--processes", min=1,
    help="fold in this many processes, by counterparty (default 1; 2 may pay on a machine with cores to spare)")]


@app.command("replay")
@friendly
def replay_command(db: Db = None, ws: Workspace = None, as_json: Json = False, lang: Lang = None,
                   processes: Processes = None) -> None:
    """Rebuild all derived state (strikes, status, decisions) from the event log."""
    store = bootstrap.store(db, ws)
    reader = _reader(store, lang)
    with err.status(reader.say("replaying the event log…")) if err.is_terminal and not as_json else nullcontext(), \
            bulk.quiet_gc():
        report = replay.replay(store, split.processes(processes))
    if as_json:
        _print_json({"events": report.events, "counterparties": report.counterparties,
                     "decisions": report.decisions, "rewritten": report.rewritten})
    else:
        out.print(reader.say("replayed events: %(events)s; counterparties: %(counterparties)s, decisions: "
                             "%(decisions)s, of them changed: %(changed)s", events=report.events,
                             counterparties=report.counterparties, decisions=report.decisions,
                             changed=report.rewritten), highlight=False)


@app.command("simulate")
@friendly
def simulate_command(rulebook: Annotated[Path, typer.Option("--rulebook", help="the changed rulebook")],
                     since: Annotated[str | None, typer.Option(help="count decisions from this time")] = None,
                     until: Annotated[str | None, typer.Option(help="count decisions up to this time")] = None,
                     db: Db = None, ws: Workspace = None, as_json: Json = False, lang: Lang = None,
                     processes: Processes = None) -> None:
    """What would change under another rulebook: replayed in memory, nothing stored."""
    book = rulebooks.read(rulebook)
    store = bootstrap.store(db, ws)
    reader = _reader(store, lang)
    with err.status(reader.say("replaying history under the changed rulebook…")) \
            if err.is_terminal and not as_json else nullcontext(), bulk.quiet_gc():
        result = simulate.simulate(store, book,
                                   _instant(since, "--since") if since else None,
                                   _instant(until, "--until") if until else None,
                                   parts=split.processes(processes))
    if as_json:
        _print_json(result)
        return
    words = wording.words(reader.lang)
    heads = (reader.say("action"), reader.say("current"), reader.say("simulated"), reader.say("change"))
    table = PlainTable(*heads)
    for action, counts in result["totals"].items():
        delta = counts["simulated"] - counts["current"]
        table.add_row(words.action(action), str(counts["current"]), str(counts["simulated"]),
                      f"{delta:+d}" if delta else "")
    out.print(reader.say("under %(rulebook)s (counterparties governed: %(governed)s):", rulebook=result["rulebook"],
                         governed=result["governed"]), markup=False, highlight=False)
    out.print(table)
    for currency, actions in result["money"].items():
        money = PlainTable(*heads)
        for action, m in actions.items():
            change = "" if m["change"] == "0" else ("+" if not m["change"].startswith("-") else "") + \
                reader.money(m["change"], currency)
            money.add_row(words.action(action), reader.money(m["current"], currency),
                          reader.money(m["simulated"], currency), change)
        out.print(money)
    out.print(reader.say("counterparties that would be treated differently: %(n)s", n=len(result["counterparties"])))
