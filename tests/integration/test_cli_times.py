"""The CLI's tables show times in the workspace's zone and language, the zone named, and money as the
workspace's language writes it; --json keeps ISO times and canonical amounts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "src" / "firmly" / "examples"


def firmly(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FIRMLY_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "FIRMLY_WORKSPACE": "w",
           "FIRMLY_NOW": "2026-09-10T06:00:00+00:00", "COLUMNS": "200"}
    proc = subprocess.run([sys.executable, "-m", "firmly", *args], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc


def test_moscow_workspace_reads_moscow_time_in_russian(tmp_path: Path) -> None:
    firmly(tmp_path, "init", "--locale", "ru", "--timezone", "Europe/Moscow")
    ticked = firmly(tmp_path, "tick", "--as-of", "2026-09-10T06:00:00Z").stdout
    assert "часы движка: 10.09.2026, 09:00 MSK" in ticked  # 06:00 UTC is 09:00 in Moscow, said in Russian
    assert "06:00" not in ticked
    firmly(tmp_path, "rulebook", "load", str(EXAMPLES / "agency-ru" / "rulebook.yaml"))
    listed = firmly(tmp_path, "rulebook", "list").stdout
    assert "загружен (MSK)" in listed and "10.09.2026, 09:00" in listed
    machine = json.loads(firmly(tmp_path, "rulebook", "list", "--json").stdout)
    assert machine[0]["loaded_at"] == "2026-09-10T06:00:00+00:00"


def test_london_workspace_reads_london_time_and_pounds(tmp_path: Path) -> None:
    firmly(tmp_path, "init", "--locale", "en", "--timezone", "Europe/London")
    ticked = firmly(tmp_path, "tick", "--as-of", "2026-09-10T06:00:00Z").stdout
    assert "clock at 9/10/26, 7:00\u202fAM BST" in ticked
    firmly(tmp_path, "rulebook", "load", str(EXAMPLES / "studio-en" / "rulebook.yaml"))
    firmly(tmp_path, "ingest", str(EXAMPLES / "studio-en" / "events.jsonl"))
    statement = firmly(tmp_path, "account", "show", "acme").stdout
    assert "balance -€90.00, due €150.00" in statement
    # every entry is in March, before summer time: the zone is named once, in the header
    assert "at (GMT)" in statement and "3/2/26, 9:00\u202fAM " in statement and "+€1,850.00" in statement
    decisions = firmly(tmp_path, "decisions", "--counterparty", "acme").stdout
    assert "3/12/26, 2:00\u202fPM GMT  acme  —  top-up invoice €3,000.00" in decisions
    rows = json.loads(firmly(tmp_path, "decisions", "--counterparty", "acme", "--json").stdout)
    assert any(r["amount"] == "3000.00" and r["currency"] == "EUR" for r in rows)
    costs = json.loads(firmly(tmp_path, "report", "cost-to-serve", "--json").stdout)
    acme = next(r for r in costs if r["key"] == "acme")
    assert isinstance(acme["flagged"], bool) and acme["currency"] == "EUR"
    table = firmly(tmp_path, "report", "cost-to-serve").stdout
    line = next(row for row in table.splitlines() if " acme " in row)
    revenue = f"€{int(float(acme['revenue'])):,}.{acme['revenue'].split('.')[1]}"  # "€1,850.00" from "1850.00"
    said = " yes " if acme["flagged"] else " no "
    assert revenue in line and said in line and "True" not in table and "False" not in table
    assert "currency" not in table  # the sign says it
