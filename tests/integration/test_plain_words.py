"""No key reaches a reader. For every example and every shared scenario, in ru and in en: the contract
appendix (Markdown, HTML and the PDF's text), every decision's explanation, every message a decision
sends, the counterparty, review, rulebook and report pages, and the CLI's decisions, review list and
counterparty page are read for what only a program should see:
event types and field paths (`invoice.due_at`), Python literals, ISO timestamps, snake_case names
outside code, and a number with the wrong plural form beside it."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

import msgspec
import pypdf
import pytest
from fastapi.testclient import TestClient

from firmly import bootstrap
from firmly.adapters import documents
from firmly.adapters.sql.store import SqlStore
from firmly.domain.clock import parse_instant
from firmly.domain.durations import counted
from firmly.domain.engine import Engine
from firmly.domain.messages import COMMUNICATED
from firmly.domain.render import render_html, render_markdown
from firmly.domain.rulebook import Rulebook
from firmly.doors.api import create_app
from firmly.doors.catalogues import translations
from firmly.service import clock, ingest, outbox, rulebooks, users, workspace
from firmly.service.policy import explanation, load_policy, row_to_decision
from tests.conftest import forget_workspace

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = sorted([*(ROOT / "src" / "firmly" / "examples").glob("*/scenario.json"),
                  *(ROOT.parent / "shared" / "scenarios").glob("*/scenario.json")])
LANGS = ("ru", "en")
PASSWORD = "correct horse battery"

# What a program writes and a person should never read
EVENT_OR_PATH = re.compile(r"(?<![\w@./:-])[a-z]+(?:_[a-z]+)*\.[a-z]+(?:_[a-z]+)*(?![\w@/-]|\.[a-z])")
SNAKE = re.compile(r"(?<![\w@./:-])[a-z]+(?:_[a-z0-9]+)+(?![\w@/-])")
# "None" begins an English sentence ("None in force."); a Python None ends a value
LITERAL = re.compile(r"\{'|\['|\b(?:True|False|None)\b(?![ \xa0][a-z])")
ISO = re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2})?")
RU_UNITS = [("день", "дня", "дней"), ("час", "часа", "часов"), ("неделя", "недели", "недель"),
            ("минута", "минуты", "минут"), ("соблюдение", "соблюдения", "соблюдений")]
RU_COUNT = re.compile(r"(?<![\d,.])(\d+) (" + "|".join(w for forms in RU_UNITS for w in forms) + r")\b")
EN_COUNT = re.compile(r"(?<![\d,.])(\d+) (days?|hours?|weeks?|minutes?)\b")

# The short list of what may look like a key, each with its reason
ALLOWED = {
    "example.org": "a counterparty's e-mail domain, shown as its address",
    "example.com": "a counterparty's e-mail domain, shown as its address",
}


@dataclass
class Story:
    name: str
    folder: Path
    books: list[Rulebook]
    store: SqlStore
    url: str


def _spec(folder: Path) -> dict[str, object]:
    return dict(json.loads((folder / "scenario.json").read_text(encoding="utf-8")))


def _runs(folder: Path) -> list[list[str]]:
    items = _spec(folder)["items"]
    assert isinstance(items, list)
    # a rulebook meant to be refused is not loaded; a file with bad lines still gives its good ones
    return [item["run"] for item in items if isinstance(item, dict) and "run" in item
            and (not item.get("exit") or item["run"][0] == "ingest")]


def _books(folder: Path) -> list[Rulebook]:
    names = [run[2] for run in _runs(folder) if run[:2] == ["rulebook", "load"]] or ["rulebook.yaml"]
    return [rulebooks.read(folder / name) for name in dict.fromkeys(names)]


def leaks(text: str, lang: str) -> list[str]:
    """Every key-like thing in a text a person reads, and every count whose noun disagrees with it."""
    found: list[str] = []
    for pattern in (EVENT_OR_PATH, SNAKE, LITERAL, ISO):
        found += [m.group(0) for m in pattern.finditer(text) if m.group(0) not in ALLOWED]
    if lang == "ru":
        for m in RU_COUNT.finditer(text):
            forms = next(f for f in RU_UNITS if m.group(2) in f)
            if counted(int(m.group(1)), forms) != m.group(0):
                found.append(m.group(0))
    else:
        for m in EN_COUNT.finditer(text):
            if (int(m.group(1)) == 1) != (not m.group(2).endswith("s")):
                found.append(m.group(0))
    return found


class _Text(HTMLParser):
    """What a reader sees of a page: text outside code, scripts, styles and form controls."""

    HIDDEN = frozenset({"code", "pre", "script", "style", "select", "textarea", "title"})

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self.depth += 1
        if tag in ("p", "li", "div", "td", "th", "h1", "h2", "h3", "br", "dt", "dd", "tr"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN and self.depth:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if not self.depth:
            self.parts.append(data)


def seen(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return "".join(parser.parts)


def markdown_prose(text: str) -> str:
    """Markdown without its code blocks and inline code."""
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    return re.sub(r"`[^`]*`", "", text)


@cache
def _pdf_text(html: str) -> str:
    reader = pypdf.PdfReader(io.BytesIO(documents.html_to_pdf(html)))
    return "\n".join(page.extract_text() for page in reader.pages)


@pytest.fixture(scope="module")
def stories(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Story]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('words') / 'words.db'}"
    out = {}
    for spec in FOLDERS:
        folder = spec.parent
        name = f"{folder.parent.name[:4]}-{folder.name}"
        forget_workspace(url, name)
        store = bootstrap.store(url, name)
        books = _books(folder)
        workspace.init(store, books[0].locale, books[0].timezone, 0)
        for book in books:
            rulebooks.load(store, book, 0)
        for run in _runs(folder):
            if run[0] == "ingest" and len(run) > 1 and (folder / run[1]).is_file():
                ingest.ingest(store, ingest.read_file(folder / run[1]))
            elif run[0] == "tick":
                clock.tick(store, parse_instant(run[run.index("--as-of") + 1]))
        users.create(store, f"admin@{name}.example.org", "admin", PASSWORD, 0)
        out[name] = Story(name, folder, books, store, url)
    yield out


NAMES = [f"{p.parent.parent.name[:4]}-{p.parent.name}" for p in FOLDERS]


def _assert_plain(texts: dict[str, str], lang: str) -> None:
    problems = {where: found for where, text in texts.items() if (found := leaks(text, lang))}
    assert not problems, json.dumps(problems, ensure_ascii=False, indent=1)[:4000]


def test_the_list_covers_every_example_and_scenario() -> None:
    assert len([p for p in FOLDERS if p.is_relative_to(ROOT / "src")]) >= 6, [p.parent.name for p in FOLDERS]
    if (ROOT.parent / "shared" / "scenarios").is_dir():  # as in CI; a clone elsewhere has only its own examples
        assert len(FOLDERS) >= 10, [p.parent.name for p in FOLDERS]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name", NAMES)
def test_the_appendix_reads_in_plain_words(stories: dict[str, Story], name: str, lang: str) -> None:
    texts = {}
    for book in stories[name].books:
        html = render_html(book, lang, translations(lang))
        texts[f"{book.id}.md"] = markdown_prose(render_markdown(book, lang, translations(lang)))
        texts[f"{book.id}.html"] = seen(html)
        texts[f"{book.id}.pdf"] = _pdf_text(html)
    _assert_plain(texts, lang)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name", NAMES)
def test_explanations_and_messages_read_in_plain_words(stories: dict[str, Story], name: str, lang: str) -> None:
    store = stories[name].store
    with store.read():
        ws = workspace.current(store)
        rows = store.decisions()
        states = store.load_states({r["counterparty"] for r in rows})
        engine = Engine(load_policy(store))
        settings = store.settings()
    assert rows, f"{name} makes no decision to explain"
    texts: dict[str, str] = {}
    for row in rows:
        st = states.get(row["counterparty"])
        texts[f"{row['id']} {row['action']}"] = explanation(engine, row_to_decision(row), st, ws, lang)
        if st is not None and row["action"] in COMMUNICATED:
            subject, body = outbox.letter(engine, msgspec.structs.replace(st, info={**(st.info or {}), "locale": lang}),
                                          row, ws, settings)
            texts[f"{row['id']} message"] = f"{subject}\n{body}"
    _assert_plain(texts, lang)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name", NAMES)
def test_the_pages_read_in_plain_words(stories: dict[str, Story], name: str, lang: str) -> None:
    story = stories[name]
    client = _signed_in(story, lang)
    with story.store.read():
        keys = [c.key for c in story.store.counterparties()]
        versions = [(s.id, s.version) for s in story.store.rulebooks()]
    pages = ["/review", "/rulebooks", *(f"/counterparties/{k}" for k in keys),
             *(f"/rulebooks/{i}/{v}" for i, v in versions)]
    texts = {}
    for path in pages:
        got = client.get(path)
        assert got.status_code == 200, (path, got.status_code)
        texts[path] = seen(got.text)
    _assert_plain(texts, lang)


REPORTS = ("cost-to-serve", "partners", "suppliers", "courtesy")


def _signed_in(story: Story, lang: str) -> TestClient:
    client = TestClient(create_app(story.url), base_url="http://testserver")
    client.cookies.set("firmly_lang", lang)
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
    assert token is not None
    answer = client.post("/login", data={"csrf": token.group(1), "email": f"admin@{story.name}.example.org",
                                         "password": PASSWORD, "next": "/"}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return client


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name", NAMES)
def test_the_reports_read_in_plain_words(stories: dict[str, Story], name: str, lang: str) -> None:
    client = _signed_in(stories[name], lang)
    texts = {}
    for report in REPORTS:
        got = client.get(f"/reports/{report}")
        assert got.status_code == 200, (report, got.status_code)
        texts[report] = seen(got.text)
    _assert_plain(texts, lang)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name", NAMES)
def test_the_cli_tables_read_in_plain_words(stories: dict[str, Story], name: str, lang: str) -> None:
    from typer.testing import CliRunner  # noqa: PLC0415 - only these tests drive the command line

    from firmly.doors.cli import app  # noqa: PLC0415

    story = stories[name]
    where = ["--db", story.url, "--workspace", story.name, "--lang", lang]
    with story.store.read():
        keys = [c.key for c in story.store.counterparties()]
    runner = CliRunner()
    texts = {}
    commands = (["decisions"], ["review", "list"], ["review", "log"], ["outbox", "list"],
                *(["counterparty", "show", k] for k in keys))
    for command in commands:
        done = runner.invoke(app, [*command, *where], env={"COLUMNS": "300"})
        assert done.exit_code == 0, (command, done.output)
        # a decision's id and a counterparty's key are how a person names them to the next command
        texts[" ".join(command)] = re.sub(r"\bd-[0-9a-f]{16}\b", "", done.output)
    _assert_plain(texts, lang)


@pytest.mark.parametrize(("example", "lang"), [("agency-ru", "ru"), ("clinic-en", "en")])
def test_the_readme_shows_the_appendix_as_it_is_rendered(example: str, lang: str) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Words people read", 1)[1].split("\n## Limits of a rulebook", 1)[0]
    blocks = re.findall(r"```markdown\n(.*?)\n```", section, flags=re.S)
    book = rulebooks.read(ROOT / "src" / "firmly" / "examples" / example / "rulebook.yaml")
    rendered = render_markdown(book, lang, translations(lang))
    assert any(block in rendered for block in blocks), f"the README's {lang} excerpt is not what {example} renders"


def test_the_cli_explains_in_the_language_asked_and_json_keeps_what_is_stored(stories: dict[str, Story]) -> None:
    from typer.testing import CliRunner  # noqa: PLC0415 - only this test drives the command line

    from firmly.doors.cli import app  # noqa: PLC0415

    story = stories["exam-agency-ru"]
    common = ["--db", story.url, "--workspace", story.name, "--counterparty", "romashka", "--rule", "revisions"]
    runner = CliRunner()
    english = runner.invoke(app, ["decisions", *common, "--lang", "en"], env={"COLUMNS": "300"})
    russian = runner.invoke(app, ["decisions", *common], env={"COLUMNS": "300"})
    stored = runner.invoke(app, ["decisions", *common, "--lang", "en", "--json"])
    assert english.exit_code == russian.exit_code == stored.exit_code == 0, english.output + russian.output
    assert 'Beyond what is included under "Две правки макета' in english.output
    assert "Сверх включённого объёма" not in english.output
    assert "Сверх включённого объёма по правилу «Две правки макета" in russian.output, "the workspace's language"
    heads = [line for line in russian.output.splitlines() if not line.startswith(" ")]  # a decision's own line
    assert heads and all("Две правки макета на заказ" in h and "применено" in h for h in heads), heads
    assert not any(re.search(r"\b(?:revisions|bill|applied)\b", h) for h in heads), "rule, action, status by name"
    assert any("applied" in line for line in english.output.splitlines() if not line.startswith(" "))
    assert all("Сверх включённого объёма" in d["explanation"] for d in json.loads(stored.output)
               if d["action"] == "bill"), "--json keeps the stored sentence"
