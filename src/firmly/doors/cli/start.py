"""`firmly init`, `serve` and `demo`: a workspace made, served, and filled for a first look."""

from __future__ import annotations

import os
from contextlib import nullcontext
from typing import Annotated

import typer
from rich.markup import escape

from firmly import bootstrap, config
from firmly.domain.errors import FirmlyError
from firmly.doors.cli.common import (
    Db,
    Workspace,
    _now,
    _print_decisions,
    _reader,
    app,
    err,
    friendly,
    out,
)
from firmly.doors.reading import Reader
from firmly.service import (
    demo,
    explanations,
    queries,
    review,
    workspace,
)


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
    said = Reader(info.timezone, info.locale).say("workspace %(id)s is ready (%(language)s, %(zone)s)",
                                                  id=info.id, language=info.locale, zone=info.timezone)
    out.print(said, markup=False, highlight=False)


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
        out.print(_reader(store).say("rulebooks: %(ids)s", ids=", ".join(report.rulebooks)), markup=False,
                  highlight=False)
        stored, again = report.stored, report.duplicates
    reader = _reader(store)
    out.print(reader.say("workspace %(workspace)s: events stored %(stored)s (already there %(again)s), "
                         "counterparties %(counterparties)s", workspace=store.workspace, stored=stored, again=again,
                         counterparties=len(queries.counterparties(store, None, None))), highlight=False)
    waiting = review.pending(store)
    out.print(reader.say("proposals that wait for a person: %(n)s", n=len(waiting)), highlight=False)
    _print_decisions(explanations.for_reader(store, waiting[:5], reader.lang), reader)  # named and explained
    email, secret = demo.login(store, password, _now())
    address, number = host or config.HOST.value(), port or int(config.PORT.value())
    opening = reader.say("Open %(url)s and log in as %(email)s with the password %(password)s",
                         url=f"http://{address}:{number}/", email=email, password=secret)
    out.print(f"\n[bold]{escape(opening)}[/bold]", highlight=False)
    w = f"-w {store.workspace}"
    out.print(reader.say("Or from the command line:"), highlight=False)
    # Someone of this workspace: whose proposal waits first, else the first counterparty
    someone = waiting[0]["counterparty"] if waiting else next(
        (row.key for row in queries.counterparties(store, None, None)), None)
    shown = [f"firmly counterparty show {someone} {w}"] if someone else []
    for line in (f"firmly decisions {w}", f"firmly review list {w}", f"firmly report cost-to-serve {w}", *shown):
        out.print(f"  {line}", markup=False, highlight=False)
    if serve:
        serve_command(host=address, port=number, db=db)
