"""`firmly connector …` and `firmly events`: the webhooks of the tools a business already uses, their dead
letters, and the stored events with the connector each came through. Registered by its import in
doors/cli/__init__.py."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from firmly import bootstrap
from firmly.domain.clock import iso
from firmly.domain.connectors import SOURCES
from firmly.domain.errors import FirmlyError
from firmly.doors.cli.common import (
    Db,
    Json,
    Lang,
    PlainTable,
    Workspace,
    _print_json,
    _reader,
    app,
    err,
    friendly,
    out,
)
from firmly.service import connectors, wording

connector_app = typer.Typer(help="Connectors: webhooks from Cal.com, Calendly and other booking tools, turned "
                            "into events.", no_args_is_help=True)
app.add_typer(connector_app, name="connector")


def _now() -> int:
    return time.time_ns() // 1000


@connector_app.command("add")
@friendly
def connector_add(source: Annotated[str, typer.Argument(help=", ".join(SOURCES))],
                  name: Annotated[str | None, typer.Option(help="a name to tell connectors apart")] = None,
                  secret: Annotated[str | None, typer.Option(
                      help="the vendor's signing key or secret (default: a new one to paste into the vendor's "
                           "settings)")] = None,
                  key: Annotated[str, typer.Option(help="know clients by their email or their phone")] = "email",
                  url: Annotated[str | None, typer.Option(
                      help="the public URL the vendor calls, when a proxy changes it (Square signs it)")] = None,
                  attended_after: Annotated[str | None, typer.Option(
                      help="for sources with no attendance signal: record a visit as attended this long after it "
                           "starts (e.g. 2h) unless a cancellation or no-show came first")] = None,
                  stage_map: Annotated[Path | None, typer.Option(
                      "--map", help="amoCRM, Bitrix24: the stage map (YAML): stage -> event, custom fields")] = None,
                  db: Db = None, ws: Workspace = None, as_json: Json = False, lang: Lang = None) -> None:
    """Set up a connector; prints its id and the URL path to give the vendor."""
    options = {"key": key, "url": url, "attended_after": attended_after}
    store = bootstrap.store(db, ws)
    row, made = connectors.add(store, source, name, secret, options, _now(),
                               _read(stage_map) if stage_map is not None else None)
    if as_json:
        shown: dict[str, Any] = {"id": row.id, "source": row.source, "path": connectors.path(row.id)}
        if made:
            shown["secret"] = made
        _print_json(shown)
        return
    reader = _reader(store, lang)
    title = SOURCES[row.source].title
    out.print(reader.say("connector %(id)s (%(source)s) listens at %(path)s", id=row.id, source=title,
                         path=connectors.path(row.id)), markup=False, highlight=False)
    if made:
        out.print(reader.say("its secret (shown once; paste it into the webhook settings of %(source)s): %(secret)s",
                             source=title, secret=made), markup=False, highlight=False)


def _read(path: Path) -> tuple[str, str]:
    try:
        return path.read_text(encoding="utf-8"), str(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise FirmlyError(f"cannot read {path}: {exc}") from None


@connector_app.command("map")
@friendly
def connector_map(connector: str, file: Annotated[Path, typer.Argument(help="the stage map (YAML)")],
                  db: Db = None, ws: Workspace = None, lang: Lang = None) -> None:
    """Give an amoCRM or Bitrix24 connector its stage map (checked first); then `rerun` its dead letters."""
    store = bootstrap.store(db, ws)
    crm_map = connectors.set_map(store, connector, *_read(file))
    out.print(_reader(store, lang).say("connector %(id)s: stages mapped: %(n)s; `firmly connector rerun %(id)s` maps "
                                       "its dead letters again", id=connector, n=len(crm_map["stages"])),
              markup=False, highlight=False)


@connector_app.command("list")
@friendly
def connector_list(db: Db = None, ws: Workspace = None, as_json: Json = False, lang: Lang = None) -> None:
    """The workspace's connectors."""
    store = bootstrap.store(db, ws)
    rows = [connectors.public(r) for r in connectors.listed(store)]
    if as_json:
        _print_json(rows)
        return
    reader = _reader(store, lang)
    if not rows:
        out.print(reader.say("no connectors: add one with `firmly connector add SOURCE`"), markup=False)
        return
    # a name is data: printed as written, never as markup
    table = PlainTable("id", reader.say("source"), reader.say("name"), reader.say("path"))
    for r in rows:
        table.add_row(r["id"], r["source"], r["name"], r["path"])
    out.print(table)


@connector_app.command("show")
@friendly
def connector_show(connector: str, db: Db = None, ws: Workspace = None, as_json: Json = False,
                   lang: Lang = None) -> None:
    """One connector: its source, URL path, options and how many dead letters wait."""
    store = bootstrap.store(db, ws)
    shown = connectors.show(store, connector)
    if as_json:
        _print_json(shown)
        return
    reader = _reader(store, lang)
    out.print(f"{shown['id']}  {shown['source']}  {shown['name']}\n  "
              + reader.say("listens at %(path)s", path=shown["path"]) + "\n  "
              + reader.say("knows clients by their %(key)s", key=shown["options"].get("key", "email")) + "\n  "
              + reader.say("dead letters waiting: %(n)s", n=shown["failures"]), markup=False, highlight=False)


@connector_app.command("remove")
@friendly
def connector_remove(connector: str, db: Db = None, ws: Workspace = None, lang: Lang = None) -> None:
    """Stop hearing a connector; the events it stored stay."""
    store = bootstrap.store(db, ws)
    connectors.remove(store, connector)
    out.print(_reader(store, lang).say("connector %(id)s removed; its events stay in the history", id=connector),
              markup=False, highlight=False)


def _letter(f: Any) -> dict[str, Any]:
    return {"id": f.id, "received_at": iso(f.received_at), "reason": f.reason, "status": f.status, "body": f.body}


@connector_app.command("failures")
@friendly
def connector_failures(connector: str,
                       every: Annotated[bool, typer.Option("--all", help="re-run ones too")] = False,
                       db: Db = None, ws: Workspace = None, as_json: Json = False, lang: Lang = None) -> None:
    """Dead letters: signed deliveries that could not be mapped, with the reason; `rerun` tries them again."""
    store = bootstrap.store(db, ws)
    rows = [_letter(f) for f in connectors.failures(store, connector, every)]
    if as_json:
        _print_json(rows)
        return
    reader = _reader(store, lang)
    if not rows:
        out.print(reader.say("no dead letters"))
    for r in rows:
        out.print(f"{reader.time(r['received_at'])}  {r['id']}  {r['status']}\n    {r['reason']}",
                  markup=False, highlight=False)


@connector_app.command("rerun")
@friendly
def connector_rerun(connector: str,
                    failure: Annotated[str | None, typer.Argument(help="one dead letter (default: every open one)")]
                    = None,
                    db: Db = None, ws: Workspace = None, as_json: Json = False, lang: Lang = None) -> None:
    """Map dead letters again (after the connector or its map was fixed) and store what now maps."""
    store = bootstrap.store(db, ws)
    receipts = connectors.rerun(store, connector, failure, _now())
    if as_json:
        _print_json([r.as_dict() for r in receipts])
    else:
        done = sum(1 for r in receipts if r.failure is None)
        out.print(_reader(store, lang).say("re-ran %(n)s: stored %(done)s, still failing %(left)s", n=len(receipts),
                                           done=done, left=len(receipts) - done), highlight=False)
        for r in receipts:
            if r.failure is not None:
                out.print(f"  {r.failure.id}: {r.failure.reason}", markup=False, highlight=False)
    if any(r.failure is not None for r in receipts):
        raise typer.Exit(1)


@connector_app.command("payload")
@friendly
def connector_payload(event: Annotated[str, typer.Argument(help="an event's id")],
                      db: Db = None, ws: Workspace = None, lang: Lang = None) -> None:
    """The original delivery an event came in, as the vendor sent it (kept for audit)."""
    store = bootstrap.store(db, ws)
    connector, body = connectors.payload(store, event)
    err.print(_reader(store, lang).say("event %(event)s came through connector %(id)s:", event=event, id=connector),
              markup=False, highlight=False)
    sys.stdout.write(body + "\n")


@app.command("events")
@friendly
def events_command(counterparty: Annotated[str | None, typer.Option(help="only this counterparty")] = None,
                   kind: Annotated[str | None, typer.Option("--type", help="only this event type")] = None,
                   source: Annotated[str | None, typer.Option(help="only events from this connector id")] = None,
                   limit: Annotated[int, typer.Option(help="at most this many, oldest first")] = 10_000,
                   db: Db = None, ws: Workspace = None, as_json: Json = False, lang: Lang = None) -> None:
    """Stored events, oldest first, with the connector each came through."""
    store = bootstrap.store(db, ws)
    rows = connectors.events(store, counterparty, kind, source, limit)
    if as_json:
        _print_json(rows)
        return
    reader = _reader(store, lang)
    words = wording.words(reader.lang)
    if not rows:
        out.print(reader.say("no events"))
    for r in rows:
        via = reader.say("via %(id)s", id=r["source"]) if r["source"] else ""
        out.print(f"{reader.time(r['occurred_at'])}  {r['counterparty']}  {words.event(r['type'])}  {r['id']}  {via}",
                  markup=False, highlight=False)


import firmly.doors.import_cli  # noqa: E402, F401 - `firmly import ical|csv`, the connectors that read files
