"""A rulebook's problems in the reader's language: the CLI's `rulebook check` says them in the workspace's
language or --lang's, the web's upload page in the page's; each keeps FILE:LINE: field and its values."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from firmly.domain.errors import InvalidInput
from firmly.domain.rulebook import parse_rulebook
from firmly.doors.catalogues import CATALOGUES, problem_text
from tests.integration.test_cli import firmly
from tests.integration.test_rulebook_limits import SOURCE, Door, door, sign_in  # noqa: F401 - `door` is a fixture
from tests.integration.test_web import csrf

BROKEN = SOURCE.replace("    min_notice: 12h\n", "    min_notice: 12h\n    min_notise: 6h\n", 1)
LINE = BROKEN.splitlines().index("    min_notise: 6h") + 1


def test_the_cli_check_says_problems_in_the_workspaces_language(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN, encoding="utf-8")
    assert firmly(tmp_path, "init", "--locale", "ru").returncode == 0
    ru = firmly(tmp_path, "rulebook", "check", str(path))
    assert ru.returncode == 1
    assert f"{path}:{LINE}: rules.late_change.min_notise: неизвестное поле правила; может быть, " \
           "`min_notice`?" in ru.stderr
    en = firmly(tmp_path, "rulebook", "check", str(path), "--lang", "en")
    assert en.returncode == 1
    assert f"{path}:{LINE}: rules.late_change.min_notise: unknown field for a rule; did you mean " \
           "`min_notice`?" in en.stderr


def test_the_cli_check_without_a_workspace_takes_lang_and_creates_no_database(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("scorecard:\n  window: soon\n" + BROKEN, encoding="utf-8")  # sections are checked last
    done = firmly(tmp_path, "rulebook", "check", str(path), "--lang", "ru")
    assert done.returncode == 1
    assert "должно быть длительностью вроде \"24h\" или \"90d\" (s, m, h, d или w); указано 'soon'" in done.stderr
    lines = [int(line.split(":")[1]) for line in done.stderr.splitlines() if line.startswith(f"{path}:")]
    assert lines == [2, LINE + 2]  # sorted by line
    assert not (tmp_path / "cli.db").exists()
    wrong = firmly(tmp_path, "rulebook", "check", str(path), "--lang", "de")
    assert wrong.returncode == 1 and "--lang must be ru or en" in wrong.stderr


def test_the_web_check_says_problems_in_the_pages_language(door: Door) -> None:  # noqa: F811
    c = sign_in(door, "viewer")
    c.cookies.set("firmly_lang", "ru")
    page = c.get("/rulebooks/upload")
    answer = c.post("/rulebooks/upload", data={"csrf": csrf(page.text), "source": BROKEN, "action": "check"})
    assert answer.status_code == 422
    assert "неизвестное поле правила; может быть, `min_notice`?" in answer.text
    assert f'href="#L{LINE}"' in answer.text
    c.cookies.set("firmly_lang", "en")
    page = c.get("/rulebooks/upload")
    answer = c.post("/rulebooks/upload", data={"csrf": csrf(page.text), "source": BROKEN, "action": "check"})
    assert "unknown field for a rule; did you mean `min_notice`?" in answer.text


def test_every_russian_problem_keeps_its_templates_parameters() -> None:
    with (CATALOGUES / "ru" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalogue = read_po(fh, locale="ru")
    braced = [(m.id, m.string) for m in catalogue if isinstance(m.id, str) and "{" in m.id]
    assert len(braced) > 30
    for source, russian in braced:
        assert isinstance(russian, str) and russian, source
        assert set(re.findall(r"\{\w+\}", russian)) == set(re.findall(r"\{\w+\}", source)), source


def test_a_problem_is_said_in_russian_with_its_values_and_hint() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_rulebook(BROKEN.replace("window: 120d", "window: 120 days", 1).replace("currency: GBP", "currency: gbp"),
                       "clinic.yaml")
    said = [problem_text(p, "ru") for p in caught.value.problems]
    assert said == [
        "clinic.yaml:5: currency: должно быть трёхбуквенным кодом ISO вроде RUB; указано 'gbp'",
        "clinic.yaml:11: ladders.attendance.window: должно быть длительностью вроде \"24h\" или \"90d\" "
        "(s, m, h, d или w); указано '120 days'",
        f"clinic.yaml:{LINE}: rules.late_change.min_notise: неизвестное поле правила; может быть, `min_notice`?",
    ]
    assert [problem_text(p, "en") for p in caught.value.problems] == [str(p) for p in caught.value.problems]
