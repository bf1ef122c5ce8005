"""A deterministic synthetic clinic workload for the benchmarks, as firmly .jsonl events.

    python benchmarks/generate.py --clients 100000 --events 1000000 --seed 1 \
        --out benchmarks/data/clinic-1m.jsonl

What it writes, in occurred_at order over about a year (2026, all times at +03:00):

* appointment.booked — online, at any hour; the visit (starts_at) is 1 hour to 45 days
  ahead, on the hour or half hour between 09:00 and 19:30; data: appointment, starts_at,
  service, price as a decimal string ("3000.00");
* for each booking exactly one outcome: appointment.attended (~80%, a few minutes after
  starts_at), appointment.cancelled (~16%: about a quarter of them less than 24 hours before
  starts_at, the rest with more notice), appointment.no_show (~4%, 30 minutes after starts_at);
* counterparty.upserted for ~10% of the clients just before their first booking (name,
  locale), a fifth of them with tier vip (so ~2% of the clients are VIPs).

Clients are drawn with a mild skew (a few regulars, many occasional visitors). The same
--seed, --clients and --events always give the same file, byte for byte.
"""

from __future__ import annotations

import argparse
import heapq
import math
import random
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import msgspec

MSK = timezone(timedelta(hours=3))
START = int(datetime(2026, 1, 1, 0, 0, tzinfo=MSK).timestamp())  # seconds since the epoch
YEAR = 365 * 86400
# The wall clock (FIRMLY_NOW) a run that ingests this history sets: after its last event (visits run up to 45
# days past the year), so that none of it lies ahead of "now"; being history, none of it is told (outbox)
WALL_CLOCK = "2027-03-01T00:00:00+03:00"
HOUR = 3600
DAY = 86400

SERVICES: tuple[tuple[str, str, float], ...] = (  # service, price, weight
    ("therapist", "3000.00", 30),
    ("pediatrician", "2800.00", 12),
    ("dentist", "4500.00", 15),
    ("cardiologist", "5200.00", 6),
    ("ultrasound", "2500.00", 10),
    ("blood_test", "900.00", 20),
    ("physiotherapy", "1800.00", 7),
)
FIRST = ("Анна", "Борис", "Вера", "Глеб", "Дарья", "Егор", "Жанна", "Иван", "Ксения", "Лев",
         "Мария", "Никита", "Ольга", "Павел", "Роман", "София", "Тимур", "Ульяна", "Фёдор", "Юлия")
LAST = ("Петров", "Соколов", "Иванов", "Смирнов", "Кузнецов", "Попов", "Лебедев", "Козлов",
        "Новиков", "Морозов", "Волков", "Зайцев", "Павлов", "Семёнов", "Голубев", "Виноградов")

P_ATTENDED = 0.80
P_CANCELLED = 0.16  # the rest (~4%) are no-shows
P_LATE_CANCEL = 0.25  # of cancellations, those with less than 24h notice
P_UPSERT = 0.10  # of clients, those with a counterparty.upserted
P_VIP = 0.20  # of upserted clients, those with tier vip

# Outcome heap entries: (second, tie-break, event type, client, appointment, suffix).
Pending = tuple[int, int, str, str, str, str]


def stamp(second: int, cache: dict[int, str]) -> str:
    """RFC 3339 at +03:00, e.g. "2026-03-01T10:00:00+03:00" (memoised: many events share a second)."""
    text = cache.get(second)
    if text is None:
        if len(cache) > 200_000:
            cache.clear()
        text = cache[second] = datetime.fromtimestamp(second, MSK).isoformat()
    return text


def visit_time(rng: random.Random, booked: int) -> int:
    """A slot 1 hour to 45 days after `booked`: mostly within two weeks, on the half hour, 09:00-19:30."""
    lead_days = min(int(rng.expovariate(1 / 9)), 45)
    local = datetime.fromtimestamp(booked, MSK).date() + timedelta(days=lead_days)
    slot = rng.randrange(9 * 2, 20 * 2)  # half hours from 09:00 to 19:30
    moment = datetime(local.year, local.month, local.day, slot // 2, 30 * (slot % 2), tzinfo=MSK)
    starts = int(moment.timestamp())
    if starts < booked + HOUR:  # a same-day slot already gone: the same time tomorrow
        starts += DAY
    return starts


def outcome(rng: random.Random, booked: int, starts: int) -> tuple[str, int, str]:
    """(event type, occurred_at second, id suffix) of the one outcome of a booking."""
    roll = rng.random()
    if roll < P_ATTENDED:
        return "appointment.attended", starts + rng.randrange(0, 15 * 60), "came"
    if roll < P_ATTENDED + P_CANCELLED:
        lead = starts - booked
        if rng.random() < P_LATE_CANCEL or lead <= DAY + HOUR:
            notice = rng.randrange(10 * 60, min(DAY - 60, lead - 60))  # under 24h
        else:
            notice = rng.randrange(DAY + 60, lead - 60)  # 24h or more
        return "appointment.cancelled", starts - notice, "cancel"
    return "appointment.no_show", starts + 30 * 60, "noshow"


def pick_client(rng: random.Random, clients: int) -> int:
    """A client number: mildly skewed towards low numbers (regulars)."""
    return min(int(clients * rng.random() ** 1.6), clients - 1)


def generate(clients: int, events: int, out: Path, seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    encode = msgspec.json.Encoder().encode
    cache: dict[int, str] = {}
    weights = [w for _, _, w in SERVICES]
    counts: dict[str, int] = {}
    seen: set[int] = set()
    heap: list[Pending] = []
    written = 0
    tie = 0
    # Bookings spread over ~11 months, so that their outcomes (up to 45 days later) end within about a year.
    upserts = P_UPSERT * clients * (1 - math.exp(-events / 2 / clients))
    mean_gap = (YEAR - 35 * DAY) / max((events - upserts) / 2, 1)
    now = float(START)
    booking = 0
    begun = time.perf_counter()

    def write(fh: Any, record: dict[str, Any]) -> None:
        nonlocal written
        fh.write(encode(record))
        fh.write(b"\n")
        written += 1
        counts[record["type"]] = counts.get(record["type"], 0) + 1
        if written % 100_000 == 0:
            rate = written / (time.perf_counter() - begun)
            print(f"  {written:,} events ({rate:,.0f}/s)", file=sys.stderr)

    def flush_until(fh: Any, second: int) -> None:
        while heap and heap[0][0] <= second:
            at, _, kind, client, appointment, suffix = heapq.heappop(heap)
            write(fh, {"id": f"{appointment}-{suffix}", "type": kind, "counterparty": client,
                       "occurred_at": stamp(at, cache), "data": {"appointment": appointment}})

    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb", buffering=1 << 20) as fh:
        while True:
            number = pick_client(rng, clients)
            first = number not in seen
            budget = events - written - len(heap)
            if budget < 2:  # every booking brings its outcome: stop while the budget still holds both
                break
            upsert = first and rng.random() < P_UPSERT and budget >= 3
            now += rng.expovariate(1 / mean_gap)
            booked = int(now)
            flush_until(fh, booked)
            client = f"c{number:07d}"
            if first:
                seen.add(number)
            if upsert:
                data: dict[str, Any] = {"kind": "client", "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                                        "locale": "ru"}
                if rng.random() < P_VIP:
                    data["tier"] = "vip"
                write(fh, {"id": f"cp-{client}", "type": "counterparty.upserted", "counterparty": client,
                           "occurred_at": stamp(booked, cache), "data": data})
            booking += 1
            appointment = f"a{booking:08d}"
            starts = visit_time(rng, booked)
            service, price, _ = rng.choices(SERVICES, weights)[0]
            write(fh, {"id": f"{appointment}-book", "type": "appointment.booked", "counterparty": client,
                       "occurred_at": stamp(booked, cache),
                       "data": {"appointment": appointment, "starts_at": stamp(starts, cache),
                                "service": service, "price": price}})
            kind, at, suffix = outcome(rng, booked, starts)
            tie += 1
            heapq.heappush(heap, (max(at, booked + 60), tie, kind, client, appointment, suffix))
        flush_until(fh, 2**62)
    elapsed = time.perf_counter() - begun
    span_days = (int(now) - START) / DAY
    print(f"wrote {written:,} events ({booking:,} bookings, {len(seen):,} clients seen) to {out} "
          f"in {elapsed:.1f}s; bookings span {span_days:.0f} days", file=sys.stderr)
    for kind, n in sorted(counts.items()):
        print(f"  {kind:24} {n:>9,} ({100 * n / written:.1f}%)", file=sys.stderr)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--clients", type=int, default=100_000, help="number of clients (default 100,000)")
    parser.add_argument("--events", type=int, default=1_000_000, help="number of events (default 1,000,000)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/data/clinic.jsonl"),
                        help="the .jsonl to write (default benchmarks/data/clinic.jsonl)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    args = parser.parse_args()
    if args.clients < 1 or args.events < 2:
        parser.error("need at least one client and two events")
    generate(args.clients, args.events, args.out, args.seed)


if __name__ == "__main__":
    main()
