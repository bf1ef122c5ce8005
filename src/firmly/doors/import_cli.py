"""`firmly import ical|csv`: bookings from calendar exports, iTIP messages and booking tools' CSV exports, compared
with what the same feed said before. Registered by one import in cli.py."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer

from firmly import bootstrap
from firmly.domain.connectors import csvfile
from firmly.domain.errors import FirmlyError
from firmly.doors.cli.common import Db, Json, Lang, Workspace, _print_json, _reader, app, friendly, out
from firmly.doors.reading import Reader
from firmly.service import connectors, workspace

import_app = typer.Typer(help="Import bookings from calendar files and booking tools' CSV exports.",
                         no_args_is_help=True)
app.add_typer(import_app, name="import")
Connector = Annotated[str | None, typer.Option(
    "--connector", help="the feed's connector (default: the workspace's first of this kind, made on first use)")]


def _report(row: Any, done: list[connectors.Imported], as_json: bool, reader: Reader) -> None:
    if as_json:
        _print_json({"connector": row.id, "files": [{"file": d.file, **d.receipt.as_dict()} for d in done]})
    else:
        for d in done:
            r = d.receipt
            if r.failure is not None:
                out.print(reader.say("%(file)s: not imported: %(why)s (kept as dead letter %(id)s)", file=d.file,
                                     why=r.failure.reason, id=r.failure.id), markup=False, highlight=False)
            else:
                out.print(reader.say("%(file)s: stored %(stored)s, duplicates %(duplicates)s, decisions "
                                     "%(decisions)s", file=d.file, stored=r.stored, duplicates=r.duplicates,
                                     decisions=r.decisions), markup=False, highlight=False)
    if any(d.receipt.failure is not None for d in done):
        raise typer.Exit(1)


@import_app.command("ical")
@friendly
def import_ical(files: Annotated[list[Path], typer.Argument(help=".ics exports or iTIP messages, oldest first")],
                connector: Connector = None, db: Db = None, ws: Workspace = None, as_json: Json = False,
                lang: Lang = None) -> None:
    """Calendar snapshots in order: a new UID is a booking, a higher SEQUENCE with a new start a reschedule,
    STATUS:CANCELLED or METHOD:CANCEL a cancellation; the same file again stores nothing."""
    store = bootstrap.store(db, ws)
    with store.read():
        zone = workspace.current(store).timezone
    payloads = []
    for file in files:
        try:
            raw = file.read_bytes()
        except OSError as exc:
            raise FirmlyError(f"cannot read {file}: {exc.strerror}") from None
        payloads.append((file.name, bootstrap.read_calendar(raw, file.name, zone)))
    row, done = connectors.import_files(store, "ical", connector, payloads, time.time_ns() // 1000)
    _report(row, done, as_json, _reader(store, lang))


@import_app.command("csv")
@friendly
def import_csv(files: Annotated[list[Path], typer.Argument(help="booking exports (.csv), oldest first")],
               column_map: Annotated[str, typer.Option(
                   "--map", help="the column map (YAML), or the name of a shipped one: calcom")],
               connector: Connector = None, db: Db = None, ws: Workspace = None, as_json: Json = False,
               lang: Lang = None) -> None:
    """Booking exports through a column map: a new id is a booking, a new start a reschedule, a status the map
    names (cancelled, no-show, attended) that event; the same export again stores nothing."""
    spec = connectors.csv_map(column_map)
    payloads = []
    for file in files:
        try:
            text = file.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise FirmlyError(f"cannot read {file}: {exc}") from None
        payloads.append((file.name, csvfile.payload(file.name, text, spec)))
    store = bootstrap.store(db, ws)
    feed, done = connectors.import_files(store, "csv", connector, payloads, time.time_ns() // 1000)
    _report(feed, done, as_json, _reader(store, lang))
