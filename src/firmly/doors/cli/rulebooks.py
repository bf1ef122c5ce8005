"""`firmly rulebook check | load | list | render`: rulebooks checked with their problems in the reader's
language, stored as versions, and drawn as the appendix to a contract (md, html, pdf)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from firmly import bootstrap, config
from firmly.domain.clock import iso
from firmly.domain.errors import FirmlyError, InvalidInput
from firmly.domain.render import render_html, render_markdown
from firmly.doors.catalogues import LOCALES, problem_text
from firmly.doors.cli.common import (
    Db,
    Json,
    Lang,
    PlainTable,
    Workspace,
    _author,
    _now,
    _print_json,
    _reader,
    err,
    friendly,
    out,
    rulebook_app,
)
from firmly.doors.reading import Reader
from firmly.service import (
    rulebooks,
    wording,
    workspace,
)


def _show_warnings(book: Any) -> None:
    for warning in book.warnings:
        err.print(f"warning: {warning}", markup=False, highlight=False)


def _reader_language(lang: str | None, db: str | None, ws: str | None) -> str:
    """--lang, else the workspace's language where there is a workspace, else English."""
    if lang is not None:
        if lang not in LOCALES:
            raise FirmlyError(f"--lang must be ru or en, got {lang!r}")
        return lang
    url = config.DATABASE_URL.value(db)
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        return "en"  # no database here to take a language from, and a check creates none
    try:
        return workspace.language(bootstrap.store(db, ws)) or "en"
    except FirmlyError:  # a database not initialised, or out of reach: the check goes on
        return "en"


@rulebook_app.command("check")
@friendly
def rulebook_check(file: Path,
                   lang: Annotated[str | None, typer.Option(help="ru or en (default: the workspace's)")] = None,
                   db: Db = None, ws: Workspace = None) -> None:
    """Validate a rulebook: exit 0, or 1 with each problem as FILE:LINE: field: message, in the reader's language."""
    language = _reader_language(lang, db, ws)
    try:
        book = rulebooks.read(file)
    except InvalidInput as exc:
        for problem in exc.problems:
            err.print(problem_text(problem, language), markup=False, highlight=False)
        raise typer.Exit(1) from None
    for warning in book.warnings:
        err.print(f"warning: {problem_text(warning, language)}", markup=False, highlight=False)
    said = Reader("UTC", language).say("%(file)s: rulebook %(id)s version %(version)s is valid "
                                       "(rules: %(rules)s, ladders: %(ladders)s)", file=file, id=book.id,
                                       version=book.version, rules=len(book.rules), ladders=len(book.ladders))
    out.print(said, markup=False, highlight=False)


By = Annotated[str | None, typer.Option("--by", show_default=False,
                                       help="who loads it (default: FIRMLY_AUTHOR or the OS user)")]


@rulebook_app.command("load")
@friendly
def rulebook_load(file: Path, db: Db = None, ws: Workspace = None, as_json: Json = False, lang: Lang = None,
                  by: By = None) -> None:
    """Validate and store a new version of a rulebook, recorded as loaded by --by or the OS user."""
    book = rulebooks.read(file)
    _show_warnings(book)
    store = bootstrap.store(db, ws)
    loaded = rulebooks.load(store, book, _now(), by=(by or "").strip() or _author())
    if as_json:
        _print_json({"id": loaded.id, "version": loaded.version, "hash": loaded.hash, "new": loaded.new})
        return
    reader = _reader(store, lang)
    state = reader.say("loaded") if loaded.new else reader.say("already loaded, unchanged")
    note = reader.say("; stored events replayed under it") if loaded.replayed else ""
    out.print(f"{loaded.id} {loaded.version} {loaded.hash[:12]} {state}{note}", markup=False, highlight=False)


@rulebook_app.command("list")
@friendly
def rulebook_list(db: Db = None, ws: Workspace = None, as_json: Json = False, lang: Lang = None) -> None:
    """Every loaded version of every rulebook, with its hash and when it took effect."""
    store = bootstrap.store(db, ws)
    versions = rulebooks.stored(store)
    rows = [{"id": v.id, "version": v.version, "hash": v.hash, "loaded_at": iso(v.loaded_at),
             "effective_from": iso(v.effective_from) if v.effective_from is not None else None,
             "loaded_by": v.loaded_by} for v in versions]
    if as_json:
        _print_json(rows)
        return
    reader = _reader(store, lang)
    loaded, when_loaded = reader.column(reader.say("loaded"), [v.loaded_at for v in versions])
    start, when_start = reader.column(reader.say("in force from"), [v.effective_from for v in versions],
                                      reader.say("the beginning"))
    table = PlainTable(reader.say("rulebook"), reader.say("version"), reader.say("hash"), loaded, reader.say("by"),
                       start)
    for r, at, since in zip(rows, when_loaded, when_start, strict=True):
        table.add_row(str(r["id"]), str(r["version"]), str(r["hash"])[:12], at, str(r["loaded_by"] or "—"), since)
    out.print(table)


@rulebook_app.command("render")
@friendly
def rulebook_render(file: Path,
                    fmt: Annotated[str, typer.Option("--format", help="md, html or pdf")] = "md",
                    lang: Annotated[str | None, typer.Option(help="ru or en (default: the rulebook's)")] = None,
                    output: Annotated[Path | None, typer.Option("-o", "--output", help="write to a file")] = None,
                    ) -> None:
    """The rules of cooperation as people read them: the appendix to a contract."""
    if lang is not None and lang not in ("ru", "en"):
        raise FirmlyError(f"--lang must be ru or en, got {lang!r}")
    if fmt not in ("md", "html", "pdf"):
        raise FirmlyError(f"--format must be md, html or pdf, got {fmt!r}")
    book = rulebooks.read(file)  # a broken rulebook is reported as FILE:LINE before anything is drawn
    if fmt == "pdf":
        # A PDF goes to a file, or down a pipe (`> appendix.pdf`, `| lp`); never as bytes onto a terminal.
        if output is None and sys.stdout.isatty():
            raise FirmlyError("a PDF cannot be shown on a terminal: add -o FILE.pdf (or redirect the output)")
        pdf = bootstrap.documents().html_to_pdf(render_html(book, lang, wording.translator(lang or book.locale)))
        if output is not None:
            output.write_bytes(pdf)
            err.print(f"written {output}", markup=False, highlight=False)
        else:
            sys.stdout.buffer.write(pdf)
            sys.stdout.flush()
        return
    translator = wording.translator(lang or book.locale)
    text = render_markdown(book, lang, translator) if fmt == "md" else render_html(book, lang, translator)
    if output is not None:
        output.write_text(text, encoding="utf-8")
        err.print(f"written {output}", markup=False, highlight=False)
    else:
        sys.stdout.write(text)
