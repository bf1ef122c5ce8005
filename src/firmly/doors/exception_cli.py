"""`firmly exception …`: personal exceptions a person sets for one counterparty and one rule, lists and ends
(docs/discretion.md). Registered by one import in cli.py."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from firmly import bootstrap
from firmly.doors.cli import Db, Json, PlainTable, Workspace, _author, _instant, _print_json, app, friendly, out
from firmly.service import exceptions

exception_app = typer.Typer(help="Personal exceptions: exempt one counterparty from one rule until a time, with a "
                            "reason.", no_args_is_help=True)
app.add_typer(exception_app, name="exception")



def _show(row: dict[str, Any]) -> None:
    ended = row["ended"]
    tail = f"; ended {ended['at']} by {ended['by']}: {ended['reason']}" if ended else ""
    out.print(f"exception {row['id']}: {row['counterparty']} is exempt from {row['rule']} from {row['from']} until "
              f"{row['until']} ({row['state']}): {row['reason']}{tail}", markup=False, highlight=False)


@exception_app.command("set")
@friendly
def exception_set(key: Annotated[str, typer.Argument(help="the counterparty")],
                  rule: Annotated[str, typer.Option("--rule", help="the rule the counterparty is exempt from")],
                  until: Annotated[str, typer.Option("--until", help="when the exception ends (RFC 3339)")],
                  reason: Annotated[str, typer.Option("--reason", help="why, in words the counterparty may read")],
                  start: Annotated[str | None, typer.Option(
                      "--from", help="apply it from this earlier time: the decisions since then are made again")]
                  = None,
                  db: Db = None, ws: Workspace = None, as_json: Json = False) -> None:
    """Exempt a counterparty from one rule until a time: a breach meanwhile is noted with no strike and no step."""
    _instant(until, "--until")
    if start is not None:
        _instant(start, "--from")
    row = exceptions.set_exception(bootstrap.store(db, ws), key, rule, until, reason, _author(), start)
    if as_json:
        _print_json(row)
    else:
        _show(row)


@exception_app.command("list")
@friendly
def exception_list(key: Annotated[str | None, typer.Argument(help="one counterparty (default: all)")] = None,
                   db: Db = None, ws: Workspace = None, as_json: Json = False) -> None:
    """The personal exceptions, with who set them, why, and whether they hold now."""
    rows = exceptions.listing(bootstrap.store(db, ws), key)
    if as_json:
        _print_json(rows)
        return
    if not rows:
        out.print("no personal exceptions", markup=False, highlight=False)
        return
    table = PlainTable("id", "counterparty", "rule", "from", "until", "state", "by", "reason")
    for r in rows:
        table.add_row(r["id"], r["counterparty"], r["rule"], r["from"], r["until"], r["state"], str(r["by"] or ""),
                      r["reason"])
    out.print(table)


@exception_app.command("end")
@friendly
def exception_end(exception: Annotated[str, typer.Argument(help="the exception's id (see `exception list`)")],
                  reason: Annotated[str, typer.Option("--reason", help="why it ends early")],
                  db: Db = None, ws: Workspace = None, as_json: Json = False) -> None:
    """End an exception before its time: breaches from now on count again."""
    row = exceptions.end_exception(bootstrap.store(db, ws), exception, reason, _author())
    if as_json:
        _print_json(row)
    else:
        _show(row)
