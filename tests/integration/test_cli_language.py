"""The CLI's one-line results and table headers in the reader's language: the workspace's, or --lang.

A Russian owner runs the same commands as an English one; only keys, ids and file names stay as written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

AGENCY = Path(__file__).resolve().parents[2] / "src" / "firmly" / "examples" / "agency-ru"

# each command, what a Russian reader sees, and the English template it must not fall back to
SAID = [
    (("rulebook", "check", str(AGENCY / "rulebook.yaml")), "без ошибок (правил:", "is valid"),
    (("rulebook", "load", str(AGENCY / "rulebook.yaml")), "загружен", "loaded"),
    (("ingest", str(AGENCY / "events.jsonl")), "сохранено: 13, повторов: 0, отклонено: 0", "stored"),
    (("tick", "--as-of", "2026-12-01T00:00:00+03:00"), "часы движка: 01.12.2026, 00:00 MSK", "clock at"),
    (("replay",), "пересчитано событий: 13", "replayed"),
    (("decisions", "--counterparty", "nobody"), "решений нет", "no decisions"),
    (("workspace", "show"), "адрес, на который приходят ответы", "the address replies go to"),
    (("rulebook", "list"), "свод правил", "rulebook"),
    (("counterparty", "list"), "статус", "status"),
    (("token", "list"), "создан", "created"),
    (("workspace", "set", "sender_name", "Типография"), "sender_name: задано", " set"),
    (("workspace", "show"), "настройка", "setting"),
    (("events", "--limit", "3"), "01.04.2026, 09:00 MSK  romashka  данные обновлены", "counterparty.upserted"),
    (("connector", "list"), "подключений нет", "no connectors"),
]


def firmly(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FIRMLY_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "FIRMLY_WORKSPACE": "w",
           "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "firmly", *args], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def test_a_russian_workspace_hears_russian_and_lang_en_english(tmp_path: Path) -> None:
    assert firmly(tmp_path, "init", "--locale", "ru", "--timezone", "Europe/Moscow").returncode == 0
    for args, russian, english in SAID:
        done = firmly(tmp_path, *args)
        assert done.returncode == 0, (args, done.stderr)
        assert russian in done.stdout, (args, done.stdout)
        assert not re.search(rf"\b{re.escape(english.strip())}\b", done.stdout), (args, done.stdout)
    assert "stored 0, duplicates 13, rejected 0" in firmly(tmp_path, "ingest", str(AGENCY / "events.jsonl"),
                                                           "--lang", "en").stdout
    assert "replayed events: 13" in firmly(tmp_path, "replay", "--lang", "en").stdout


def test_the_demo_names_and_explains_the_proposals_that_wait(tmp_path: Path) -> None:
    done = firmly(tmp_path, "demo", "--example", "leniency-ru", "--no-serve", "--password", "a long enough password")
    assert done.returncode == 0, done.stderr
    assert "ждут решения человека: 1" in done.stdout and "Traceback" not in done.stderr
    assert "Ждёт решения сотрудника." in done.stdout  # the proposal explained, in the workspace's language
    # The suggested command shows someone of this workspace (it named a client of another example)
    suggested = re.search(r"firmly counterparty show (\S+) -w (\S+)", done.stdout)
    assert suggested is not None, done.stdout
    shown = firmly(tmp_path, "counterparty", "show", suggested[1], "-w", suggested[2])
    assert shown.returncode == 0 and suggested[1] in shown.stdout, shown.stderr
