"""`firmly tone`, `worker`, `outbox list | retry`, `workspace set | show` and `webhook secret`: how messages
are read and sent, and the workspace's settings."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from firmly import bootstrap, config, redact
from firmly.domain.clock import iso
from firmly.domain.contacts import fallback_note
from firmly.domain.errors import FirmlyError
from firmly.doors.cli.common import (
    Db,
    Json,
    Lang,
    PlainTable,
    Workspace,
    _instant,
    _lang,
    _now,
    _print_json,
    _reader,
    app,
    err,
    friendly,
    out,
    outbox_app,
    webhook_app,
    workspace_app,
)
from firmly.doors.reading import Reader
from firmly.service import (
    outbox,
    tone,
    wording,
)


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


@app.command("decide")
@friendly
def decide_command(once: Annotated[bool, typer.Option(help="decide what waits now, then exit")] = False,
                   interval: Annotated[float, typer.Option(help="seconds to wait before looking again when "
                                                           "nothing waits")] = 0.2,
                   lang: Lang = None, db: Db = None) -> None:
    """Decide the events acknowledged before deciding them (`Prefer: respond-async`), in every workspace, until
    stopped; run several beside the servers (`FIRMLY_SERVE_DECIDES=0`) to take deciding off them."""
    from firmly.doors import decider  # noqa: PLC0415

    if interval <= 0:
        raise FirmlyError(f"--interval must be above 0 seconds, got {interval}")
    try:  # the words of the workspace the command is set to, else English
        reader = _reader(bootstrap.store(db, None, settled=False), lang)
    except FirmlyError:
        reader = Reader("UTC", _lang(lang) or "en")

    def report(events: int, places: int) -> None:
        said = reader.say("%(time)s  events decided: %(n)s, workspaces: %(m)s", time=iso(_now())[:19], n=events,
                          m=places)
        (out if once else err).print(said, markup=False, highlight=False)

    decider.run(db, interval, once, report)


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
             "error": redact.text(r.error) if r.error else None,  # a webhook URL's password stays hidden
             "sender": r.sender, "sender_name": r.sender_name,
             "missing_contacts": r.note.split(",") if r.note else []}
            for r in outbox.listed(store, status)]
    if as_json:
        _print_json(rows)
        return
    reader = _reader(store, lang)
    if not rows:
        out.print(reader.say("no messages"))
    words = wording.words(reader.lang)
    for r in rows:  # one line each, the error below: readable at any terminal width
        when = reader.time(r["sent_at"] or r["next_at"])
        out.print(f"{when}  [bold]{escape(words.status(r['status']))}[/bold]  {escape(words.channel(r['channel']))} → "
                  f"{escape(r['recipient'])}  "
                  f"{escape(r['subject'])}  [dim]{escape(r['id'])} ×{r['attempts']}[/dim]", highlight=False)
        if r["sender"]:
            who = f"{r['sender_name']} <{r['sender']}>" if r["sender_name"] else r["sender"]
            out.print("    " + reader.say("from %(sender)s", sender=who), markup=False, highlight=False)
        if r["missing_contacts"]:
            out.print(f"    {fallback_note(','.join(r['missing_contacts']), words.lang)}", markup=False,
                      highlight=False)
        if r["error"]:
            out.print(f"    {r['error']}", markup=False, highlight=False)


@outbox_app.command("retry")
@friendly
def outbox_retry(message: Annotated[str | None, typer.Argument(help="one failed message (default: all)")] = None,
                 db: Db = None, ws: Workspace = None, lang: Lang = None) -> None:
    """Send failed messages again."""
    from firmly.service import worker  # noqa: PLC0415

    store = bootstrap.store(db, ws)
    n = worker.retry(store, message, _now())
    if message and not n:
        raise FirmlyError(f"no failed message {message!r}")
    out.print(_reader(store, lang).say("messages to be sent again: %(n)s", n=n))


@workspace_app.command("set")
@friendly
def workspace_set(name: Annotated[str, typer.Argument(help=", ".join(outbox.SETTINGS))],
                  value: Annotated[str | None, typer.Argument(help="the value; @FILE reads it from a file; "
                                                              "leave out to remove")] = None,
                  db: Db = None, ws: Workspace = None, lang: Lang = None) -> None:
    """Change a workspace setting."""
    if value is not None and value.startswith("@"):
        try:
            value = Path(value[1:]).read_text(encoding="utf-8")
        except OSError as exc:
            raise FirmlyError(f"cannot read {value[1:]}: {exc.strerror}") from None
    store = bootstrap.store(db, ws)
    outbox.set_setting(store, name, value)
    reader = _reader(store, lang)
    said = reader.say("%(name)s set", name=name) if value is not None else reader.say("%(name)s removed", name=name)
    out.print(said, markup=False, highlight=False)


@workspace_app.command("show")
@friendly
def workspace_show(db: Db = None, ws: Workspace = None, as_json: Json = False, lang: Lang = None) -> None:
    """The workspace's settings."""
    store = bootstrap.store(db, ws)
    found = outbox.settings(store)
    shown = {k: "whsec_…" if k == "webhook_secret" else redact.url(v) if k == "webhook_url" else v
             for k, v in found.items()}
    if as_json:
        _print_json(shown)
        return
    reader = _reader(store, lang)
    table = PlainTable(reader.say("setting"), reader.say("value"), reader.say("what it is"))
    for name, help_text in outbox.SETTINGS.items():
        table.add_row(name, shown.get(name, "—"), reader.say(help_text))
    out.print(table)


@webhook_app.command("secret")
@friendly
def webhook_secret(db: Db = None, ws: Workspace = None) -> None:
    """Make a new signing secret for the workspace's webhooks and print it once for the receiver."""
    secret = bootstrap.webhook_secret()
    outbox.set_setting(bootstrap.store(db, ws), "webhook_secret", secret)
    err.print("the receiver verifies webhooks with this secret (Standard Webhooks); keep it safe:")
    sys.stdout.write(secret + "\n")
