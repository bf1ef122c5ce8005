"""`firmly token create | list | revoke` and `firmly user create | list`: API tokens and web UI logins."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from firmly import bootstrap
from firmly.domain.clock import iso
from firmly.domain.errors import FirmlyError
from firmly.doors.cli.common import (
    Db,
    Json,
    Lang,
    PlainTable,
    Workspace,
    _now,
    _print_json,
    _reader,
    app,
    err,
    friendly,
    out,
    token_app,
)
from firmly.service import (
    tokens,
)


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
def token_list(db: Db = None, ws: Workspace = None, as_json: Json = False, lang: Lang = None) -> None:
    """The workspace's tokens (never their secrets)."""
    store = bootstrap.store(db, ws)
    rows = [{"id": t.id, "role": t.role, "name": t.name, "created_at": iso(t.created_at),
             "revoked_at": iso(t.revoked_at) if t.revoked_at else None} for t in tokens.listed(store)]
    if as_json:
        _print_json(rows)
        return
    reader = _reader(store, lang)
    created, made = reader.column(reader.say("created"), [r["created_at"] for r in rows])
    revoked, ended = reader.column(reader.say("revoked"), [r["revoked_at"] for r in rows])
    table = PlainTable("id", reader.say("role"), reader.say("name"), created, revoked)
    for r, at, until in zip(rows, made, ended, strict=True):
        table.add_row(r["id"], r["role"], r["name"], at, until)
    out.print(table)


@token_app.command("revoke")
@friendly
def token_revoke(token_id: str, db: Db = None, ws: Workspace = None) -> None:
    """Revoke a token at once (a running server notices within seconds)."""
    tokens.revoke(bootstrap.store(db, ws), token_id, _now())
    out.print(f"token {token_id} revoked", markup=False, highlight=False)


# -- web UI logins ------------------------------------------------------------------------------
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
def user_list(db: Db = None, ws: Workspace = None, as_json: Json = False, lang: Lang = None) -> None:
    """The workspace's logins (never their passwords)."""
    from firmly.service import users  # noqa: PLC0415

    store = bootstrap.store(db, ws)
    rows = [{"email": u.email, "role": u.role, "created_at": iso(u.created_at)} for u in users.listed(store)]
    if as_json:
        _print_json(rows)
        return
    reader = _reader(store, lang)
    created, made = reader.column(reader.say("created"), [r["created_at"] for r in rows])
    table = PlainTable(reader.say("email"), reader.say("role"), created)
    for r, at in zip(rows, made, strict=True):
        table.add_row(r["email"], r["role"], at)
    out.print(table)
