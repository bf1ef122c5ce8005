"""Events from files and bodies: .jsonl, a JSON array, or CSV (split by , or ;), decoded and validated line by
line, each bad line a Rejection naming its file, line, event and field, never a reason to lose the good ones."""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from firmly.domain import limits
from firmly.domain.errors import FirmlyError
from firmly.domain.events import CATALOGUE, DECIMALS, FLAGS, NUMBERS, Check, Event, EventError, decode_raw, validate
from firmly.domain.said import N_, Said
from firmly.service.ingest_results import Parsed, Rejection

_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))  # UTF-32 LE starts as UTF-16 LE does
csv.field_size_limit(2**31 - 1)  # cells are measured below, against limits.EVENT_BYTES, with the line named


def read_file(path: Path) -> Iterator[Parsed]:
    """Events from a .jsonl or .csv file, each with its line; bad lines become Rejections, and a file that is
    not text (or not UTF-8, UTF-16 or UTF-32 with a BOM) is one Rejection that says so."""
    name = path.name
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".jsonl", ".ndjson", ".json"):
        raise FirmlyError(f"{path}: events come as .jsonl (one JSON object per line) or .csv")
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise FirmlyError(f"cannot read {path}: {exc.strerror}") from None
    if suffix == ".csv":
        text = _text(name, content)
        if isinstance(text, Rejection):
            yield name, text.line or 1, text
        else:
            yield from _read_csv(name, text)
        return
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_BE)):
        text = _text(name, content)  # UTF-16 or -32 (Windows tools): read as text, then each line as UTF-8
        if isinstance(text, Rejection):
            yield name, text.line or 1, text
            return
        content = text.encode("utf-8")
    content = content.removeprefix(codecs.BOM_UTF8)
    for number, line in enumerate(content.splitlines(), 1):
        if not line.strip():
            continue
        try:
            raw = decode_raw(line)
        except EventError as exc:
            yield name, number, Rejection.of(name, number, exc)
            continue
        yield name, number, _validated(name, number, raw)


def _text(name: str, content: bytes) -> str | Rejection:
    """A file's text: UTF-8 (a BOM is skipped), or UTF-16/32 by its BOM. A legacy 8-bit encoding (Windows-1251,
    Latin-1) is refused rather than guessed: a wrong guess would be stored for good (events are never edited),
    and on short files no detector tells Windows-1251 from Latin-1 or Big5 reliably."""
    for bom, codec in _BOMS:
        if content.startswith(bom):
            try:
                return content.decode(codec)
            except UnicodeDecodeError as exc:
                return _not_text(name, content, exc, codec.removesuffix("-sig").upper())
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as exc:
        return _not_text(name, content, exc, "UTF-8")


def _not_text(name: str, content: bytes, exc: UnicodeDecodeError, codec: str) -> Rejection:
    line = content.count(b"\n", 0, exc.start) + 1
    template = N_("is not {codec} text (byte {byte}): perhaps Windows-1251 or Latin-1; save it as UTF-8 (in "
                  "Excel: \"CSV UTF-8\") and ingest it again") if codec == "UTF-8" else \
        N_("is not {codec} text (byte {byte}): save it as UTF-8 (in Excel: \"CSV UTF-8\") and ingest it again")
    return Rejection.saying(name, line, None, "file", Said(template, codec=codec, byte=f"0x{content[exc.start]:02x}"))


def parsed(name: str, items: list[Any]) -> list[Parsed]:
    """Events already decoded (a request's body), each validated and numbered by its place from 0."""
    return [(name, n, _validated(name, n, raw)) for n, raw in enumerate(items)]


def pieces(name: str, items: list[bytes]) -> list[Parsed]:
    """Events still in JSON, one document each (the items of a body that did not decode as a whole), each
    decoded and validated alone: a piece that is not UTF-8 or nests too deeply is refused, its neighbours kept."""
    out: list[Parsed] = []
    for n, piece in enumerate(items):
        try:
            out.append((name, n, _validated(name, n, decode_raw(piece))))
        except EventError as exc:
            out.append((name, n, Rejection.of(name, n, exc)))
    return out


_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{},]')  # a JSON string (skipped whole) or a bracket or comma


def split_array(body: bytes) -> list[bytes] | None:
    """The items of a JSON array as they are written, found without decoding them (so without looking into
    their text or recursing into them), or None when the body is not an array."""
    start = len(body) - len(body.lstrip())
    if body[start:start + 1] != b"[":
        return None
    items: list[bytes] = []
    depth, begin = 0, start + 1
    for token in _TOKEN.finditer(body, start):
        mark = token.group()
        if mark[0] == 0x22:  # a string: its brackets and commas are text
            continue
        if mark in (b"[", b"{"):
            depth += 1
        elif mark in (b"]", b"}"):
            depth -= 1
            if depth == 0:
                last = body[begin:token.start()]
                if last.strip() or items:
                    items.append(last)
                return items if not body[token.end():].strip() else None
        elif depth == 1:
            items.append(body[begin:token.start()])
            begin = token.end()
    return None


def _validated(name: str, number: int, raw: object) -> Event | Rejection:
    try:
        return validate(raw)
    except EventError as exc:
        return Rejection.of(name, number, exc)


_WHOLE = re.compile(r"-?(0|[1-9][0-9]{0,14})")  # ASCII: "²" and "١" are text; "00042" keeps its zeros
_NUMBER = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,15})?")


def _cell(value: str, check: Check | None) -> Any:
    """A CSV cell as the catalogue wants the field (domain/events.py): a number where it holds a number, true or
    false where it holds a flag, text where it holds text (an appointment "1001", an invoice "00042", money).
    A field outside the catalogue is a whole number or true/false when it reads as one, else text."""
    if check is None:
        if value in ("true", "false"):
            return value == "true"
        return int(value) if _WHOLE.fullmatch(value) else value
    if check in NUMBERS and _NUMBER.fullmatch(value):
        number = float(value)
        return int(number) if number.is_integer() and "." not in value else number
    if check in FLAGS and value in ("true", "false"):
        return value == "true"
    return value  # text, or a value the check refuses with its own words


ENVELOPE = ("id", "type", "counterparty", "occurred_at")  # the columns every CSV of events has
_DECIMAL_COMMA = re.compile(r"-?[0-9]{1,15},[0-9]{1,15}")


def delimiter(text: str) -> str:
    """The separator of a CSV's cells, read from its header: a comma, or the semicolon a spreadsheet in a
    Russian (or German, French...) locale writes, where the comma is the decimal sign."""
    header = next((line for line in text.splitlines() if line.strip()), "")
    return ";" if header.count(";") > header.count(",") else ","


def _read_csv(name: str, text: str) -> Iterator[Parsed]:
    sign = delimiter(text)
    reader = csv.DictReader(io.StringIO(text), delimiter=sign)
    try:
        columns = reader.fieldnames or []
    except csv.Error as exc:
        yield name, 1, Rejection.saying(name, 1, None, "header", Said(N_("is not a CSV row ({why})"), why=str(exc)))
        return
    lacking = [c for c in ENVELOPE if c not in columns]
    if lacking:  # every row would be refused for it: one message about the header says it once
        yield name, 1, Rejection.saying(name, 1, None, "header", Said(
            N_("lacks the column(s) {lacking}; a CSV of events has the columns id, type, counterparty, "
               "occurred_at, then data.FIELD or data; its header is: {header}"),
            lacking=", ".join(lacking), header=sign.join(c for c in columns if c) or "(empty)"))
        return
    rows = iter(reader)
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except csv.Error as exc:
            yield name, reader.line_num, Rejection.saying(name, reader.line_num, None, "csv",
                                                          Said(N_("is not a CSV row ({why})"), why=str(exc)))
            continue
        yield _csv_row(name, reader.line_num, row, sign)


def _csv_row(name: str, number: int, row: dict[str | Any, Any], sign: str) -> Parsed:
    """One CSV row as an event, or the rejection naming its cell."""
    too_long = [(c, v) for c, v in row.items() if isinstance(v, str) and len(v) > limits.EVENT_BYTES]
    if too_long:
        column, value = too_long[0]
        return name, number, Rejection.saying(name, number, None, column or "cell", Said(
            N_("is a cell of {length} characters; at most {most}"), length=len(value), most=limits.EVENT_BYTES))
    data: dict[str, Any] = {}
    if row.get("data"):
        try:
            loaded = decode_raw(row["data"])
        except EventError as exc:
            return name, number, Rejection.saying(name, number, row.get("id"), "data", Said(
                N_("is not a JSON object ({why})"), why=exc.message))
        if isinstance(loaded, dict):
            data.update(loaded)
    checks = CATALOGUE.get(row.get("type") or "", ((), {}))[1]
    for column, cell in row.items():
        if column is None or column in ("id", "type", "counterparty", "occurred_at", "data") or cell in (None, ""):
            continue
        field = column.removeprefix("data.")
        check = checks.get(field)
        if sign == ";" and check in DECIMALS and _DECIMAL_COMMA.fullmatch(cell):
            cell = cell.replace(",", ".")  # noqa: PLW2901 - where ";" splits cells, "," is the decimal sign
        data[field] = _cell(cell, check)
    raw = {k: row.get(k) or None for k in ("id", "type", "counterparty", "occurred_at")}
    raw["data"] = data
    return name, number, _validated(name, number, raw)
