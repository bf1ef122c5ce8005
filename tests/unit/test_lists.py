"""Sorting, paging and links of the web UI's lists (doors/web/lists.py)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from firmly.doors.web import lists


def get(row: dict[str, Any], column: str) -> Any:
    return row.get(column)


ROWS: list[dict[str, Any]] = [
    {"name": "béla", "revenue": "100.00", "karma": None}, {"name": "Anna", "revenue": "9.50", "karma": 3},
    {"name": "carl", "revenue": "1000", "karma": 12}, {"name": "", "revenue": None, "karma": -1}]


def test_numbers_written_as_text_sort_by_size_and_empty_values_stay_last() -> None:
    up = lists.sort(ROWS, "revenue", ("revenue",), get)
    assert [r["revenue"] for r in up] == ["9.50", "100.00", "1000", None]
    down = lists.sort(ROWS, "-revenue", ("revenue",), get)
    assert [r["revenue"] for r in down] == ["1000", "100.00", "9.50", None]
    assert [r["karma"] for r in lists.sort(ROWS, "-karma", ("karma",), get)] == [12, 3, -1, None]


def test_words_sort_without_regard_to_case_and_unknown_columns_keep_the_order() -> None:
    assert [r["name"] for r in lists.sort(ROWS, "name", ("name",), get)] == ["Anna", "béla", "carl", ""]
    assert lists.sort(ROWS, "secret", ("name",), get) == ROWS
    assert lists.sort(ROWS, "-", ("name",), get) == ROWS


def test_pages_clamp_to_what_exists() -> None:
    rows = list(range(120))
    assert lists.page_of(rows, "2", 50) == (list(range(50, 100)), 2, 3)
    assert lists.page_of(rows, "99", 50)[1:] == (3, 3)
    assert lists.page_of(rows, "-1", 50)[1:] == (1, 3)
    assert lists.page_of(rows, "x", 50)[1] == 1
    assert lists.page_of([], "1", 50) == ([], 1, 1)


def test_links_keep_the_other_filters() -> None:
    query = {"kind": "client", "page": "3", "q": "ООО «Север»"}
    assert lists.url_with("/counterparties", query, sort="-name", page=None) == (
        "/counterparties?kind=client&q=%D0%9E%D0%9E%D0%9E+%C2%AB%D0%A1%D0%B5%D0%B2%D0%B5%D1%80%C2%BB&sort=-name")
    assert lists.url_with("/r", {}, page=2) == "/r?page=2"
    assert lists.url_with("/r", {"q": ""}) == "/r"
    mixed: list[dict[str, Any]] = [{"v": Decimal("2")}, {"v": 1.5}]
    assert lists.sort(mixed, "v", ("v",), get) == [{"v": 1.5}, {"v": Decimal("2")}]
