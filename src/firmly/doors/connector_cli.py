"""`firmly connector …` and `firmly events`: the webhooks of the tools a business already uses, their dead
letters, and the stored events with the connector each came through. Registered by one import in cli.py."""

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
from firmly.doors.cli import Db, Json, PlainTable, Workspace, _print_json, _reader, app, err, friendly, out
from firmly.service import connectors

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
                  db: Db = None, ws: Workspace = None, as_json: Json = False) -> None:
    """Set up a connector; prints its id and the URL path to give the vendor."""
    options = {"key": key, "url": url, "attended_after": attended_after}
    row, made = connectors.add(bootstrap.store(db, ws), source, name, secret, options, _now(),
                               _read(stage_map) if stage_map is not None else None)
    if as_json:
        shown: dict[str, Any] = {"id": row.id, "source": row.source, "path": connectors.path(row.id)}
        if made:
            shown["secret"] = made
        _print_json(shown)
        return
    out.print(f"connector {row.id} ({SOURCES[row.source].title}) listens at {connectors.path(row.id)}",
              markup=False, highlight=False)
    if made:
        out.print(f"its secret (shown once; paste it into {SOURCES[row.source].title}'s webhook settings): {made}",
                  markup=False, highlight=False)


def _read(path: Path) -> tuple[str, str]:
    try:
        return path.read_text(encoding="utf-8"), str(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise FirmlyError(f"cannot read {path}: {exc}") from None


@connector_app.command("map")
@friendly
def connector_map(connector: str, file: Annotated[Path, typer.Argument(help="the stage map (YAML)")],
                  db: Db = None, ws: Workspace = None) -> None:
    """Give an amoCRM or Bitrix24 connector its stage map (checked first); then `rerun` its dead letters."""
    crm_map = connectors.set_map(bootstrap.store(db, ws), connector, *_read(file))
    out.print(f"connector {connector}: {len(crm_map['stages'])} stages mapped; "
              f"`firmly connector rerun {connector}` maps its dead letters again", markup=False, highlight=False)


@connector_app.command("list")
@friendly
def connector_list(db: Db = None, ws: Workspace = None, as_json: Json = False) -> None:
    """The workspace's connectors."""
    rows = [connectors.public(r) for r in connectors.listed(bootstrap.store(db, ws))]
    if as_json:
        _print_json(rows)
        return
    if not rows:
        out.print("no connectors: add one with `firmly connector add SOURCE`", markup=False)
        return
    table = PlainTable("id", "source", "name", "path")  # a name is data: printed as written, never as markup
    for r in rows:
        table.add_row(r["id"], r["source"], r["name"], r["path"])
    out.print(table)


@connector_app.command("show")
@friendly
def connector_show(connector: str, db: Db = None, ws: Workspace = None, as_json: Json = False) -> None:
    """One connector: its source, URL path, options and how many dead letters wait."""
    shown = connectors.show(bootstrap.store(db, ws), connector)
    if as_json:
        _print_json(shown)
        return
    out.print(f"{shown['id']}  {shown['source']}  {shown['name']}\n  listens at {shown['path']}\n"
              f"  knows clients by their {shown['options'].get('key', 'email')}\n"
              f"  dead letters waiting: {shown['failures']}", markup=False, highlight=False)


@connector_app.command("remove")
@friendly
def connector_remove(connector: str, db: Db = None, ws: Workspace = None) -> None:
    """Stop hearing a connector; the events it stored stay."""
    connectors.remove(bootstrap.store(db, ws), connector)
    out.print(f"connector {connector} removed; its events stay in the history", markup=False, highlight=False)


def _letter(f: Any) -> dict[str, Any]:
    return {"id": f.id, "received_at": iso(f.received_at), "reason": f.reason, "status": f.status, "body": f.body}


@connector_app.command("failures")
@friendly
def connector_failures(connector: str,
                       every: Annotated[bool, typer.Option("--all", help="re-run ones too")] = False,
                       db: Db = None, ws: Workspace = None, as_json: Json = False) -> None:
    """Dead letters: signed deliveries that could not be mapped, with the reason; `rerun` tries them again."""
    store = bootstrap.store(db, ws)
    rows = [_letter(f) for f in connectors.failures(store, connector, every)]
    if as_json:
        _print_json(rows)
        return
    if not rows:
        out.print("no dead letters")
    reader = _reader(store)
    for r in rows:
        out.print(f"{reader.time(r['received_at'])}  {r['id']}  {r['status']}\n    {r['reason']}",
                  markup=False, highlight=False)


@connector_app.command("rerun")
@friendly
def connector_rerun(connector: str,
                    failure: Annotated[str | None, typer.Argument(help="one dead letter (default: every open one)")]
                    = None,
                    db: Db = None, ws: Workspace = None, as_json: Json = False) -> None:
    """Map dead letters again (after the connector or its map was fixed) and store what now maps."""
    receipts = connectors.rerun(bootstrap.store(db, ws), connector, failure, _now())
    if as_json:
        _print_json([r.as_dict() for r in receipts])
    else:
        done = sum(1 for r in receipts if r.failure is None)
        out.print(f"re-ran {len(receipts)}: {done} stored, {len(receipts) - done} still failing", highlight=False)
        for r in receipts:
            if r.failure is not None:
                out.print(f"  {r.failure.id}: {r.failure.reason}", markup=False, highlight=False)
    if any(r.failure is not None for r in receipts):
        raise typer.Exit(1)


@connector_app.command("payload")
@friendly
def connector_payload(event: Annotated[str, typer.Argument(help="an event's id")],
                      db: Db = None, ws: Workspace = None) -> None:
    """The original delivery an event came in, as the vendor sent it (kept for audit)."""
    connector, body = connectors.payload(bootstrap.store(db, ws), event)
    err.print(f"event {event} came through connector {connector}:", markup=False, highlight=False)
    sys.stdout.write(body + "\n")


@app.command("events")
@friendly
def events_command(counterparty: Annotated[str | None, typer.Option(help="only this counterparty")] = None,
                   kind: Annotated[str | None, typer.Option("--type", help="only this event type")] = None,
                   source: Annotated[str | None, typer.Option(help="only events from this connector id")] = None,
                   limit: Annotated[int, typer.Option(help="at most this many, oldest first")] = 10_000,
                   db: Db = None, ws: Workspace = None, as_json: Json = False) -> None:
    """Stored events, oldest first, with the connector each came through."""
    rows = connectors.events(bootstrap.store(db, ws), counterparty, kind, source, limit)
    if as_json:
        _print_json(rows)
        return
    if not rows:
        out.print("no events")
    for r in rows:
        out.print(f"{r['occurred_at']}  {r['counterparty']}  {r['type']}  {r['id']}  "
                  f"{'via ' + r['source'] if r['source'] else ''}", markup=False, highlight=False)


import firmly.doors.import_cli  # noqa: E402, F401 - `firmly import ical|csv`, the connectors that read files
