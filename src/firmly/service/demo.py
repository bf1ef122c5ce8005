"""`firmly demo`: a workspace filled from one of the examples shipped with firmly."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from firmly.domain.clock import parse_instant
from firmly.domain.errors import FirmlyError
from firmly.domain.ports import Store
from firmly.service import clock, ingest, rulebooks, workspace

EXAMPLES = Path(str(resources.files("firmly") / "examples"))


def examples() -> list[str]:
    return sorted(p.parent.name for p in EXAMPLES.glob("*/scenario.json"))


@dataclass(frozen=True, slots=True)
class DemoReport:
    example: str
    story: str
    stored: int
    duplicates: int


def demo(store: Store, example: str, now: int) -> DemoReport:
    folder = EXAMPLES / example
    if not (folder / "scenario.json").is_file():
        raise FirmlyError(f"no example {example!r}; choose one of {', '.join(examples())}")
    spec = json.loads((folder / "scenario.json").read_text(encoding="utf-8"))
    book = rulebooks.read(folder / "rulebook.yaml")
    workspace.init(store, book.locale, book.timezone, now)
    # every rulebook the example's scenario loads (a network has one for partners and one for suppliers)
    loaded = [item["run"][2] for item in spec["items"] if item.get("run", [None])[:2] == ["rulebook", "load"]]
    for name in loaded or ["rulebook.yaml"]:
        rulebooks.load(store, rulebooks.read(folder / name), now)
    report = ingest.ingest(store, ingest.read_file(folder / "events.jsonl"))
    ticks = [item["run"][2] for item in spec["items"] if item.get("run", [None])[0] == "tick"]
    if ticks:
        clock.tick(store, parse_instant(ticks[0]))
    return DemoReport(example, spec.get("story", ""), report.stored, report.duplicates)
