"""Runs an acceptance scenario (scenario.json: commands and checks) through the `firmly` command.

The format is the one of the shared scenarios; the project's own examples use it too. Two additions of
the project's own: `"env": {"FIRMLY_NOW": …}` at the top (the wall clock a scenario of messages runs at),
and the check `{"outbox": {field: value, …}}`: the outbox's messages (`firmly outbox list --json`, each with
its decision's `action` and `rule`) that match, in the order they are due.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

QUIET = {"reminder", "thanks", "earn_back"}  # left out of `actions` sequences unless asked for


@dataclass
class Outcome:
    number: int
    note: str
    problem: str | None  # None: the item holds


class Firmly:
    def __init__(self, cwd: Path, database_url: str, workspace: str, env: dict[str, str] | None = None) -> None:
        self.cwd = cwd
        self.env = {**os.environ, "FIRMLY_DATABASE_URL": database_url, "FIRMLY_WORKSPACE": workspace,
                    "CI": os.environ.get("CI", ""), "COLUMNS": "200", **(env or {})}

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "firmly", *args], cwd=self.cwd, env=self.env,
                              capture_output=True, text=True, timeout=600, check=False)

    def json(self, *args: str) -> Any:
        proc = self.run(*args, "--json")
        if proc.returncode != 0:
            raise AssertionError(f"`firmly {' '.join(args)}` exited {proc.returncode}: {proc.stderr[-400:]}")
        return json.loads(proc.stdout)


def _follow(value: Any, path: str | None) -> Any:
    for part in (path or "").split(".") if path else []:
        if part == "[*]":
            raise AssertionError("[*] is handled by _dig")
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


def _dig(value: Any, path: str | None) -> Any:
    if not path:
        return value
    head, _, rest = path.partition(".")
    if head == "[*]":
        return [_dig(v, rest) for v in value]
    if isinstance(value, list):
        return _dig(value[int(head)], rest)
    if not isinstance(value, dict) or head not in value:
        raise AssertionError(f"no field {head!r} in {json.dumps(value, ensure_ascii=False)[:200]}")
    return _dig(value[head], rest)


def _judge(actual: Any, item: dict[str, Any]) -> str | None:
    if "equals" in item:
        want = item["equals"]
        if isinstance(want, int | float) and not isinstance(want, bool) and isinstance(actual, str):
            with contextlib.suppress(ValueError):
                actual = float(actual)
        if actual != want:
            return f"expected {want!r}, got {actual!r}"
    if "in" in item and actual not in item["in"]:
        return f"expected one of {item['in']!r}, got {actual!r}"
    if "gte" in item and not float(actual) >= item["gte"]:
        return f"expected >= {item['gte']}, got {actual!r}"
    if "lte" in item and not float(actual) <= item["lte"]:
        return f"expected <= {item['lte']}, got {actual!r}"
    if "contains" in item:
        hay = actual if isinstance(actual, list | str) else json.dumps(actual, ensure_ascii=False)
        if item["contains"] not in hay:
            return f"expected to contain {item['contains']!r}, got {str(actual)[:300]!r}"
    if "absent" in item and item["absent"] in (actual or []):
        return f"expected no {item['absent']!r}, got {actual!r}"
    return None


def _observe(firmly: Firmly, item: dict[str, Any]) -> Any:
    if "show" in item:
        return firmly.json("counterparty", "show", item["show"])
    if "account" in item:
        return firmly.json("account", "show", item["account"])
    if "report" in item:
        rows = firmly.json("report", item["report"])
        if "key" in item:
            matching = [r for r in rows if r.get("key") == item["key"]]
            if not matching:
                raise AssertionError(f"report {item['report']} has no row for {item['key']!r}")
            return matching[0]
        return rows
    if "simulate" in item:
        return firmly.json("simulate", "--rulebook", item["simulate"], *item.get("args", []))
    if "decisions" in item:
        args = [a for flag, v in item["decisions"].items() for a in (f"--{flag}", v)]
        rows = firmly.json("decisions", *args)
        if "actions" in item:
            wanted = set(item.get("including", [])) | set(item["actions"])
            return [r["action"] for r in rows if r["action"] not in QUIET or r["action"] in wanted]
        if "where" in item:
            rows = [r for r in rows if all(r.get(k) == v for k, v in item["where"].items())]
        return rows
    if "outbox" in item:
        decided = {d["id"]: d for d in firmly.json("decisions")}
        rows = [{**r, "action": decided.get(r["decision"], {}).get("action"),
                 "rule": decided.get(r["decision"], {}).get("rule")} for r in firmly.json("outbox", "list")]
        return [r for r in rows if all(r.get(k) == v for k, v in item["outbox"].items())]
    raise AssertionError(f"unknown check {item}")


def _item(firmly: Firmly, item: dict[str, Any]) -> str | None:
    if "review" in item:
        rows = firmly.json("decisions", "--counterparty", item["counterparty"], "--rule", item["rule"],
                           "--status", "proposed")
        if not rows:
            return "no proposed decision to review"
        proc = firmly.run("review", item["review"], rows[-1]["id"], "--reason", item["reason"],
                          *item.get("args", []))
        return None if proc.returncode == 0 else f"review exited {proc.returncode}: {proc.stderr[-400:]}"
    if "run" in item:
        proc = firmly.run(*item["run"])
        want = item.get("exit", 0)
        said = proc.stdout + proc.stderr
        if proc.returncode != want:
            return f"`firmly {' '.join(item['run'])}` exited {proc.returncode}, expected {want}: {said[-400:]}"
        if "traceback" in said.lower():
            return "printed a traceback"
        missing = [t for t in item.get("output_contains", []) if t.lower() not in said.lower()]
        return f"output lacks {missing}: {said[-300:]!r}" if missing else None
    return _judge(_dig(_observe(firmly, item), item.get("path")), item)


def run_scenario(folder: Path, database_url: str, workspace: str) -> list[Outcome]:
    spec = json.loads((folder / "scenario.json").read_text(encoding="utf-8"))
    firmly = Firmly(folder, database_url, workspace, spec.get("env"))
    init = firmly.run("init")
    if init.returncode != 0:
        return [Outcome(0, "init", f"`firmly init` exited {init.returncode}: {init.stderr[-400:]}")]
    outcomes = []
    for number, item in enumerate(spec["items"], 1):
        try:
            problem = _item(firmly, item)
        except (AssertionError, KeyError, IndexError, ValueError, TypeError, json.JSONDecodeError) as exc:
            problem = str(exc) or type(exc).__name__
        outcomes.append(Outcome(number, item.get("note", ""), problem))
    return outcomes
