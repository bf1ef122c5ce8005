"""`firmly counterparty link …`: the signed link to a counterparty's own page, shown or revoked."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from firmly import bootstrap
from firmly.doors.cli.common import Db, Workspace, counterparty_app, friendly, out
from firmly.service import own_page, wallclock

link_app = typer.Typer(help="The signed link to a counterparty's own page (every message ends with one).",
                       no_args_is_help=True)
counterparty_app.add_typer(link_app, name="link")


@link_app.command("show")
@friendly
def link_show(key: Annotated[str, typer.Argument(help="the counterparty's key")], db: Db = None,
              ws: Workspace = None) -> None:
    """Print a fresh link to the counterparty's page (valid for page_link_days, default 30)."""
    sys.stdout.write(own_page.show_link(bootstrap.store(db, ws), key, wallclock.now()) + "\n")


@link_app.command("revoke")
@friendly
def link_revoke(key: Annotated[str, typer.Argument(help="the counterparty's key")], db: Db = None,
                ws: Workspace = None) -> None:
    """Make every link to the counterparty's page made so far stop working (a new message brings a new one)."""
    own_page.revoke(bootstrap.store(db, ws), key)
    out.print(f"every earlier link to the page of {key} is revoked", markup=False, highlight=False)
