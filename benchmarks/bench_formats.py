"""Times as people read them: what writing a moment costs a page and a CLI listing, against the reference of
what the pages did before (Babel's medium date-time, seconds included, with no zone named).

    .venv/bin/python benchmarks/bench_formats.py [--calls 20000] [--repeat 7]

Per call, the median of --repeat runs of --calls calls, in microseconds:
- reference: babel.dates.format_datetime(moment, "medium") in the workspace's zone (the pages before);
- page, medium: doors.web.i18n.when (the day written out, to the minute, the zone named);
- page, short: a table cell (doors.web.i18n.when(..., "short"));
- CLI listing: doors.reading.Reader.time over a listing whose moments repeat as a tick's decisions do
  (one distinct moment in 20), and over one whose moments are all distinct.
"""

from __future__ import annotations

import argparse
import statistics
import timeit
from datetime import datetime
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime

from firmly.doors.reading import Reader, _time
from firmly.doors.web import i18n

MOMENT = 1_789_020_000_000_000  # 2026-09-10T06:00:00Z
ZONE = "Europe/Moscow"


def per_call(func: object, calls: int, repeat: int) -> float:
    runs = timeit.repeat(func, number=calls, repeat=repeat)  # type: ignore[arg-type]
    return statistics.median(runs) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    locale, zone, utc = Locale.parse("ru"), ZoneInfo(ZONE), ZoneInfo("UTC")
    i18n.use("ru")
    reader = Reader(ZONE, "ru")
    repeated = [MOMENT + (n // 20) * 60_000_000 for n in range(args.calls)]
    distinct = [MOMENT + n * 60_000_000 for n in range(args.calls)]

    def listing(moments: list[int]) -> None:
        _time.cache_clear()
        for m in moments:
            reader.time(m)

    rows = {
        "reference: babel medium, seconds, no zone": per_call(
            lambda: format_datetime(datetime.fromtimestamp(MOMENT / 1e6, utc), "medium", tzinfo=zone, locale=locale),
            args.calls, args.repeat),
        "page, medium: i18n.when": per_call(lambda: i18n.when(MOMENT, ZONE), args.calls, args.repeat),
        "page, short: i18n.when(..., 'short')": per_call(lambda: i18n.when(MOMENT, ZONE, "short"), args.calls,
                                                          args.repeat),
        "CLI listing, 1 moment in 20 distinct": per_call(lambda: listing(repeated), 1, args.repeat) / args.calls,
        "CLI listing, all distinct": per_call(lambda: listing(distinct), 1, args.repeat) / args.calls,
    }
    reference = next(iter(rows.values()))
    print("| what | µs per moment | against the reference |\n|---|---:|---:|")
    for name, value in rows.items():
        print(f"| {name} | {value:.1f} | {value / reference:.2f}× |")


if __name__ == "__main__":
    main()
