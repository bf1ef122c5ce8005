"""Bounded rulebooks through the doors (ASGI client, the CLI as a process): a hostile rulebook or setting is a
clear answer with its line, never a 5xx; simulations run one at a time per workspace; and after a rulebook
that passed is loaded, ingesting never crashes and a replay changes nothing. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmly import bootstrap
from firmly.domain.errors import FirmlyError, InvalidInput
from firmly.domain.events import validate
from firmly.doors.api import create_app
from firmly.service import ingest, outbox, replay, rulebooks, simulate, tokens, users, what_if_jobs, workspace
from tests.integration.test_cli import firmly
from tests.integration.test_web import PASSWORD, csrf
from tests.unit.test_rulebook_limits import alias_bomb

ROOT = Path(__file__).resolve().parents[2]
CLINIC = ROOT / "src" / "firmly" / "examples" / "clinic-en"
SOURCE = (CLINIC / "rulebook.yaml").read_text(encoding="utf-8")
YAML = {"content-type": "application/yaml"}


@dataclass
class Door:
    client: TestClient
    workspace: str
    url: str
    headers: dict[str, str]


@pytest.fixture
def door(database_url: str) -> Iterator[Door]:
    ws = f"limits-{uuid.uuid4().hex[:8]}"
    store = bootstrap.store(database_url, ws)
    workspace.init(store, "en", "Europe/London", 0)
    rulebooks.load(store, rulebooks.read(CLINIC / "rulebook.yaml"), 0)
    events = [json.loads(line) for line in (CLINIC / "events.jsonl").read_text(encoding="utf-8").splitlines()
              if line.strip()]
    report = ingest.ingest(store, [("setup", n, validate(ev)) for n, ev in enumerate(events)])
    assert not report.rejected
    token = tokens.create(store, "admin", "limits", 0).token
    for role in ("viewer", "operator"):
        users.create(store, f"{role}@{ws}.example.org", role, PASSWORD, 0)
    with TestClient(create_app(database_url), base_url="http://testserver") as client:
        yield Door(client, ws, database_url, {"Authorization": f"Bearer {token}"})


def post(door: Door, path: str, text: str) -> Any:
    return door.client.post(path, content=text.encode("utf-8", "surrogatepass"), headers={**door.headers, **YAML})


def assert_refused_at(answer: Any, line: int, says: str) -> None:
    assert answer.status_code == 422, answer.text
    problems = answer.json()["error"]["problems"]
    assert any(p["line"] == line and says in p["message"] for p in problems), problems


# -- the defects as the doors saw them ---------------------------------------------------------------------
def test_the_simulation_that_aborted_the_server_is_refused_at_its_line(door: Door) -> None:
    text = SOURCE.replace("    min_notice: 12h\n", "    min_notice: 12h\n    when: 'len(map([0..100000000], #)) > 0'\n",
                          1)
    line = text.splitlines().index("    when: 'len(map([0..100000000], #)) > 0'") + 1
    assert_refused_at(post(door, "/v1/simulations", text), line, "a range of 100,000,000 values")
    assert door.client.get("/healthz").status_code == 200


def sign_in(door: Door, role: str) -> TestClient:
    c = door.client
    login = {"csrf": csrf(c.get("/login").text), "email": f"{role}@{door.workspace}.example.org",
             "password": PASSWORD, "next": "/"}
    assert c.post("/login", data=login, follow_redirects=False).status_code == 303
    return c


def test_an_alias_bomb_on_the_upload_page_is_a_422_page(door: Door) -> None:
    c = sign_in(door, "viewer")
    page = c.get("/rulebooks/upload")
    form = {"csrf": csrf(page.text), "source": alias_bomb(6), "action": "check"}
    answer = c.post("/rulebooks/upload", data=form)
    assert answer.status_code == 422
    assert "stand for more than 10,000 values" in answer.text


def test_the_cli_check_of_a_nine_level_alias_bomb_says_where(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(alias_bomb(9), encoding="utf-8")
    done = firmly(tmp_path, "rulebook", "check", str(path))
    assert done.returncode != 0
    assert f"{path}:8: yaml: its aliases (*name) stand for more than 10,000 values" in done.stdout + done.stderr
    assert "Traceback" not in done.stderr


def test_a_second_simulation_in_the_same_workspace_waits_its_turn(door: Door) -> None:
    with simulate._one_at_a_time(door.workspace):  # one running: what a long simulation looks like from outside
        busy = post(door, "/v1/simulations", SOURCE)
        assert busy.status_code == 429
        assert busy.headers["retry-after"] == str(simulate.RETRY_AFTER)
        assert busy.json()["error"]["code"] == "busy"
        assert door.client.get("/v1/rulebooks", headers=door.headers).status_code == 200  # others are served
    assert post(door, "/v1/simulations", SOURCE).status_code == 200


def test_the_web_what_if_says_when_a_simulation_is_already_running(door: Door) -> None:
    c = sign_in(door, "operator")
    form = {"csrf": csrf(c.get("/rulebooks/what-if").text), "source": SOURCE}
    running = what_if_jobs.Job("running", door.workspace, "smile@1", time.monotonic())  # a job still replaying
    what_if_jobs._jobs[running.id] = running
    try:
        busy = c.post("/rulebooks/what-if", data=form)
    finally:
        del what_if_jobs._jobs[running.id]
    assert busy.status_code == 429
    assert busy.headers["retry-after"] == str(simulate.RETRY_AFTER)
    assert "A simulation is already running in this workspace" in busy.text
    assert c.post("/rulebooks/what-if", data=form).status_code == 200


def test_workspace_messages_with_bad_templates_are_refused_at_their_line(door: Door) -> None:
    store = bootstrap.store(door.url, door.workspace)
    for value, line, says in (("warning:\n  en:\n    body: \"Dear {0}\"\n", 3, "uses the field {0}"),
                              ("fee:\n  ru:\n    subject: ok\n    body: \"{\"\n", 4, "opens or closes no field"),
                              ("a: &a [*a]\n", 1, "refers to the value that contains it"),
                              ("x: !!int 'abc'\n", 1, "is not a valid whole number")):
        with pytest.raises(InvalidInput) as caught:
            outbox.set_setting(store, "messages", value)
        assert (caught.value.problems[0].line, says in caught.value.problems[0].message) == (line, True)
    assert "messages" not in outbox.settings(store)
    outbox.set_setting(store, "messages", "warning:\n  en:\n    body: \"Dear {name}: {explanation}\"\n")


# -- fuzzing: hostile values in every part of a rulebook ---------------------------------------------------
HOSTILE = st.sampled_from([
    ".nan", ".inf", "-.inf", "1.0e+308", "100000000000000000000000000000", "-99999999999", "0", "!!int 'abc'",
    "!!float 'x'", "!!timestamp 'no'", "!!binary aGk=", "!!python/name:os.system", "*undefined", "&a [*a]",
    "0001-01-01", "9999-12-31", "2026-02-30", "10000000000d", "36600d", "'{0}'", "'{'", "'{name.__class__}'",
    "'{amount:>999999999}'", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
    "'len(map([0..100000000], #)) > 0'", "'count([0..data.n], true) > 0'", "'some(data.a, some(#, some(#, true)))'",
    "'\u202e\u0000'", "\"\\ud800\"", "'\U0001f600' ", "{<<: {a: 1}}", "''", "~", "true", "[]", "{}",
])
SLOTS = [  # (the text in the clinic rulebook, how a hostile value replaces it)
    ("    min_notice: 12h", "    min_notice: {}"),
    ("      at: [24h, 2h]", "      at: [24h, {}]"),
    ("    window: 120d", "    window: {}"),
    ("    earn_back: 4", "    earn_back: {}"),
    ('      - fee: "25.00"', "      - fee: {}"),
    ("    introduced: 2026-05-01", "    introduced: {}"),
    ("    thank_for: 30d", "    thank_for: {}"),
    ("    min_notice: 12h", "    min_notice: 12h\n    when: {}"),
    ("locale: en", "locale: en\nmessages:\n  warning:\n    en:\n      body: {}"),
    ("locale: en", "locale: en\nkarma:\n  start: {}"),
    ("locale: en", "locale: en\nreviews:\n  prior_weight: {}"),
    ("locale: en", "locale: en\naccount:\n  credit_limit: {}"),
    ("locale: en", "locale: en\ndescription: {}"),
]


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(slot=st.sampled_from(SLOTS), value=HOSTILE)
def test_fuzz_hostile_rulebooks_through_the_api(door: Door, slot: tuple[str, str], value: str) -> None:
    original, template = slot
    assert original in SOURCE, original
    text = SOURCE.replace(original, template.format(value), 1)
    simulated = post(door, "/v1/simulations", text)
    assert simulated.status_code in (200, 422), simulated.text
    # Loaded as the first rulebook of a workspace of its own: what a business starting with it would see.
    ws = f"fuzz-{uuid.uuid4().hex[:8]}"
    store = bootstrap.store(door.url, ws)
    workspace.init(store, "en", "Europe/London", 0)
    own = Door(door.client, ws, door.url, {"Authorization": f"Bearer {tokens.create(store, 'admin', 'f', 0).token}"})
    loaded = post(own, "/v1/rulebooks", text)
    assert loaded.status_code in (201, 422), loaded.text
    assert (loaded.status_code == 201) == (simulated.status_code == 200)
    if loaded.status_code == 422:
        problems = loaded.json()["error"]["problems"]
        assert problems and all(p["line"] and p["field"] and p["message"] for p in problems), problems
        assert loaded.json()["error"]["problems"] == simulated.json()["error"]["problems"]
        return
    events = [json.loads(line) for line in (CLINIC / "events.jsonl").read_text(encoding="utf-8").splitlines()
              if line.strip()]
    late = {"id": "fz-late", "type": "appointment.cancelled", "counterparty": "ann",
            "occurred_at": "2026-06-01T10:00:00+01:00", "data": {"appointment": "a-late", "a": [1, 2]}}
    report = ingest.ingest(store, [("fuzz", n, validate(ev)) for n, ev in enumerate([*events, late])])
    assert not report.rejected
    assert replay.replay(store).rewritten == 0


SETTING_VALUES = st.sampled_from([
    "", " ", "off", "21:00-09:00", "25:00-99:99", "0", "-1", "99999999999999999999999", "3", "whsec_", "x" * 5000,
    "http://", "https://example.org/hook", "javascript:alert(1)", "\u202e\U0001f600", "{0}", "{", "a: &a [*a]",
    "warning:\n  en:\n    body: \"{0}\"\n", "warning:\n  en:\n    body: \"{name} {amount:>999999999}\"\n",
    "warning:\n  en:\n    subject: \"{title}\"\n    body: \"Dear {name}: {explanation}\"\n", "!!python/object:x {}",
    "feedback: {en: {body: !!int 'x'}}", "[" * 100 + "]" * 100, "feedback:\n  en:\n    <<: {body: x}\n",
])


@settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(sorted(outbox.SETTINGS)), value=SETTING_VALUES)
def test_fuzz_workspace_settings_never_break_a_letter(door: Door, name: str, value: str) -> None:
    store = bootstrap.store(door.url, door.workspace)
    try:
        outbox.set_setting(store, name, value)
    except FirmlyError as exc:
        assert str(exc) and "Traceback" not in str(exc)
    before = {m.id for m in outbox.listed(store, None)}
    now = datetime.now(UTC).replace(microsecond=0)
    key = uuid.uuid4().hex[:8]
    late = [{"id": f"b-{key}", "type": "appointment.booked", "counterparty": "lucy",
             "occurred_at": (now - timedelta(days=2)).isoformat(),
             "data": {"appointment": key, "starts_at": (now - timedelta(hours=1)).isoformat()}},
            {"id": f"c-{key}", "type": "appointment.cancelled", "counterparty": "lucy",
             "occurred_at": (now - timedelta(hours=2)).isoformat(), "data": {"appointment": key}}]
    report = ingest.ingest(store, [("fuzz", n, validate(ev)) for n, ev in enumerate(late)])
    assert not report.rejected
    letters = [m for m in outbox.listed(store, None) if m.id not in before and m.recipient == "lucy@example.org"]
    assert letters and all(m.subject and m.body.startswith("Dear Lucy Grey") for m in letters), letters
    outbox.set_setting(store, name, None)
