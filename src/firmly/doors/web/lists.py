"""What every list page shares: sorting by a column named in the URL, pages of a fixed size, and links that
keep the other filters of the URL as they are."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar
from urllib.parse import urlencode

T = TypeVar("T")
PAGE = 50


def url_with(path: str, query: Mapping[str, str], **changes: object) -> str:
    """`path` with the page's query, some parameters changed (None or "" removes one)."""
    merged = {**query, **{k: str(v) for k, v in changes.items() if v is not None}}
    kept = {k: v for k, v in merged.items() if v != "" and changes.get(k, "x") is not None}
    return f"{path}?{urlencode(kept)}" if kept else path


def _key(value: Any) -> tuple[int, Any]:
    """Empty values last whichever way; numbers (also money written as text) by size, words alphabetically."""
    if value is None or value == "":
        return (2, 0)
    if isinstance(value, bool):
        return (0, int(value))
    if isinstance(value, int | float | Decimal):
        return (0, value)
    try:
        return (0, Decimal(str(value)))
    except InvalidOperation:
        return (1, str(value).casefold())


def sort(rows: Sequence[T], order: str, columns: Sequence[str], get: Callable[[T, str], Any]) -> list[T]:
    """`rows` ordered by `order` ("name", or "-name" for descending) when it names one of `columns`."""
    column = order.removeprefix("-")
    if column not in columns:
        return list(rows)
    present = [r for r in rows if _key(get(r, column))[0] != 2]
    empty = [r for r in rows if _key(get(r, column))[0] == 2]
    ordered = sorted(present, key=lambda r: _key(get(r, column)), reverse=order.startswith("-"))
    return ordered + empty


def page_of(rows: Sequence[T], page: str, size: int = PAGE) -> tuple[list[T], int, int]:
    """The rows of page `page` (from 1; a wrong number is the nearest page), the page and the number of pages."""
    pages = max(1, -(-len(rows) // size))
    number = min(max(1, int(page)) if page.isdigit() else 1, pages)
    return list(rows[(number - 1) * size: number * size]), number, pages
