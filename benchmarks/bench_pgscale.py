"""What row-level security costs on PostgreSQL: the same history ingested into a database at the schema before it
and at `head`, then the hot reads timed.

    .venv/bin/python benchmarks/bench_pgscale.py --events 100000 --clients 10000 --layout head

measures `head` with this code. The layout before runs with the code of its own time, a checkout of `src` first
on the path:

    git archive 3e5ee1c src | tar -x -C /tmp/before      # before: schema 0012
    PYTHONPATH=/tmp/before/src .venv/bin/python benchmarks/bench_pgscale.py --layout 0012 ...

Layouts: `0012` (before: no row-level security) and `head` (row-level security). Each gets a database of its own,
owned by a role that is no superuser (`firmly_app`, made if missing), so the policies bind; the history is the
clinic workload of generate.py under benchmarks/clinic.yaml. Measured: the ingest (events/s, end to end through
the service), the duplicate check of 1,000 stored ids (`digests`), one client's history (`events_about`) and a
read transaction that reads the workspace (`workspace_info`).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text

from firmly.adapters.sql.migrate import MIGRATIONS
from firmly.adapters.sql.store import SqlStore, make_engine
from firmly.domain.clock import parse_instant
from firmly.domain.rulebook import parse_rulebook
from firmly.service import ingest, rulebooks
from generate import WALL_CLOCK, generate

ROLE = "firmly_app"
LAYOUTS = ("0012", "head")


def _median_ms(run: Callable[[], object], times: int) -> float:
    spent = []
    for _ in range(times):
        start = time.perf_counter()
        run()
        spent.append((time.perf_counter() - start) * 1000)
    return statistics.median(spent)


def measure(admin_url: str, layout: str, history: Path, ids: list[str], clients: list[str]) -> dict[str, float]:
    admin = create_engine("postgresql+psycopg://" + admin_url.split("://", 1)[1], isolation_level="AUTOCOMMIT")
    name = f"firmly_scale_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f"DO $$ BEGIN CREATE ROLE {ROLE} LOGIN NOSUPERUSER NOBYPASSRLS CREATEDB; "
                          "EXCEPTION WHEN duplicate_object THEN NULL; END $$"))
        conn.execute(text(f'CREATE DATABASE "{name}" OWNER {ROLE}'))
    server = admin_url.split("@", 1)[1].rsplit("/", 1)[0]
    engine = make_engine(f"postgresql://{ROLE}@{server}/{name}")
    try:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with engine.connect() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, layout)
            conn.commit()
        store = SqlStore(engine, "clinic")
        wall = parse_instant(WALL_CLOCK)
        with store.write():
            store.ensure_workspace("ru", "Europe/Moscow", 0)
        rulebooks.load(store, parse_rulebook((Path(__file__).parent / "clinic.yaml").read_text(), "clinic.yaml"),
                       wall)
        start = time.perf_counter()
        report = ingest.ingest(store, ingest.read_file(history), now=wall)
        rate = report.stored / (time.perf_counter() - start)
        with engine.connect() as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()
        rng = random.Random(1)

        def digests() -> None:
            with store.read():
                assert len(store.digests(rng.sample(ids, 1000))) == 1000

        def history_of() -> None:
            with store.read():
                store.events_about([rng.choice(clients)])

        def workspace_info() -> None:
            with store.read():
                store.workspace_info()

        return {"ingest events/s": rate, "digests of 1,000 ids, ms": _median_ms(digests, 50),
                "a client's history, ms": _median_ms(history_of, 500),
                "a read transaction, ms": _median_ms(workspace_info, 2000)}
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                         {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--clients", type=int, default=20_000)
    parser.add_argument("--admin", default=os.environ.get("FIRMLY_TEST_POSTGRES_URL",
                                                          "postgresql://postgres@127.0.0.1:5432/postgres"),
                        help="a PostgreSQL URL whose user may create roles and databases")
    parser.add_argument("--layout", action="append", choices=LAYOUTS, help="the layouts to measure (default head)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        history = Path(tmp) / "clinic.jsonl"
        generate(args.clients, args.events, history, 1)
        lines = history.read_text(encoding="utf-8").splitlines()
        ids = [line.split('"id":"', 1)[1].split('"', 1)[0] for line in lines]
        clients = sorted({line.split('"counterparty":"', 1)[1].split('"', 1)[0] for line in lines})
        for layout in args.layout or ["head"]:
            found = measure(args.admin, layout, history, ids, clients)
            print(f"{layout:20}" + "  ".join(f"{k}: {v:,.2f}" for k, v in found.items()), flush=True)


if __name__ == "__main__":
    main()
