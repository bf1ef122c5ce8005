"""Dump what a replay derives (states, decisions, postings, outbox, the events' tones) canonically, to compare.

    .venv/bin/python benchmarks/dump_derived.py benchmarks/data/run/200k.db [--out FILE] [--against FILE]

Every row of each table, all its columns, ordered by its key, one JSON line each; prints each table's row count
and SHA-256. `--against` compares with an earlier dump and exits 1 at the first difference (table, key, row).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sqlite3
import sys
from pathlib import Path

TABLES = {
    "counterparties": ("workspace", "key"),
    "decisions": ("workspace", "id"),
    "postings": ("workspace", "id"),
    "outbox": ("workspace", "id"),
    "events": ("workspace", "id"),  # only the tone is derived (a replay renews it); the rest is the log
}


def rows(db: sqlite3.Connection, table: str, keys: tuple[str, ...]) -> list[str]:
    names = [r[1] for r in db.execute(f'PRAGMA table_info("{table}")')]
    if table == "events":
        names = [*keys, "tone"]
    order = ", ".join(f'"{k}"' for k in keys)
    query = f'SELECT {", ".join(chr(34) + n + chr(34) for n in names)} FROM "{table}" ORDER BY {order}'
    out = []
    for r in db.execute(query):
        row = {n: (v.hex() if isinstance(v, bytes) else v) for n, v in zip(names, r, strict=True)}
        out.append(json.dumps(row, sort_keys=True, ensure_ascii=False))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("db", type=Path)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--against", type=Path)
    args = parser.parse_args()
    db = sqlite3.connect(f"file:{args.db}?mode=ro", uri=True)
    dump: dict[str, list[str]] = {t: rows(db, t, k) for t, k in TABLES.items()}
    for table, lines in dump.items():
        digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]
        print(f"{table:15} {len(lines):>9,} rows  sha256 {digest}")
    if args.out:
        args.out.write_text(json.dumps(dump), encoding="utf-8")
    if args.against:
        before = json.loads(args.against.read_text(encoding="utf-8"))
        for table, lines in dump.items():
            if before[table] != lines:
                old, new = set(before[table]), set(lines)
                print(f"DIFFERENT {table}: {len(before[table])} rows before, {len(lines)} now; "
                      f"first only before: {sorted(old - new)[:1]}; first only now: {sorted(new - old)[:1]}")
                sys.exit(1)
        print(f"same as {args.against}")


if __name__ == "__main__":
    main()
