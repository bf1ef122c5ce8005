"""`firmly tone --file FILE`: the tone of every message of a file, one JSON reading a line.

FILE is JSON Lines (`{"text": ..., "lang": "ru" | "en", "id": ...}`, `lang` and `id` optional) when
its first non-empty line is a JSON object, otherwise one text a line; `-` reads standard input.
A reading's `id` is the line's own, or its line number. A line that cannot be read is named on
standard error (FILE:LINE: field: what is wrong) and the others are still read; the exit code is
then 1.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import IO, Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TransferSpeedColumn

from firmly.domain.errors import FirmlyError
from firmly.domain.tone import Tone

LANGUAGES = ("ru", "en")


def _lines(name: str) -> tuple[IO[bytes], int | None]:
    if name == "-":
        return sys.stdin.buffer, None
    path = Path(name)
    try:
        return path.open("rb"), path.stat().st_size
    except OSError as exc:
        raise FirmlyError(f"{name}: cannot be read: {exc.strerror}") from None


def _messages(name: str, stream: IO[bytes], problem: Callable[[int, str, str], None],
              advance: Callable[[int], None]) -> Iterator[tuple[Any, str, str | None]]:
    """(id, text, lang) of every readable line; `problem(line, field, message)` for the others."""
    jsonl: bool | None = None
    for number, raw in enumerate(stream, start=1):
        advance(len(raw))
        try:
            line = raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError:
            problem(number, "line", "is not UTF-8 text")
            continue
        if not line.strip():
            continue
        if jsonl is None:
            jsonl = line.lstrip().startswith("{")
        if not jsonl:
            yield number, line, None
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            problem(number, "line", f"is not JSON ({exc.msg} at column {exc.colno})")
            continue
        if not isinstance(row, dict):
            problem(number, "line", "must be a JSON object with a text")
            continue
        text, lang = row.get("text"), row.get("lang")
        if not isinstance(text, str):
            problem(number, "text", "is required and must be a string")
            continue
        if lang is not None and lang not in LANGUAGES:
            problem(number, "lang", f"must be ru or en, got {lang!r}")
            continue
        yield row.get("id", number), text, lang


def read_file(name: str, analyse: Callable[[str, str | None], Tone], out: IO[str], err: Console) -> int:
    """Print one JSON reading a line; a progress bar on standard error when it is a terminal.
    Returns the number of lines that could not be read."""
    stream, size = _lines(name)
    problems = 0

    def problem(line: int, field: str, message: str) -> None:
        nonlocal problems
        problems += 1
        err.print(f"{name}:{line}: {field}: {message}", markup=False, highlight=False)

    shown = err.is_terminal
    bar = Progress(TextColumn("reading"), BarColumn(), TransferSpeedColumn(), console=err, transient=True,
                   disable=not shown)
    with stream if name != "-" else nullcontext(stream), bar:
        task = bar.add_task("messages", total=size)
        for key, text, lang in _messages(name, stream, problem, lambda n: bar.advance(task, n)):
            found = analyse(text, lang)
            out.write(json.dumps({"id": key, "tone": found.tone, "kinds": list(found.kinds),
                                  "phrases": list(found.phrases), "lang": found.language},
                                 ensure_ascii=False) + "\n")
    out.flush()
    return problems
