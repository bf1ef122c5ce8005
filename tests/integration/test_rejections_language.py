"""Refused lines keep FILE line N: field: with the message in the reader's language; a CSV's header is judged
once; a CSV split by semicolons (a spreadsheet in a Russian locale) is read, decimal commas and all."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from firmly.domain.events import Event
from firmly.doors.web.i18n import translations
from firmly.service import ingest

BAD = ('{"id": "ok-1", "type": "appointment.booked", "counterparty": "dina", '
       '"occurred_at": "2026-05-01T10:00:00+01:00", '
       '"data": {"appointment": "a1", "starts_at": "2026-05-03T10:00:00+01:00"}}\n'
       '{"id": "bad-time", "type": "appointment.no_show", "counterparty": "dina", "occurred_at": "yesterday", '
       '"data": {"appointment": "a1"}}\n'
       '{"id": "bad-rating", "type": "review.received", "counterparty": "p", '
       '"occurred_at": "2026-05-01T10:00:00+01:00", "data": {"rating": 9}}\n')


def firmly(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FIRMLY_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "FIRMLY_WORKSPACE": "w",
           "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "firmly", *args], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def test_the_cli_says_why_in_the_workspaces_language_or_lang(tmp_path: Path) -> None:
    assert firmly(tmp_path, "init", "--locale", "ru").returncode == 0
    (tmp_path / "events.jsonl").write_text(BAD, encoding="utf-8")
    russian = firmly(tmp_path, "ingest", "events.jsonl")
    assert russian.returncode == 1 and "сохранено: 1, повторов: 0, отклонено: 2" in russian.stdout
    assert "stored 0, duplicates 1, rejected 2" in firmly(tmp_path, "ingest", "events.jsonl", "--lang", "en").stdout
    assert ("events.jsonl line 2 (event bad-time): occurred_at: должно быть временем RFC 3339 вида "
            "\"2026-03-01T10:00:00+03:00\", а указано 'yesterday'") in russian.stderr
    assert "events.jsonl line 3 (event bad-rating): data.rating: должно быть целым числом от 1 до 5, а указано 9" \
        in russian.stderr
    english = firmly(tmp_path, "ingest", "events.jsonl", "--lang", "en")
    assert "data.rating: must be a whole number from 1 to 5, got 9" in english.stderr
    assert "должно" not in english.stderr
    machine = firmly(tmp_path, "ingest", "events.jsonl", "--json")
    assert "must be a whole number from 1 to 5, got 9" in machine.stdout  # JSON keeps one language, English


def _read(tmp_path: Path, name: str, text: str) -> list[ingest.Parsed]:
    (tmp_path / name).write_text(text, encoding="utf-8")
    return list(ingest.read_file(tmp_path / name))


def test_a_header_without_a_column_is_one_message_not_one_per_row(tmp_path: Path) -> None:
    rows = "".join(f"e{n},appointment.attended,dina,a{n}\n" for n in range(50))
    found = _read(tmp_path, "no-time.csv", "id,type,counterparty,data.appointment\n" + rows)
    assert len(found) == 1
    rejection = found[0][2]
    assert isinstance(rejection, ingest.Rejection)
    assert str(rejection).startswith("no-time.csv line 1: header: lacks the column(s) occurred_at;")
    said = rejection.in_language(translations("ru").gettext)
    assert said.startswith("no-time.csv line 1: header: нет столбцов: occurred_at;")
    assert "id,type,counterparty,data.appointment" in said


def test_a_semicolon_csv_is_read_with_its_decimal_commas(tmp_path: Path) -> None:
    text = ("id;type;counterparty;occurred_at;data.amount;data.invoice\n"
            "p1;payment.received;megastroy;2026-05-01T10:00:00+03:00;1500,50;inv-1\n"
            "p2;payment.received;megastroy;2026-05-02T10:00:00+03:00;2 000,00;inv-2\n")
    found = _read(tmp_path, "excel-ru.csv", text)
    first, second = found[0][2], found[1][2]
    assert isinstance(first, Event) and first.data == {"amount": "1500.50", "invoice": "inv-1"}
    assert isinstance(second, ingest.Rejection) and second.line == 3 and second.field == "data.amount"
    assert "2 000,00" in second.message
    # a comma CSV keeps its commas for cells: "1500,50" there is a typo, said as such
    comma = _read(tmp_path, "comma.csv", 'id,type,counterparty,occurred_at,data.amount\n'
                                          'p3,payment.received,m,2026-05-01T10:00:00+03:00,"1500,50"\n')
    assert isinstance(comma[0][2], ingest.Rejection) and comma[0][2].field == "data.amount"
