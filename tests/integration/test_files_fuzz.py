"""Fuzzing the file reader (`read_file`, JSONL and CSV) and `ingest`, on SQLite and PostgreSQL: hostile lines
and cells among good ones never raise, every rejection names its line and field, the good lines are stored,
and a replay after it all changes no decision. Fixed seed and a small budget."""

from __future__ import annotations

import csv
import io
import json
import uuid
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmly import bootstrap
from firmly.domain.ports import Store
from firmly.service import ingest, replay, workspace
from tests.hostile import AT, ODD_TEXT, TYPES, events, raw_lines, to_json

FUZZ = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])
cells = st.one_of(st.sampled_from(ODD_TEXT), st.text(max_size=30), st.integers(-(10**30), 10**30).map(str))


def good(key: str) -> dict[str, Any]:
    return {"id": key, "type": "appointment.booked", "counterparty": "anna", "occurred_at": AT,
            "data": {"appointment": f"a-{key}", "starts_at": "2026-03-05T10:00:00+03:00"}}


def is_utf8(content: bytes) -> bool:
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def fresh(database_url: str) -> Store:
    store = bootstrap.store(database_url, f"fuzz-{uuid.uuid4().hex[:8]}")
    workspace.init(store, "en", "Europe/London", 0)
    return store


def ingested(store: Store, path: Path, goods: list[str]) -> None:
    report = ingest.ingest(store, ingest.read_file(path))
    if not is_utf8(path.read_bytes()) and path.suffix == ".csv":  # a lone surrogate written out: not text
        [refused] = report.rejected
        assert (refused.field, report.stored) == ("file", 0)
        assert "is not UTF-8 text" in refused.message
        return
    for rejection in report.rejected:
        assert rejection.where == path.name and rejection.line is not None and rejection.line >= 1
        assert rejection.field and rejection.message and len(rejection.message) < 400
    with store.read():
        assert set(store.digests(set(goods))) == set(goods)


def test_fuzzing_jsonl_files(database_url: str, tmp_path: Path) -> None:
    store = fresh(database_url)
    runs = iter(range(10**6))

    @FUZZ
    @given(st.lists(st.one_of(events().map(to_json), raw_lines), min_size=1, max_size=6), st.booleans())
    def read(hostile: list[bytes], bom: bool) -> None:
        run = next(runs)
        goods = [f"good-{run}-{n}" for n in range(2)]
        path = tmp_path / f"fuzz-{run}.jsonl"
        lines = [json.dumps(good(goods[0])).encode(), *hostile, json.dumps(good(goods[1])).encode()]
        path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + b"\n".join(lines) + b"\n")
        ingested(store, path, goods)

    read()
    assert replay.replay(store).rewritten == 0


CSV_FIELDS = ["appointment", "starts_at", "minutes", "quantity", "service", "amount", "invoice", "late_by",
              "rating", "in_tariff", "text", "partner", "tier", "ward", "data"]


def test_fuzzing_csv_files(database_url: str, tmp_path: Path) -> None:
    store = fresh(database_url)
    runs = iter(range(10**6))
    columns = ["id", "type", "counterparty", "occurred_at", *CSV_FIELDS]
    rows = st.fixed_dictionaries({"type": st.sampled_from(TYPES)},
                                 optional={name: cells for name in ["counterparty", "occurred_at", *CSV_FIELDS]})

    @FUZZ
    @given(st.lists(rows, min_size=1, max_size=5), st.booleans())
    def read(hostile: list[dict[str, str]], bom: bool) -> None:
        run = next(runs)
        goods = [f"good-{run}-{n}" for n in range(2)]
        out = io.StringIO()
        writer = csv.DictWriter(out, columns, lineterminator="\n")
        writer.writeheader()
        writer.writerow({**good(goods[0]), **good(goods[0])["data"], "data": ""})
        for n, row in enumerate(hostile):
            writer.writerow({"id": f"fz-{run}-{n}", "counterparty": "anna", "occurred_at": AT, **row})
        writer.writerow({**good(goods[1]), **good(goods[1])["data"], "data": ""})
        path = tmp_path / f"fuzz-{run}.csv"
        path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode("utf-8", "surrogatepass"))
        ingested(store, path, goods)

    read()
    assert replay.replay(store).rewritten == 0
