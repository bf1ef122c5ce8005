"""`firmly`: the command line. Parses, calls one use case, prints a table or JSON.

Exit codes: 0 success, 1 the input was wrong (the message says which and where), 2 usage. One module per group
of commands; importing it registers its commands on `app`, in the order `firmly --help` lists them.
"""

from __future__ import annotations

# isort: off
from firmly.doors.cli.common import (  # the names other command modules and tests use
    DISK_FULL,
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
from firmly.doors.cli import start, rulebooks, events, conduct, links, exceptions  # noqa: F401 - registers
from firmly.doors.cli import review, messages, access  # noqa: F401 - registers
import firmly.doors.connector_cli  # noqa: F401 - registers `firmly connector`, `events` and `import`
# isort: on

__all__ = ["DISK_FULL", "Db", "Json", "Lang", "PlainTable", "Workspace", "_print_json", "_reader", "app", "err",
           "friendly", "main", "out"]


def main() -> None:
    app()
