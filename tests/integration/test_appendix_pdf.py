"""`firmly rulebook render --format pdf`: the contract appendix drawn by WeasyPrint, read back with pypdf."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pypdf
import pytest

from firmly.domain.render import render_html
from firmly.doors.catalogues import translations
from firmly.service import rulebooks

EXAMPLES = Path(__file__).resolve().parents[2] / "src" / "firmly" / "examples"
BLOCKS = ("h1", "h2", "p", "li")


def firmly(cwd: Path, *args: str, stdout: int = subprocess.PIPE) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "firmly", *args], cwd=cwd, stdout=stdout, stderr=subprocess.PIPE,
                          timeout=120, check=False)


class _Blocks(HTMLParser):
    """The text of each heading, paragraph and list item, in the order a reader meets them."""

    def __init__(self) -> None:
        super().__init__()
        self.blocks: list[str] = []
        self._open = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in BLOCKS:
            self.blocks.append("")
            self._open = True

    def handle_endtag(self, tag: str) -> None:
        if tag in BLOCKS:
            self._open = False

    def handle_data(self, data: str) -> None:
        if self._open:
            self.blocks[-1] += data


def _squeeze(text: str) -> str:
    # Lines wrap differently on paper; spaces (and the no-break spaces in amounts) are not what is compared.
    return "".join(text.split())


def _pdf(data: bytes) -> pypdf.PdfReader:
    assert data.startswith(b"%PDF-")
    return pypdf.PdfReader(io.BytesIO(data))


def _assert_same_text(reader: pypdf.PdfReader, html: str) -> None:
    paper = _squeeze("\n".join(page.extract_text() for page in reader.pages))
    parser = _Blocks()
    parser.feed(html)
    assert len(parser.blocks) > 10
    at = 0
    for block in parser.blocks:
        found = paper.find(_squeeze(block), at)
        assert found >= 0, f"not in the PDF (or out of order): {block!r}"
        at = found + len(_squeeze(block))


@pytest.mark.parametrize(("example", "lang"), [("clinic-en", "ru"), ("clinic-en", "en"),
                                               ("agency-ru", "ru"), ("agency-ru", "en")])
def test_pdf_says_what_the_html_says(tmp_path: Path, example: str, lang: str) -> None:
    source = EXAMPLES / example / "rulebook.yaml"
    proc = firmly(tmp_path, "rulebook", "render", str(source), "--format", "pdf", "--lang", lang,
                  "-o", "appendix.pdf")
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout == b""
    assert "written appendix.pdf" in proc.stderr.decode()
    book = rulebooks.read(source)
    reader = _pdf((tmp_path / "appendix.pdf").read_bytes())
    assert reader.metadata is not None and reader.metadata.title == book.title
    _assert_same_text(reader, render_html(book, lang, translations(lang)))


def test_piped_pdf_goes_to_stdout_in_the_books_language(tmp_path: Path) -> None:
    proc = firmly(tmp_path, "rulebook", "render", str(EXAMPLES / "agency-ru" / "rulebook.yaml"), "--format", "pdf")
    assert proc.returncode == 0, proc.stderr.decode()
    text = " ".join(" ".join(page.extract_text() for page in _pdf(proc.stdout).pages).split())  # unwrapped
    assert "Правила работы с заказчиками типографии «Оттиск»" in text
    assert "Зачем. Бумагу и краску мы закупаем заранее, под ваши заказы." in text
    assert "Правка макета сверх включённых: 1 200,00 ₽" in text.replace("\xa0", " ")


def test_refuses_to_print_a_pdf_on_a_terminal(tmp_path: Path) -> None:
    leader, follower = pty.openpty()
    try:
        proc = firmly(tmp_path, "rulebook", "render", str(EXAMPLES / "clinic-en" / "rulebook.yaml"),
                      "--format", "pdf", stdout=follower)
    finally:
        os.close(follower)
        os.close(leader)
    assert proc.returncode == 1
    said = proc.stderr.decode()
    assert "a PDF cannot be shown on a terminal: add -o FILE.pdf" in said
    assert "Traceback" not in said


def test_broken_rulebook_names_file_and_line_and_writes_nothing(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text((EXAMPLES / "agency-ru" / "rulebook.yaml").read_text(encoding="utf-8")
                      .replace("currency: RUB", "currency: RUB\nwindow: soon", 1), encoding="utf-8")
    proc = firmly(tmp_path, "rulebook", "render", str(broken), "--format", "pdf", "-o", "appendix.pdf")
    assert proc.returncode == 1
    said = proc.stderr.decode()
    assert f"{broken}:6" in said, said
    assert "Traceback" not in said
    assert not (tmp_path / "appendix.pdf").exists()
