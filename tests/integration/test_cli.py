"""The command line as scripts use it: exit codes, JSON shapes, errors without tracebacks."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pypdf
import pytest

from firmly.service import demo

EXAMPLE = Path(__file__).resolve().parents[2] / "src" / "firmly" / "examples" / "clinic-en"


def firmly(tmp_path: Path, *args: str, db: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FIRMLY_DATABASE_URL": db or f"sqlite:///{tmp_path / 'cli.db'}",
           "FIRMLY_WORKSPACE": "cli"}
    return subprocess.run([sys.executable, "-m", "firmly", *args], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def test_ingest_json_report(tmp_path: Path) -> None:
    assert firmly(tmp_path, "init").returncode == 0
    assert firmly(tmp_path, "rulebook", "load", str(EXAMPLE / "rulebook.yaml")).returncode == 0
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "type": "review.received", "counterparty": "p", '
                   '"occurred_at": "2026-05-01T10:00:00+01:00", "data": {"rating": 9}}\n')
    proc = firmly(tmp_path, "ingest", str(EXAMPLE / "events.jsonl"), str(bad), "--json")
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    assert (report["stored"], report["duplicates"], report["rejected"]) == (29, 0, 1)
    assert report["rejections"] == [{"file": "bad.jsonl", "line": 1, "id": "x", "field": "data.rating",
                                     "reason": "must be a whole number from 1 to 5, got 9"}]


def test_json_shapes_of_show_and_decisions(tmp_path: Path) -> None:
    firmly(tmp_path, "init")
    firmly(tmp_path, "rulebook", "load", str(EXAMPLE / "rulebook.yaml"))
    firmly(tmp_path, "ingest", str(EXAMPLE / "events.jsonl"))
    page = json.loads(firmly(tmp_path, "counterparty", "show", "tom", "--json").stdout)
    assert {"key", "kind", "name", "tier", "status", "restrictions", "rules", "account", "scores"} <= set(page)
    assert set(page["rules"]["late_change"]) == {"strikes", "step", "kept_streak", "broken", "kept"}
    assert page["restrictions"][0]["until"].endswith("+00:00")
    rows = json.loads(firmly(tmp_path, "decisions", "--counterparty", "tom", "--json").stdout)
    assert {"id", "counterparty", "rule", "at", "action", "status", "amount", "event", "evidence",
            "explanation"} <= set(rows[0])
    assert [r["at"] for r in rows] == sorted(r["at"] for r in rows)
    listed = json.loads(firmly(tmp_path, "counterparty", "list", "--status", "restricted", "--json").stdout)
    assert [r["key"] for r in listed] == ["tom"]


@pytest.mark.parametrize(("args", "code", "says"), [
    (("ingest", "missing.jsonl"), 1, "no such file"),
    (("rulebook", "check", "missing.yaml"), 1, "cannot read"),
    (("tick", "--as-of", "2026-05-01 10:00"), 1, "offset"),
    (("counterparty", "show", "nobody"), 1, "nobody"),
    (("review", "approve", "d-none", "--reason", "x"), 1, "no decision"),
    (("rulebook", "render", "x.yaml", "--format", "docx"), 1, ""),
    (("nonsense",), 2, "No such command"),
    (("account", "show", "nobody"), 1, "nobody"),
    (("account", "invoice", "nobody"), 1, "nobody"),
    (("account", "invoice", "x", "--format", "docx"), 1, "pdf or html"),
    (("report", "gossip"), 1, "no report 'gossip'"),
    (("review", "approve", "d-none"), 2, "--reason"),
])
def test_errors_are_clear_and_never_tracebacks(tmp_path: Path, args: tuple[str, ...], code: int, says: str) -> None:
    firmly(tmp_path, "init")
    proc = firmly(tmp_path, *args)
    said = proc.stdout + proc.stderr
    assert proc.returncode == code, said
    assert says in said
    assert "Traceback" not in said


def test_a_database_that_was_never_initialised_is_a_clear_error(tmp_path: Path) -> None:
    proc = firmly(tmp_path, "counterparty", "list")
    assert proc.returncode == 1
    assert "firmly init" in proc.stderr and "Traceback" not in proc.stderr


def test_render_writes_the_appendix(tmp_path: Path) -> None:
    target = tmp_path / "appendix.html"
    proc = firmly(tmp_path, "rulebook", "render", str(EXAMPLE / "rulebook.yaml"), "--format", "html",
                  "--lang", "ru", "-o", str(target))
    assert proc.returncode == 0, proc.stderr
    text = target.read_text()
    assert "<h1>Bright Smile Dental" in text and "Последствия нарушений" in text and "25,00\xa0£" in text


STUDIO = EXAMPLE.parent / "studio-en"


def test_account_statement_report_csv_and_invoice_pdf(tmp_path: Path) -> None:
    firmly(tmp_path, "init")
    firmly(tmp_path, "rulebook", "load", str(STUDIO / "rulebook.yaml"))
    firmly(tmp_path, "ingest", str(STUDIO / "events.jsonl"))
    statement = firmly(tmp_path, "account", "show", "acme")
    assert statement.returncode == 0
    # the workspace is Russian (the default): its money and its words read as Russian writes them
    assert "баланс -90,00\u00a0€" in statement.stdout and "к оплате 150,00\u00a0€" in statement.stdout
    assert "предоплата" in statement.stdout and "особая цена этого контрагента" in statement.stdout
    english = firmly(tmp_path, "account", "show", "acme", "--lang", "en").stdout
    assert "balance -€90.00" in english and "prepaid" in english and "this counterparty's own price" in english
    page = json.loads(firmly(tmp_path, "counterparty", "show", "acme", "--json").stdout)
    assert page["account"] == {"balance": "-90.00", "currency": "EUR", "due": "150.00"}
    assert page["scores"]["cost_to_serve_ratio"] >= 3
    rows = list(csv.DictReader(io.StringIO(firmly(tmp_path, "report", "cost-to-serve", "--csv").stdout)))
    assert rows[0]["key"] == "acme" and rows[0]["flagged"] == "True"
    assert rows[0]["off_channel"] == "3" and "design_change=3" in rows[0]["by_topic"]
    refused = firmly(tmp_path, "account", "invoice", "acme", "--out", "top-up.pdf")
    assert refused.returncode == 1 and not (tmp_path / "top-up.pdf").exists()
    assert "seller_name, seller_address, seller_bank, seller_inn, seller_bik, seller_account, " \
           "seller_corr_account" in refused.stderr and "firmly workspace set seller_name" in refused.stderr
    assert "Traceback" not in refused.stderr
    for name, value in demo.SELLER["en"].items():
        assert firmly(tmp_path, "workspace", "set", name, value).returncode == 0
    made = firmly(tmp_path, "account", "invoice", "acme", "--out", "top-up.pdf")
    assert made.returncode == 0, made.stderr
    text = "".join(page.extract_text() for page in pypdf.PdfReader(tmp_path / "top-up.pdf").pages)
    assert "3000.00 EUR" in text and "Acme GmbH" in text and "2026-0001" in text
    assert "Demo Services Ltd" in text and "GB82WEST12345698765432" in text
    assert "how we work" not in text  # the rulebook's title is never the seller
    assert made.stderr == ""  # WeasyPrint's chatter stays out of the operator's terminal


def test_rulebook_load_records_who_loaded_each_version(tmp_path: Path) -> None:
    assert firmly(tmp_path, "init").returncode == 0
    assert firmly(tmp_path, "rulebook", "load", str(EXAMPLE / "rulebook.yaml"), "--by", "olga@example.org"
                  ).returncode == 0
    later = tmp_path / "later.yaml"
    later.write_text((EXAMPLE / "rulebook.yaml").read_text(encoding="utf-8").replace('"2026-05"', '"2026-06"', 1),
                     encoding="utf-8")
    env_author = {**os.environ, "FIRMLY_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
                  "FIRMLY_WORKSPACE": "cli", "FIRMLY_AUTHOR": "night-import"}
    loaded = subprocess.run([sys.executable, "-m", "firmly", "rulebook", "load", str(later)], cwd=tmp_path,
                            env=env_author, capture_output=True, text=True, timeout=120, check=False)
    assert loaded.returncode == 0, loaded.stderr
    rows = json.loads(firmly(tmp_path, "rulebook", "list", "--json").stdout)
    assert [(r["version"], r["loaded_by"]) for r in rows] == [("2026-05", "olga@example.org"),
                                                             ("2026-06", "night-import")]
    table = subprocess.run([sys.executable, "-m", "firmly", "rulebook", "list"], cwd=tmp_path,
                           env={**env_author, "COLUMNS": "200"}, capture_output=True, text=True, timeout=120,
                           check=False).stdout
    assert "olga@example.org" in table and "night-import" in table
