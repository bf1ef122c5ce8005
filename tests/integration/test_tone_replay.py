"""The tone of stored messages is renewed by `firmly replay` when the analyser reads them differently
(a message stored under the old lexicons, without the tone model), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

from sqlalchemy import create_engine, select, update

from firmly.adapters.sql.tables import events
from tests.conftest import in_workspace

EXAMPLE = Path(__file__).resolve().parents[2] / "src" / "firmly" / "examples" / "clinic-en"
STALE = {"tone": "neutral", "kinds": [], "phrases": [], "polite": [], "language": "ru"}  # stored before `undirected`


def firmly(tmp_path: Path, url: str, ws: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FIRMLY_DATABASE_URL": url, "FIRMLY_WORKSPACE": ws}
    return subprocess.run([sys.executable, "-m", "firmly", *args], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def _driver(url: str) -> str:
    return "postgresql+psycopg://" + url.split("://", 1)[1] if url.startswith("postgresql") else url


def test_replay_renews_the_tone_of_stored_messages(tmp_path: Path, database_url: str) -> None:
    ws = f"tone-{uuid.uuid4().hex[:8]}"
    assert firmly(tmp_path, database_url, ws, "init").returncode == 0
    assert firmly(tmp_path, database_url, ws, "rulebook", "load", str(EXAMPLE / "rulebook.yaml")).returncode == 0
    mid = f"msg-{ws}"  # event ids are unique per workspace; a PostgreSQL database is shared by the session
    message = {"id": mid, "type": "message.received", "counterparty": "ann",
               "occurred_at": "2026-03-01T10:00:00+00:00",
               "data": {"text": "Долбаебы, когда вернёте деньги?"}}
    (tmp_path / "m.jsonl").write_text(json.dumps(message, ensure_ascii=False) + "\n", encoding="utf-8")
    assert firmly(tmp_path, database_url, ws, "ingest", "m.jsonl").returncode == 0

    engine = create_engine(_driver(database_url))
    try:
        def stored() -> dict[str, object]:
            with engine.begin() as conn:
                in_workspace(conn, ws)
                raw = conn.execute(select(events.c.tone).where(events.c.id == mid)).scalar_one()
            return dict(json.loads(raw))

        assert stored()["tone"] == "hostile"  # read on arrival with the current analyser
        with engine.begin() as conn:
            in_workspace(conn, ws)
            conn.execute(update(events).where(events.c.id == mid).values(tone=json.dumps(STALE)))
        proc = firmly(tmp_path, database_url, ws, "replay")
        assert proc.returncode == 0, proc.stderr
        renewed = stored()
        assert (renewed["tone"], renewed["kinds"], renewed["phrases"]) == ("hostile", ["profanity"], ["Долбаебы"])
    finally:
        engine.dispose()
