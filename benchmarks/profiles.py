"""cProfile results as both benchmarks print and record them."""

from __future__ import annotations

import io
import pstats
from pathlib import Path
from typing import Any


def summarise(source: Any, label: str, top: int, wall: float) -> tuple[float, list[dict[str, Any]]]:
    """Print the top functions by cumulative and own time; return the total and one row per function.

    `source` is what pstats.Stats takes: a profiler or the path of a saved profile."""
    stats = pstats.Stats(source)
    total: float = stats.total_tt  # type: ignore[attr-defined]
    for order in ("cumulative", "tottime"):
        buffer = io.StringIO()
        pstats.Stats(source, stream=buffer).sort_stats(order).print_stats(top)
        body = buffer.getvalue()
        body = body[body.find("   ncalls"):] if "   ncalls" in body else body
        print(f"\n== cProfile {label}: top {top} by {order} (profiled wall {wall:.2f}s) ==\n{body}")
    rows = []
    entries = stats.stats.items()  # type: ignore[attr-defined]
    for (filename, line, name), (_, ncalls, tottime, cumtime, _) in entries:
        rows.append({"function": f"{Path(filename).name}:{line}({name})", "ncalls": ncalls,
                     "tottime": tottime, "cumtime": cumtime, "tottime_share": tottime / total if total else 0,
                     "cumtime_share": cumtime / total if total else 0})
    return total, rows
