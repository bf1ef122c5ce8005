"""Hostile event files through `read_file` and `ingest`, on SQLite and PostgreSQL: every bad line is rejected
alone with its line and field, its good neighbours are stored, both databases keep exactly the same events,
and a replay afterwards changes no decision."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from firmly import bootstrap
from firmly.adapters.sql.store import make_engine
from firmly.domain import limits
from firmly.domain.errors import FirmlyError
from firmly.domain.events import Event, validate
from firmly.domain.ports import Store
from firmly.service import ingest, queries, replay, review, rulebooks, workspace
from firmly.service.ingest import IngestReport, Rejection

EXAMPLE = Path(__file__).resolve().parents[2] / "src" / "firmly" / "examples" / "clinic-en"
AT = "2026-03-01T10:00:00+03:00"


@pytest.fixture
def store(database_url: str) -> Store:
    """A fresh workspace under the clinic rulebook (reminders and windows are computed from the times)."""
    made = bootstrap.store(database_url, f"hostile-{uuid.uuid4().hex[:8]}")
    workspace.init(made, "en", "Europe/London", 0)
    rulebooks.load(made, rulebooks.read(EXAMPLE / "rulebook.yaml"), 0)
    return made


def good(n: int) -> dict[str, Any]:
    return {"id": f"ok-{n}", "type": "appointment.booked", "counterparty": "anna", "occurred_at": AT,
            "data": {"appointment": f"a-{n}", "starts_at": "2026-03-05T10:00:00+03:00"}}


def bad(kind: str, **data: Any) -> dict[str, Any]:
    return {"id": f"bad-{uuid.uuid4().hex[:6]}", "type": kind, "counterparty": "anna", "occurred_at": AT,
            "data": data}


def line(event: dict[str, Any]) -> bytes:
    return json.dumps(event, ensure_ascii=False).encode()


# Each of these once broke `firmly ingest` with a traceback (storing nothing of its file), or was stored by
# SQLite and refused by PostgreSQL: (the line, the field named)
HOSTILE_LINES: list[tuple[bytes, str]] = [
    (line(bad("work.logged", minutes=10**30)), "data.minutes"),
    (line(bad("service.rendered", service="x", quantity=1e308)), "data.quantity"),
    (line(bad("service.rendered", service="x", quantity=1e25)), "data.quantity"),
    (line(bad("grace.requested", text="please", late_by="99999999999999999999d")), "data.late_by"),
    (line(bad("appointment.booked", appointment="z", starts_at="9999-12-31T23:00:00-05:00")), "data.starts_at"),
    (line({**good(0), "occurred_at": "0001-01-01T00:00:00+03:00", "id": "year-1"}), "occurred_at"),
    (b'{"id": "deep", "type": "x", "counterparty": "anna", "occurred_at": "' + AT.encode() + b'", "data": {"a": '
     + b"[" * 1000 + b"]" * 1000 + b"}}", "json"),
    (b'{"id": "latin", "type": "x", "counterparty": "zo\xeb", "occurred_at": "' + AT.encode() + b'"}', "json"),
    (line({**good(0), "id": "i" * 201}), "id"),
    (line({**good(0), "id": "long-type", "type": "t" * 101}), "type"),
    (line({**good(0), "id": "long-key", "counterparty": "k" * 201}), "counterparty"),
    (line(bad("counterparty.upserted", tier="t" * 101)), "data.tier"),
    (line(bad("appointment.booked", appointment="a", starts_at=AT, partner="p" * 201)), "data.partner"),
    (line(bad("service.rendered", service="s" * 101)), "data.service"),
    (line(bad("message.received", text="x" * (limits.TEXT + 1))), "data.text"),
]


def ingest_file(store: Store, path: Path) -> IngestReport:
    return ingest.ingest(store, ingest.read_file(path))


def stored(store: Store, *ids: str) -> set[str]:
    with store.read():
        return set(store.digests(set(ids)))


def test_each_hostile_line_is_rejected_alone_and_its_neighbours_stored(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "hostile.jsonl"
    lines, expected = [], {}
    for n, (hostile, field) in enumerate(HOSTILE_LINES):
        lines += [line(good(2 * n)), hostile]
        expected[len(lines)] = field
    lines.append(line(good(999)))
    path.write_bytes(b"\n".join(lines) + b"\n")
    report = ingest_file(store, path)
    assert {r.line: r.field for r in report.rejected} == expected
    for rejection in report.rejected:
        assert rejection.where == "hostile.jsonl"
        assert len(rejection.message) < 300, rejection.message
    assert report.stored == len(HOSTILE_LINES) + 1
    goods = {f"ok-{2 * n}" for n in range(len(HOSTILE_LINES))} | {"ok-999"}
    assert stored(store, *goods) == goods
    assert replay.replay(store).rewritten == 0
    again = ingest_file(store, path)
    assert (again.stored, again.duplicates, len(again.rejected)) == (0, len(goods), len(HOSTILE_LINES))


def test_a_jsonl_file_that_starts_with_a_bom_keeps_its_first_line(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + line(good(1)) + b"\n" + line(good(2)) + b"\n")
    report = ingest_file(store, path)
    assert (report.stored, report.rejected) == (2, [])


def test_a_utf16_jsonl_file_is_read_by_its_bom(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "windows.jsonl"
    path.write_bytes((json.dumps(good(1)) + "\r\n" + json.dumps({**good(2), "counterparty": "Зоя"}) + "\r\n")
                     .encode("utf-16"))
    report = ingest_file(store, path)
    assert (report.stored, report.rejected) == (2, [])


CSV_HEAD = "id,type,counterparty,occurred_at,appointment,starts_at,invoice,amount,due_at,minutes,in_tariff,ward\n"


def csv_row(*cells: str) -> str:
    return ",".join(cells) + "\n"


def test_csv_cells_stay_text_where_the_catalogue_wants_text(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "typed.csv"
    path.write_text(CSV_HEAD
                    + csv_row("b1", "appointment.booked", "anna", AT, "1001", "2026-03-05T10:00:00+03:00", "", "",
                              "", "", "", "007")
                    + csv_row("i1", "invoice.issued", "anna", AT, "", "", "00042", "1500.50", AT, "", "", "12")
                    + csv_row("w1", "work.logged", "anna", AT, "", "", "", "", "", "90", "true", "")
                    + csv_row("w2", "work.logged", "anna", AT, "", "", "", "", "", "1.5", "false", ""),
                    encoding="utf-8")
    report = ingest_file(store, path)
    assert (report.stored, report.rejected) == (4, [])
    with store.read():
        by_id = {ev.id: ev.data for ev in store.all_events()}
    assert by_id["b1"]["appointment"] == "1001"
    assert by_id["b1"]["ward"] == "007", "a field outside the catalogue keeps its leading zeros"
    assert by_id["i1"] == {"invoice": "00042", "amount": "1500.50", "due_at": AT, "ward": 12}
    assert by_id["w1"] == {"minutes": 90, "in_tariff": True}
    assert by_id["w2"] == {"minutes": 1.5, "in_tariff": False}


def test_odd_csv_cells_are_rejected_alone(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "odd.csv"
    huge = "я" * (limits.EVENT_BYTES + 1)
    path.write_text("\ufeff" + CSV_HEAD  # Excel's "CSV UTF-8" starts with a BOM
                    + csv_row("ok-1", "appointment.attended", "anna", AT, "a1", "", "", "", "", "", "", "")
                    + csv_row("sq", "work.logged", "anna", AT, "", "", "", "", "", "²", "", "")
                    + csv_row("long", "work.logged", "anna", AT, "", "", "", "", "", "9" * 5000, "", "")
                    + csv_row("big", "appointment.attended", "anna", AT, "a2", "", "", "", "", "", "", f'"{huge}"')
                    + csv_row("ar", "work.logged", "anna", AT, "", "", "", "", "", "٣", "", "")
                    + csv_row("ok-2", "appointment.attended", "anna", AT, "a3", "", "", "", "", "", "", "²"),
                    encoding="utf-8")
    report = ingest_file(store, path)
    assert {(r.line, r.field) for r in report.rejected} == {
        (3, "data.minutes"), (4, "data.minutes"), (5, "ward"), (6, "data.minutes")}
    assert all(len(r.message) < 300 for r in report.rejected)
    assert stored(store, "ok-1", "ok-2") == {"ok-1", "ok-2"}
    with store.read():
        assert next(ev for ev in store.all_events() if ev.id == "ok-2").data["ward"] == "²"


@pytest.mark.parametrize(("codec", "text"), [("latin-1", "Zoë Müller, très bien"),
                                             ("cp1251", "Анна Иванова, спасибо")])
def test_a_csv_in_a_legacy_encoding_is_refused_with_one_clear_message(store: Store, tmp_path: Path, codec: str,
                                                                      text: str) -> None:
    """Refused, not guessed: a wrong guess would be stored for good (events are never edited)."""
    path = tmp_path / "export.csv"
    path.write_bytes(("id,type,counterparty,occurred_at,text\n"
                      f"m1,message.received,anna,{AT},hello\n"
                      f"m2,message.received,anna,{AT},{text}\n").encode(codec))
    report = ingest_file(store, path)
    assert report.stored == 0
    [rejection] = report.rejected
    assert (rejection.where, rejection.line, rejection.field) == ("export.csv", 3, "file")
    assert "is not UTF-8 text" in rejection.message and "save it as UTF-8" in rejection.message


def test_a_value_the_database_refuses_rejects_that_event_alone(store: Store) -> None:
    """Should a value pass the door and still be refused by the database (here an instant before 64 bits reach,
    made without the door; one as far in the future is refused by the horizon first), the chunk is stored again
    around it: the event is rejected, its neighbours kept."""
    events: list[ingest.Parsed] = [("made", n, validate(good(n))) for n in range(9)]
    broken = validate({**good(100), "id": "past-64-bits"})
    broken = Event(**{**{f: getattr(broken, f) for f in Event.__struct_fields__}, "at": -(2**63) - 1})
    events.insert(5, ("made", 100, broken))
    report = ingest.ingest(store, events, detailed=True)
    assert report.stored == 9
    [rejection] = report.rejected
    assert (rejection.line, rejection.event, rejection.field) == (100, "past-64-bits", "event")
    assert report.results is not None
    assert [r["status"] for r in report.results] == ["stored"] * 5 + ["rejected"] + ["stored"] * 4
    assert stored(store, *(f"ok-{n}" for n in range(9))) == {f"ok-{n}" for n in range(9)}
    assert replay.replay(store).rewritten == 0


def test_a_rejection_quotes_a_long_value_cut_short() -> None:
    made = ingest.pieces("body", [line({**good(0), "counterparty": "k" * 5000})])
    [(_, _, rejection)] = made
    assert isinstance(rejection, Rejection)
    assert rejection.field == "counterparty" and "5000 characters" in rejection.message
    assert len(rejection.message) < 200


def test_the_command_line_names_each_bad_line_and_stores_the_rest(database_url: str, tmp_path: Path) -> None:
    """`firmly ingest` once printed a traceback (or, on PostgreSQL, "database error: value too long" with no
    file or line) and stored nothing of the file; now each bad line is named, the rest stored, exit 1."""
    env = {**os.environ, "FIRMLY_DATABASE_URL": database_url, "FIRMLY_WORKSPACE": f"cli-{uuid.uuid4().hex[:8]}"}

    def firmly(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "firmly", *args], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=120, check=False)

    assert firmly("init").returncode == 0
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join([line(good(1)), HOSTILE_LINES[0][0], line({**good(0), "id": "i" * 201}),
                                 HOSTILE_LINES[6][0], line(good(2))]) + b"\n")
    proc = firmly("ingest", str(path), "--json")
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    report = json.loads(proc.stdout)
    assert report["stored"] == 2
    assert [(r["file"], r["line"], r["field"]) for r in report["rejections"]] == [
        ("mixed.jsonl", 2, "data.minutes"), ("mixed.jsonl", 3, "id"), ("mixed.jsonl", 4, "json")]


def test_the_readme_states_the_limits_the_door_checks() -> None:
    readme = (EXAMPLE.parents[3] / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("**Limits.**"):]
    table = table[:table.index("\n\n", table.index("| what | limit |"))]
    for row in (f"| `id` | {limits.ID} characters |", f"| `type` | {limits.TYPE} characters |",
                f"| `counterparty`, `data.partner` | {limits.KEY} characters |",
                f"from {limits.FIRST_YEAR} up to {limits.END_YEAR}, at most {limits.TIME_TEXT} characters",
                f"| {limits.SERVICE} characters |", f"to 10^{len(str(limits.COUNT)) - 1} |",
                f"below 10^{len(str(limits.NUMBER)) - 1}", f"at most {limits.YEARS} years",
                f"| {limits.TEXT:,} characters |", f"| {limits.FIELD_NAME} characters |",
                f"| {limits.DEPTH} levels |", f"| {limits.EVENT_BYTES // 1024} KiB |"):
        assert row in table, row


def test_a_review_act_past_the_limits_is_refused_and_changes_nothing(store: Store) -> None:
    """The act is recorded as an event, so its reason has the text limit: past it, a clear refusal (the API's
    400), never a server error, and the proposal still waits."""
    report = ingest_file(store, EXAMPLE / "events.jsonl")
    assert not report.rejected
    proposed = queries.decisions(store, None, None, "proposed")
    assert proposed, "the clinic example leaves a proposal for review"
    with pytest.raises(FirmlyError, match=f"reason: must be at most|reason: is a text of .* at most {limits.TEXT}"):
        review.act(store, proposed[0]["id"], "approve", "r" * (limits.TEXT + 1), "operator")
    assert queries.decisions(store, None, None, "proposed") == proposed


def test_a_database_failure_names_the_file_and_lines_of_its_chunk(database_url: str, tmp_path: Path) -> None:
    """A failure that is not the input's (here a trigger that stops one insert) stops `firmly ingest`, and the
    message says which lines were not stored: once only "database error: ...", with no file or line."""
    tag = uuid.uuid4().hex[:8]
    env = {**os.environ, "FIRMLY_DATABASE_URL": database_url, "FIRMLY_WORKSPACE": f"trip-{tag}"}
    assert subprocess.run([sys.executable, "-m", "firmly", "init"], env=env, capture_output=True, check=False,
                          timeout=120).returncode == 0
    engine = make_engine(database_url)
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.execute(text(f"CREATE TRIGGER trip_{tag} BEFORE INSERT ON events WHEN NEW.id = 'trip-{tag}' "
                              "BEGIN SELECT RAISE(ABORT, 'refused by a trigger'); END"))
        else:
            conn.execute(text(f"CREATE FUNCTION trip_{tag}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                              f"IF NEW.id = 'trip-{tag}' THEN RAISE EXCEPTION 'refused by a trigger'; END IF; "
                              "RETURN NEW; END $$"))
            conn.execute(text(f"CREATE TRIGGER trip_{tag} BEFORE INSERT ON events FOR EACH ROW "
                              f"EXECUTE FUNCTION trip_{tag}()"))
    try:
        path = tmp_path / "trip.jsonl"
        path.write_bytes(b"\n".join([line(good(1)), line({**good(2), "id": f"trip-{tag}"}), line(good(3))]) + b"\n")
        proc = subprocess.run([sys.executable, "-m", "firmly", "ingest", str(path)], env=env, capture_output=True,
                              text=True, check=False, timeout=120)
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP TRIGGER trip_{tag}" + ("" if conn.dialect.name == "sqlite" else " ON events")))
        engine.dispose()
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "refused by a trigger" in proc.stderr
    assert "while storing trip.jsonl lines 1-3" in proc.stderr, proc.stderr


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
def test_jsonl_in_utf16_or_utf32_with_its_bom_is_read_and_a_broken_one_refused(tmp_path: Path, codec: str) -> None:
    path = tmp_path / "wide.jsonl"
    bom = "\ufeff".encode(codec)
    text = (json.dumps(good(1)) + "\n" + json.dumps({**good(2), "counterparty": "Зоя"}) + "\n").encode(codec)
    path.write_bytes(bom + text)
    assert [item.id for _, _, item in ingest.read_file(path) if isinstance(item, Event)] == ["ok-1", "ok-2"]
    path.write_bytes(bom + text[:-1])  # cut inside its last character
    [(_, _, refused)] = list(ingest.read_file(path))
    assert isinstance(refused, Rejection) and refused.field == "file"
    assert "is not UTF-" in refused.message and "Latin-1" not in refused.message
