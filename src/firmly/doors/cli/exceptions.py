"""`firmly exception …`: personal exceptions a person sets for one counterparty and one rule, lists and ends
(docs/discretion.md)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from firmly import bootstrap
from firmly.domain.vocabulary import EXCEPTION_STATES
from firmly.doors.cli.common import (
    Db,
    Json,
    Lang,
    PlainTable,
    Workspace,
    _author,
    _instant,
    _print_json,
    _reader,
    app,
    friendly,
    out,
)
from firmly.doors.reading import Reader
from firmly.service import exceptions

exception_app = typer.Typer(help="Personal exceptions: exempt one counterparty from one rule until a time, with a "
                            "reason.", no_args_is_help=True)
app.add_typer(exception_app, name="exception")




def _show(row: dict[str, Any], reader: Reader) -> None:
    ended = row["ended"]
    tail = reader.say("; ended %(at)s by %(by)s: %(reason)s", at=reader.time(ended["at"]), by=ended["by"],
                      reason=ended["reason"]) if ended else ""
    out.print(reader.say("exception %(id)s: %(who)s is exempt from %(rule)s from %(start)s until %(until)s "
                         "(%(state)s): %(reason)s", id=row["id"], who=row["counterparty"], rule=row["rule"],
                         start=reader.time(row["from"]), until=reader.time(row["until"]),
                         state=reader.say(EXCEPTION_STATES.get(row["state"], row["state"])),
                         reason=row["reason"]) + tail,
              markup=False, highlight=False)


@exception_app.command("set")
@friendly
def exception_set(key: Annotated[str, typer.Argument(help="the counterparty")],
                  rule: Annotated[str, typer.Option("--rule", help="the rule the counterparty is exempt from")],
                  until: Annotated[str, typer.Option("--until", help="when the exception ends (RFC 3339)")],
                  reason: Annotated[str, typer.Option("--reason", help="why, in words the counterparty may read")],
                  start: Annotated[str | None, typer.Option(
                      "--from", help="apply it from this earlier time: the decisions since then are made again")]
                  = None,
                  db: Db = None, ws: Workspace = None, as_json: Json = False, lang: Lang = None) -> None:
    """Exempt a counterparty from one rule until a time: a breach meanwhile is noted with no strike and no step."""
    _instant(until, "--until")
    if start is not None:
        _instant(start, "--from")
    store = bootstrap.store(db, ws)
    row = exceptions.set_exception(store, key, rule, until, reason, _author(), start)
    if as_json:
        _print_json(row)
    else:
        _show(row, _reader(store, lang))


@exception_app.command("list")
@friendly
def exception_list(key: Annotated[str | None, typer.Argument(help="one counterparty (default: all)")] = None,
                   db: Db = None, ws: Workspace = None, as_json: Json = False, lang: Lang = None) -> None:
    """The personal exceptions, with who set them, why, and whether they hold now."""
    store = bootstrap.store(db, ws)
    rows = exceptions.listing(store, key)
    if as_json:
        _print_json(rows)
        return
    reader = _reader(store, lang)
    if not rows:
        out.print(reader.say("no personal exceptions"), markup=False, highlight=False)
        return
    start, starts = reader.column(reader.say("from"), [r["from"] for r in rows])
    until, ends = reader.column(reader.say("until"), [r["until"] for r in rows])
    table = PlainTable("id", reader.say("counterparty"), reader.say("rule"), start, until, reader.say("state"),
                       reader.say("by"), reader.say("reason"))
    for r, since, to in zip(rows, starts, ends, strict=True):
        state = reader.say(EXCEPTION_STATES.get(r["state"], r["state"]))
        table.add_row(r["id"], r["counterparty"], r["rule"], since, to, state,
                      str(r["by"] or ""), r["reason"])
    out.print(table)


@exception_app.command("end")
@friendly
def exception_end(exception: Annotated[str, typer.Argument(help="the exception's id (see `exception list`)")],
                  reason: Annotated[str, typer.Option("--reason", help="why it ends early")],
                  db: Db = None, ws: Workspace = None, as_json: Json = False, lang: Lang = None) -> None:
    """End an exception before its time: breaches from now on count again."""
    store = bootstrap.store(db, ws)
    row = exceptions.end_exception(store, exception, reason, _author())
    if as_json:
        _print_json(row)
    else:
        _show(row, _reader(store, lang))
