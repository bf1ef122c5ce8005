"""What every command shares: the Typer apps, the consoles, the common options, the error handling that turns
bad input into a message and exit 1, and how times, money and words are said to the reader."""

from __future__ import annotations

import errno
import functools
import getpass
import json
import sys
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from firmly import config, redact
from firmly.domain.clock import TimeError, parse_instant
from firmly.domain.errors import FirmlyError, InvalidInput, StorageError, StorageFull, ValueRefused
from firmly.doors.catalogues import LOCALES
from firmly.doors.reading import Reader
from firmly.service import (
    wallclock,
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


def _reader(store: Any, lang: str | None = None) -> Reader:
    """How the workspace's people read times, money and the CLI's words: its zone, and --lang or its language."""
    info = workspace.info(store)
    return Reader(info.timezone, _lang(lang) or info.locale)



def _lang(lang: str | None) -> str | None:
    if lang is not None and lang not in LOCALES:
        raise FirmlyError(f"--lang must be ru or en, got {lang!r}")
    return lang


def _print_decisions(rows: list[dict[str, Any]], reader: Reader) -> None:
    """One decision per line with its explanation indented below: readable at any terminal width."""
    if not rows:
        out.print(reader.say("no decisions"))
    for r in rows:
        amount = f" {reader.money(r['amount'], r['currency'])}" if r["amount"] and r["currency"] else ""
        rule = r["rule_title"] or r["rule"] or "—"  # a rule no longer in force keeps its id
        out.print(f"{reader.time(r['at'])}  [bold]{escape(r['counterparty'])}[/bold]  "
                  f"{escape(rule)}  [bold]{escape(r['action_name'])}[/bold]{escape(amount)}  "
                  f"{escape(r['status_name'])}  [dim]{escape(r['id'])}[/dim]", highlight=False)
        out.print(f"    {r['explanation']}", markup=False, highlight=False)


Reason = Annotated[str, typer.Option("--reason", help="why: kept in the audit log")]


def _author() -> str:
    return config.AUTHOR.value() or getpass.getuser()
