"""The right recipient and sender through the real path: events in, the outbox written in the decisions'
transaction, the worker's real SMTP sender, and an aiosmtpd server that checks To, From and Reply-To."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from firmly.doors.cli import app as firmly_cli
from firmly.service import outbox, worker
from tests.e2e.test_outbox import (  # noqa: F401 - smtp and sqlite_url are fixtures
    MAIL_FROM,
    Mail,
    SmtpSink,
    at,
    channels,
    ingest_live,
    make_workspace,
    read_events,
    rows_of,
    smtp,
    sqlite_url,
    store_for,
)

PARTNERS = Path(__file__).resolve().parents[2] / "src" / "firmly" / "examples" / "partners-en"
SENDERS = """\
- name: Анна Берг, CareLink
  email: anna@carelink.example
- name: Tom Reyes, CareLink
  email: tom@carelink.example
"""


def _by_recipient(sink: SmtpSink) -> dict[tuple[str, str], Mail]:
    return {(m.msg["To"], str(m.msg["Subject"]).split(":")[0]): m for m in sink.mails}


def test_warnings_reach_management_from_the_threads_one_sender(sqlite_url: str, smtp: SmtpSink,  # noqa: F811
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    store = make_workspace(sqlite_url, "partners", PARTNERS / "rulebook.yaml", "Europe/London", quiet_hours="off",
                           daily_limit="10", sender_name="CareLink", reply_to="desk@carelink.example",
                           senders=SENDERS)
    ingest_live(store, read_events(PARTNERS / "events.jsonl"))
    done = worker.drain(store_for(sqlite_url), at("2026-06-19T09:00:00+01:00"), channels(monkeypatch, smtp))
    assert (done.sent, done.failed, done.errors) == (9, 0, [])
    mails = _by_recipient(smtp)

    warning = mails["director@northside.example", "A warning"]  # the clinic's management, not its desk
    assert warning.to == ["director@northside.example"]
    feedback = mails["desk@northside.example", "About our rule"]
    assert feedback.to == ["desk@northside.example"]
    assert ("desk@northside.example", "A warning") not in mails
    # one thread, one voice: the feedback and the warning about one rule come from the same person, and
    # replies go back to that person rather than to the workspace's reply_to
    voice = warning.msg["From"].addresses[0]
    assert voice.addr_spec in ("anna@carelink.example", "tom@carelink.example")
    assert feedback.msg["From"].addresses[0] == voice
    assert warning.msg["Reply-To"] == feedback.msg["Reply-To"] == voice.addr_spec
    name = {"anna@carelink.example": "Анна Берг, CareLink", "tom@carelink.example": "Tom Reyes, CareLink"}
    assert voice.display_name == name[voice.addr_spec]  # a Cyrillic name survives the header's encoding
    assert warning.body.startswith("Dear Northside Clinic,\n")
    signed, link = warning.body.rstrip("\n").rsplit("\n", 1)  # the last line: the link to the clinic's own page
    assert f"Kind regards,\n{name[voice.addr_spec]}\nCareLink\n" in signed and "/my/" in link

    # senders rotate across threads: over the example's five threads both people write
    senders_by_thread: dict[tuple[str, str], set[str]] = {}
    rows = rows_of(store)
    with store.read():
        rules = {d["id"]: d["rule"] for d in store.decisions()}
    for row in rows.values():
        senders_by_thread.setdefault((row.counterparty, rules[row.decision]), set()).add(row.sender or "")
    assert all(len(s) == 1 for s in senders_by_thread.values()), senders_by_thread
    assert {s for found in senders_by_thread.values() for s in found} == {"anna@carelink.example",
                                                                          "tom@carelink.example"}
    for m in smtp.mails:
        sent = m.msg["From"].addresses[0].addr_spec
        assert m.msg["Reply-To"] == sent and sent != MAIL_FROM

    # no management contact: the clinic's own address, and the outbox says why
    fallback = mails["desk@riverside.example", "A warning"]
    assert fallback.to == ["desk@riverside.example"]
    noted = [r for r in rows.values() if r.note]
    assert [(r.counterparty, r.recipient, r.note) for r in noted] == [
        ("riverside", "desk@riverside.example", "management")]
    listed = CliRunner().invoke(firmly_cli, ["outbox", "list", "--lang", "en", "--db", sqlite_url,
                                             "--workspace", "partners"])
    assert listed.exit_code == 0, listed.output
    assert "no contact for your management: sent to the counterparty's own address" in listed.output
    assert f"from {name[voice.addr_spec]} <{voice.addr_spec}>" in listed.output


def test_without_senders_the_default_sender_and_reply_to_stand(sqlite_url: str, smtp: SmtpSink,  # noqa: F811
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    store = make_workspace(sqlite_url, "plain", PARTNERS / "rulebook.yaml", "Europe/London", quiet_hours="off",
                           daily_limit="10", sender_name="CareLink", reply_to="desk@carelink.example")
    ingest_live(store, read_events(PARTNERS / "events.jsonl"))
    done = worker.drain(store_for(sqlite_url), at("2026-06-19T09:00:00+01:00"), channels(monkeypatch, smtp))
    assert (done.sent, done.errors) == (9, [])
    for m in smtp.mails:
        assert m.msg["From"].addresses[0].addr_spec == MAIL_FROM
        assert m.msg["From"].addresses[0].display_name == "CareLink"
        assert m.msg["Reply-To"] == "desk@carelink.example"
    assert ("director@northside.example", "A warning") in _by_recipient(smtp)  # to: holds without senders too
    assert all(r.sender is None for r in rows_of(store).values())


@pytest.mark.parametrize(("value", "says"), [
    ("[{name: Anna}]", "sender 1.email: must be an email address"),
    ("[{email: a@b.example}, {email: A@B.example}]", "sender 2: A@B.example is listed twice"),
    ("[unclosed", "senders"),
])
def test_bad_senders_are_refused_with_a_message(sqlite_url: str, value: str, says: str) -> None:  # noqa: F811
    make_workspace(sqlite_url, "bad", None, "Europe/London")
    result = CliRunner().invoke(firmly_cli, ["workspace", "set", "senders", value, "--db", sqlite_url,
                                             "--workspace", "bad"])
    assert result.exit_code == 1
    assert says in result.output
    assert "Traceback" not in result.output
    assert outbox.settings(make_workspace(sqlite_url, "bad", None, "Europe/London")).get("senders") is None
