"""`report partners` and `report suppliers` over a big SQLite workspace.

    taskset -c 0 .venv/bin/python benchmarks/bench_scores.py [--partners 3000] [--suppliers 2000] \
        [--clients 5000] [--events 1000000] [--seed 1] [--runs 5] [--rebuild] [--profile] [--cli] [--json-out FILE]

The workload is made here, deterministically (the same counts and --seed give the same events), over
about a year (2026, all times at +03:00), under the partner-karma and supplier-scorecard scenarios'
rulebooks (`benchmarks/partners.yaml`, `benchmarks/suppliers.yaml`, copies of them):

* counterparty.upserted for every partner (kind partner) and supplier (kind supplier, switching_cost),
  and for a tenth of the clients, at the start;
* about 80% of the events are the aggregator's bookings of clients into partners (mildly skewed: a few
  big partners, many small ones): appointment.booked by the client with data.partner; one outcome each
  with data.partner — attended (~85%), cancelled (~10%) or a no-show; incident.reported for ~4% of the
  bookings naming the appointment (minor 70%, major 29%, fatal 1%; most after the visit, so they revoke a
  clean booking, a fifth before it; 70% as the partner's own event, 30% as the client's event with
  data.partner); review.received for ~15% of the visits (rating 1-5, 80% published);
* the rest are suppliers' deliveries (delivery.completed with due_at, ~3% late) and incidents (~4% of
  them; minor 75%, major 24.5%, fatal 0.5%), skewed as the bookings are: a few busy suppliers with long
  records (to drop or replace), many with short ones (to keep).

The workspace is built once and kept in benchmarks/data/ (--rebuild to build it again): `firmly init`,
both rulebooks loaded, the events appended to the log, folded by `Engine.run` up to the last event, the
states, postings (partners' bonuses) and decisions (with explanations) saved and the clock set: what a
replay leaves. The report functions `firmly.service.reports.partners(store)` and `suppliers(store)` are
then timed, median of --runs, with the GC running as it does in `firmly report`. With --profile,
cProfile's top functions of one more call of each; with --cli, `firmly report partners|suppliers --json`
as a process, median of --runs (interpreter start-up and JSON printing included).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Engine as SqlEngine

from firmly.adapters.sql.store import SqlStore, make_engine
from firmly.domain.engine import Engine
from firmly.domain.events import Event, validate
from firmly.domain.rulebook import Rulebook, parse_rulebook
from firmly.service import rulebooks, workspace
from firmly.service.bulk import quiet_gc
from firmly.service.policy import decision_rows, load_policy
from firmly.service.reports import partners, suppliers
from generate import pick_client, stamp
from profiles import summarise

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
FIRMLY = ROOT / ".venv" / "bin" / "firmly"
START = 1_767_214_800  # 2026-01-01T00:00:00+03:00, in seconds
HOUR = 3600
DAY = 86_400
SPAN = 340 * DAY  # bookings and deliveries; outcomes, incidents and reviews follow within weeks
GOAL_SECONDS = 1.0  # each report

P_PARTNER_SIDE = 0.80  # of the events, the bookings into partners and what follows them
P_ATTENDED, P_CANCELLED = 0.85, 0.10  # the rest are no-shows
P_INCIDENT = 0.04  # of bookings
P_INCIDENT_BEFORE = 0.20  # of those incidents, reported before the visit (the visit is then not clean)
P_INCIDENT_BY_CLIENT = 0.30  # of those incidents, sent as the client's event with data.partner
P_REVIEW = 0.15  # of visits
P_PUBLISH = 0.80
P_LATE = 0.03  # of deliveries
P_SUPPLIER_INCIDENT = 0.04  # of the suppliers' events
P_CLIENT_UPSERT = 0.10
PARTNER_SEVERITY = (("minor", 70), ("major", 29), ("fatal", 1))
SUPPLIER_SEVERITY = (("minor", 75), ("major", 24.5), ("fatal", 0.5))
CATEGORIES = ("booking_refused", "booking_delayed", "rude_staff", "wrong_price")
SUPPLIER_CATEGORIES = ("downtime", "slow_support", "defects", "disputed_fix", "claim_refused")
SWITCHING = ("5000.00", "15000.00", "20000.00", "40000.00", "120000.00")

Record = tuple[int, int, str, str, dict[str, Any]]  # (second, order, type, counterparty, data)


# -- the workload -------------------------------------------------------------------------------------
def _severity(rng: random.Random, table: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([s for s, _ in table], [w for _, w in table])[0]


def workload(n_partners: int, n_suppliers: int, n_clients: int, events: int, seed: int) -> list[Event]:
    """Validated events in occurred_at order, numbered in that order (their arrival)."""
    rng = random.Random(seed)
    records: list[Record] = []
    order = 0

    def add(second: int, kind: str, counterparty: str, data: dict[str, Any]) -> None:
        nonlocal order
        order += 1
        records.append((second, order, kind, counterparty, data))

    for p in range(n_partners):
        add(START, "counterparty.upserted", f"partner-{p:05d}",
            {"kind": "partner", "name": f"Клиника {p}", "email": f"admin@partner-{p}.example"})
    for s in range(n_suppliers):
        add(START, "counterparty.upserted", f"supplier-{s:05d}",
            {"kind": "supplier", "name": f"Поставщик {s}", "switching_cost": rng.choice(SWITCHING)})
    for c in range(n_clients):
        if rng.random() < P_CLIENT_UPSERT:
            add(START, "counterparty.upserted", f"client-{c:06d}", {"kind": "client", "name": f"Клиент {c}"})

    partner_budget = int(events * P_PARTNER_SIDE)
    quality = [rng.betavariate(5, 1.5) for _ in range(n_partners)]  # a partner's typical review
    booking = 0
    while len(records) + 2 <= partner_budget:
        booking += 1
        partner_no = pick_client(rng, n_partners)
        partner = f"partner-{partner_no:05d}"
        client = f"client-{pick_client(rng, n_clients):06d}"
        appointment = f"ap{booking:07d}"
        booked = START + rng.randrange(SPAN)
        starts = booked + rng.randrange(HOUR, 14 * DAY)
        add(booked, "appointment.booked", client, {"appointment": appointment, "starts_at": starts, "partner": partner,
                                                   "service": "consultation", "price": "3000.00"})
        roll = rng.random()
        attended = roll < P_ATTENDED
        if attended:
            add(starts + rng.randrange(15 * 60), "appointment.attended", client,
                {"appointment": appointment, "partner": partner})
        elif roll < P_ATTENDED + P_CANCELLED:
            add(starts - rng.randrange(10 * 60, starts - booked), "appointment.cancelled", client,
                {"appointment": appointment, "partner": partner})
        else:
            add(starts + 30 * 60, "appointment.no_show", client, {"appointment": appointment, "partner": partner})
        if len(records) < partner_budget and rng.random() < P_INCIDENT:
            before = rng.random() < P_INCIDENT_BEFORE
            at = booked + rng.randrange(60, max(starts - booked, 120)) if before else \
                starts + rng.randrange(HOUR, 20 * DAY)
            data: dict[str, Any] = {"severity": _severity(rng, PARTNER_SEVERITY), "category": rng.choice(CATEGORIES),
                                    "appointment": appointment, "description": "Запись обработана не по договору."}
            if rng.random() < P_INCIDENT_BY_CLIENT:
                add(at, "incident.reported", client, {**data, "partner": partner})
            else:
                add(at, "incident.reported", partner, {**data, "reported_by": client})
        if attended and len(records) < partner_budget and rng.random() < P_REVIEW:
            stars = max(1, min(5, round(quality[partner_no] * 5 + rng.gauss(0, 0.8))))
            add(starts + rng.randrange(HOUR, 5 * DAY), "review.received", partner,
                {"rating": stars, "text": "…", "author": client, "appointment": appointment,
                 "publish": rng.random() < P_PUBLISH})

    delivery = 0
    while len(records) < events:
        supplier = f"supplier-{pick_client(rng, n_suppliers):05d}"
        at = START + rng.randrange(SPAN + 20 * DAY)
        if rng.random() < P_SUPPLIER_INCIDENT:
            add(at, "incident.reported", supplier, {"severity": _severity(rng, SUPPLIER_SEVERITY),
                                                    "category": rng.choice(SUPPLIER_CATEGORIES),
                                                    "description": "Ошибка поставщика."})
        else:
            delivery += 1
            due = at - rng.randrange(HOUR, 10 * DAY) if rng.random() < P_LATE else at + rng.randrange(5 * DAY)
            add(at, "delivery.completed", supplier, {"order": f"po{delivery:07d}", "due_at": due})

    records.sort(key=lambda r: (r[0], r[1]))
    cache: dict[int, str] = {}
    out: list[Event] = []
    for i, (second, _, kind, counterparty, data) in enumerate(records):
        for field in ("starts_at", "due_at"):
            if field in data:
                data[field] = stamp(data[field], cache)
        ev = validate({"id": f"e{i:08d}", "type": kind, "counterparty": counterparty,
                       "occurred_at": stamp(second, cache), "data": data})
        ev.seq = i + 1
        out.append(ev)
    return out


def read_book(path: Path) -> Rulebook:
    return parse_rulebook(path.read_text(encoding="utf-8"), str(path))


# -- the workspace ------------------------------------------------------------------------------------
def database_path(args: argparse.Namespace) -> Path:
    workdir: Path = args.workdir
    return workdir / (f"scores-{args.partners}p-{args.suppliers}s-{args.clients}c-{args.events}e-"
                           f"s{args.seed}.db")


def build_workspace(path: Path, args: argparse.Namespace) -> dict[str, Any]:
    """A workspace as a replay leaves it: the log, the states, postings and decisions, the clock."""
    books = [read_book(args.partner_rulebook), read_book(args.supplier_rulebook)]
    begun = time.perf_counter()
    with quiet_gc():
        events = workload(args.partners, args.suppliers, args.clients, args.events, args.seed)
    kinds = Counter(ev.type for ev in events)
    made_s = time.perf_counter() - begun
    print(f"workload: {len(events):,} events made in {made_s:.1f}s: "
          + ", ".join(f"{k} {n:,}" for k, n in kinds.most_common()), file=sys.stderr)
    building = path.with_suffix(".building")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{building}{suffix}").unlink(missing_ok=True)
    building.parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(f"sqlite:///{building}")
    store = SqlStore(engine, "bench")
    workspace.init(store, "ru", "Europe/Moscow", 0)
    for book in books:
        rulebooks.load(store, book, 0)
    start = time.perf_counter()
    clock = events[-1].at
    with quiet_gc(), store.write():
        for i in range(0, len(events), 50_000):
            store.append_events(events[i:i + 50_000])
        ws = workspace.current(store)
        fold = Engine(load_policy(store))
        states, out = fold.run(events, until=clock, ordered=True)
        postings = fold.take_postings()
        for i in range(0, len(postings), 50_000):
            store.put_postings(postings[i:i + 50_000])
        rows = decision_rows(fold, out, states, ws)
        for i in range(0, len(rows), 50_000):
            store.put_decisions(rows[i:i + 50_000])
        store.save_states(states.values(), clock)
        store.set_clock(clock, None)
    seconds = time.perf_counter() - start
    engine.dispose()
    for suffix in ("-wal", "-shm"):
        Path(f"{building}{suffix}").unlink(missing_ok=True)
    building.replace(path)
    by_kind = Counter(st.kind for st in states.values())
    tracks = [st.track for st in states.values() if st.kind == "partner" and st.track is not None]
    history = statistics.fmean(len(t.history or ()) for t in tracks) if tracks else 0.0
    recent = statistics.fmean(len(t.recent or ()) for t in tracks) if tracks else 0.0
    actions = Counter(d.action for d in {d.id: d for d in out}.values())
    print(f"built {path} in {seconds:.1f}s: {len(states):,} counterparties ({dict(by_kind)}), {len(postings):,} "
          f"postings, {len(rows):,} decision rows", file=sys.stderr)
    return {"workload_s": made_s, "build_s": seconds, "events_by_type": dict(kinds.most_common()),
            "counterparties_by_kind": dict(by_kind), "postings": len(postings), "decision_rows": len(rows),
            "decisions_by_action": dict(actions.most_common()),
            "partner_karma_history_points_mean": history, "partner_recent_bookings_mean": recent}


# -- timing -------------------------------------------------------------------------------------------
def repeat(fn: Callable[[], Any], runs: int, label: str) -> tuple[list[float], Any]:
    """Seconds of `runs` calls of fn, with the GC running as it does in `firmly report`."""
    times: list[float] = []
    result: Any = None
    for i in range(runs):
        result = None
        gc.collect()
        start = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - start
        times.append(seconds)
        print(f"  {label} run {i + 1}: {seconds:.3f}s", file=sys.stderr)
    return times, result


def profile(fn: Callable[[], Any], label: str, top: int) -> dict[str, Any]:
    profiler = cProfile.Profile()
    gc.collect()
    start = time.perf_counter()
    profiler.runcall(fn)
    wall = time.perf_counter() - start
    total, rows = summarise(profiler, label, top, wall)
    by_tottime = sorted(rows, key=lambda r: r["tottime"], reverse=True)[:top]
    by_cumtime = sorted(rows, key=lambda r: r["cumtime"], reverse=True)[:top]
    return {"label": label, "total_s": total, "wall_s": wall, "top_tottime": by_tottime, "top_cumtime": by_cumtime}


def stream_states(store: SqlStore) -> int:
    """What both reports do first: read and decode every counterparty's state."""
    with store.read():
        return sum(1 for _ in store.states())


def read_blobs(store: SqlStore) -> int:
    """The rows alone, without decoding the states."""
    with store.read():
        rows = store.c.exec_driver_sql("SELECT state FROM counterparties WHERE workspace = ?", (store.workspace,))
        return sum(len(r[0]) for r in rows)


def cli_runs(path: Path, name: str, runs: int) -> list[float]:
    env = {**os.environ, "FIRMLY_DATABASE_URL": f"sqlite:///{path}", "FIRMLY_WORKSPACE": "bench"}
    times = []
    for i in range(runs):
        start = time.perf_counter()
        subprocess.run([str(FIRMLY), "report", name, "--json"], env=env, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
        print(f"  firmly report {name} --json run {i + 1}: {times[-1]:.3f}s", file=sys.stderr)
    return times


def bench(args: argparse.Namespace) -> dict[str, Any]:
    path = database_path(args)
    results: dict[str, Any] = {"benchmark": "scores", "python": sys.version.split()[0], "database": str(path),
                               "partners": args.partners, "suppliers": args.suppliers, "clients": args.clients,
                               "events": args.events, "seed": args.seed, "runs": args.runs}
    if args.rebuild or not path.exists():
        results["build"] = build_workspace(path, args)
    results["database_mib"] = path.stat().st_size / 2**20
    engine: SqlEngine = make_engine(f"sqlite:///{path}")
    store = SqlStore(engine, "bench")
    store.migrate()  # a workspace cached by an earlier version of firmly is brought up to date, as `firmly init` does
    with store.read():
        counts: dict[str, int] = dict(store.c.exec_driver_sql(
            "SELECT kind, count(*) FROM counterparties WHERE workspace = 'bench' GROUP BY kind").fetchall())
        stored_events = store.c.exec_driver_sql("SELECT count(*) FROM events WHERE workspace = 'bench'").scalar()
        state_bytes: dict[str, float] = dict(store.c.exec_driver_sql(
            "SELECT kind, avg(length(state)) FROM counterparties WHERE workspace = 'bench' GROUP BY kind").fetchall())
    results.update({"counterparties_by_kind": counts, "counterparties": sum(counts.values()),
                    "stored_events": stored_events, "state_bytes_mean_by_kind": state_bytes})
    print(f"{path}: {sum(counts.values()):,} counterparties {counts}, {stored_events:,} events; state bytes "
          f"mean {({k: round(v) for k, v in state_bytes.items()})}", file=sys.stderr)

    reports: dict[str, Callable[[SqlStore], list[dict[str, Any]]]] = {"partners": partners, "suppliers": suppliers}
    for name, report in reports.items():
        times, rows = repeat(partial(report, store), args.runs, f"report {name}")
        median = statistics.median(times)
        entry: dict[str, Any] = {"runs_s": times, "median_s": median, "rows": len(rows), "goal_s": GOAL_SECONDS,
                                 "goal_ratio": median / GOAL_SECONDS, "first_row": rows[0] if rows else None}
        if name == "suppliers":
            entry["classes"] = dict(Counter(r["class"] for r in rows))
        else:
            entry["karma_range"] = [min(r["karma"] for r in rows), max(r["karma"] for r in rows)] if rows else None
        results[name] = entry
    times, _ = repeat(lambda: stream_states(store), args.runs, "store.states() alone")
    results["states_stream_s"] = statistics.median(times)
    times, total_bytes = repeat(lambda: read_blobs(store), args.runs, "state rows without decoding")
    results["state_rows_s"] = statistics.median(times)
    results["state_bytes_total"] = total_bytes
    if args.profile:
        results["profile_partners"] = profile(lambda: partners(store), "report partners", args.top)
        results["profile_suppliers"] = profile(lambda: suppliers(store), "report suppliers", args.top)
    engine.dispose()
    if args.cli:
        for name in ("partners", "suppliers"):
            times = cli_runs(path, name, args.runs)
            results[f"cli_{name}_runs_s"] = times
            results[f"cli_{name}_median_s"] = statistics.median(times)

    print(f"\n{sum(counts.values()):,} counterparties ({', '.join(f'{k} {v:,}' for k, v in sorted(counts.items()))}), "
          f"{stored_events:,} events")
    for name in ("partners", "suppliers"):
        r = results[name]
        print(f"report {name:9} median {r['median_s']:.3f}s of {len(r['runs_s'])} "
              f"({', '.join(f'{t:.3f}' for t in r['runs_s'])}), {r['rows']:,} rows; goal <= {GOAL_SECONDS:.0f}s -> "
              f"{r['goal_ratio']:.2f}x")
    print(f"  of which reading the state rows {results['state_rows_s']:.3f}s; reading and decoding them "
          f"{results['states_stream_s']:.3f}s ({total_bytes / 2**20:.1f} MiB of states)")
    if args.cli:
        for name in ("partners", "suppliers"):
            print(f"firmly report {name} --json (a process): median {results[f'cli_{name}_median_s']:.3f}s")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description="firmly report partners / suppliers benchmark")
    parser.add_argument("--partners", type=int, default=3_000, help="partner clinics (default 3,000)")
    parser.add_argument("--suppliers", type=int, default=2_000, help="suppliers (default 2,000)")
    parser.add_argument("--clients", type=int, default=5_000, help="clients booked into partners (default 5,000)")
    parser.add_argument("--events", type=int, default=1_000_000, help="number of events (default 1,000,000)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--partner-rulebook", type=Path, default=HERE / "partners.yaml")
    parser.add_argument("--supplier-rulebook", type=Path, default=HERE / "suppliers.yaml")
    parser.add_argument("--runs", type=int, default=5, help="timed runs; the median is reported (default 5)")
    parser.add_argument("--rebuild", action="store_true", help="build the cached workspace again")
    parser.add_argument("--profile", action="store_true", help="print cProfile's top functions of each report")
    parser.add_argument("--cli", action="store_true", help="also time `firmly report NAME --json` as a process")
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--workdir", type=Path, default=HERE / "data")
    parser.add_argument("--json-out", type=Path, help="write the results as JSON here")
    args = parser.parse_args()
    if min(args.partners, args.suppliers, args.clients, args.runs) < 1 or args.events < 10 * (
            args.partners + args.suppliers):
        parser.error("every count must be at least 1, and --events at least 10 per partner and supplier")
    args.workdir = args.workdir.resolve()
    results = bench(args)
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str) + "\n",
                                 encoding="utf-8")


if __name__ == "__main__":
    main()
