"""The tone analyser of this tree against another (the code before a change): speed, alternating, and readings.

    git archive main src | tar -x -C /tmp/before
    taskset -c 0 .venv/bin/python benchmarks/bench_tone_ab.py --before /tmp/before/src [--rounds 6] \
        [--messages 50] [--runs 10] [--json-out FILE]
    .venv/bin/python benchmarks/bench_tone_ab.py --before /tmp/before/src --readings

Speed: each round runs one process per tree (this one's first or second in turn); each loads the packaged
lexicons and model and times `analyse` on bench_tone.py's 1,000-character messages as bench_tone.py does (warm
memo: the median of --runs calls per message, then the median over messages), in wall-clock and in thread CPU
time. Reports each tree's median and range over the rounds, and the ratio of the medians.

Readings (--readings): both trees read every message of tests/data/tone_*.jsonl (with the language guessed,
then given as "ru" and as "en"), 20,000 texts generated from their words with odd spacing, dashes, quotation
marks and sentence ends (a fixed seed; guessed, then "ru"), every message of ../shared/tone-data/ (all folds,
the evaluation fold among them) and the 1,000-character messages, twice (memo cold, then warm); every field
of every Tone must be equal. Exits 1 on any difference.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
THIS = HERE.parent / "src"
DATA = HERE.parent / "tests" / "data"
# What joins the words of the generated texts: spacing, dashes, quotation marks, sentence ends, masks.
SEPARATORS = (" ", " ", " ", " ", " ", "  ", " - ", " - - ", "\n", ", ", ". ", " «", "» ", " '", "' ", "… ", "! ",
              "? ", " — ", ": ", " (", ") ", "-", "\t", ' " ', "..", "*")


def generated(words: list[str], count: int, seed: int = 20261203) -> list[str]:
    """`count` texts of 1 to 60 of these words (some upper-cased or cut short) joined by SEPARATORS."""
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        parts = []
        for _ in range(rng.randint(1, 60)):
            word = rng.choice(words)
            if rng.random() < 0.05:
                word = word.upper()
            if rng.random() < 0.03:
                word = word[:max(1, len(word) - 1)]
            parts += [word, rng.choice(SEPARATORS)]
        texts.append("".join(parts))
    return texts


def child_speed(messages: int, runs: int) -> None:
    """Print {"wall": µs, "cpu": µs}: this process's warm median per 1,000-character message."""
    import bench_tone  # noqa: PLC0415 - imported once PYTHONPATH names the tree
    from firmly.adapters.lexicons import load_lexicon  # noqa: PLC0415
    from firmly.domain.tone import analyse  # noqa: PLC0415

    lexicon = load_lexicon()
    texts = bench_tone.long_messages(bench_tone.read_eval(bench_tone.EVAL), messages)
    for text in texts:  # fill the memo
        analyse(text, lexicon)
    wall, cpu = [], []
    for text in texts:
        w, c = [], []
        for _ in range(runs):
            start, start_cpu = time.perf_counter_ns(), time.thread_time_ns()
            analyse(text, lexicon)
            c.append(time.thread_time_ns() - start_cpu)
            w.append(time.perf_counter_ns() - start)
        wall.append(statistics.median(w) / 1000)
        cpu.append(statistics.median(c) / 1000)
    print(json.dumps({"wall": statistics.median(wall), "cpu": statistics.median(cpu)}))


def child_readings(out: Path) -> None:
    """Write every reading, one JSON line each, to `out`."""
    import bench_tone  # noqa: PLC0415
    import tone_data  # noqa: PLC0415
    from firmly.adapters.lexicons import load_lexicon  # noqa: PLC0415
    from firmly.domain.tone import analyse  # noqa: PLC0415

    lexicon = load_lexicon()
    texts: list[tuple[str, str, tuple[str | None, ...]]] = []
    words: set[str] = set()
    for path in sorted(DATA.glob("tone_*.jsonl")):
        texts += [(path.name, row["text"], (None, "ru", "en")) for row in bench_tone.read_eval(path)]
        words.update(w for row in bench_tone.read_eval(path) for w in row["text"].split())
    texts += [("generated", text, (None, "ru")) for text in generated(sorted(words), 20_000)]
    if tone_data.default_path().exists():
        texts += [(f"tone-data fold {fold}", row["text"], (None,))
                  for fold, row in tone_data.read(tone_data.default_path())]
    texts += [("1,000 characters", text, (None,))
              for text in bench_tone.long_messages(bench_tone.read_eval(bench_tone.EVAL), 200)]
    with out.open("w", encoding="utf-8") as f:
        for memo in ("cold", "warm"):
            for where, text, languages in texts:
                for language in languages:
                    t = analyse(text, lexicon, language)
                    f.write(json.dumps([memo, where, language, text[:60], t.tone, t.kinds, t.phrases, t.polite,
                                        t.language, t.undirected], ensure_ascii=False) + "\n")


def run(src: Path, *args: str) -> str:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(src), str(HERE)]))
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), *args], env=env, capture_output=True,
                          text=True, check=True)
    return done.stdout


def readings(before: Path) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        for name, src in (("before", before), ("this", THIS)):
            files[name] = Path(tmp) / f"{name}.jsonl"
            run(src, "--child-readings", str(files[name]))
        old = files["before"].read_text(encoding="utf-8").splitlines()
        new = files["this"].read_text(encoding="utf-8").splitlines()
    differ = [(a, b) for a, b in zip(old, new, strict=False) if a != b]
    print(f"{len(new)} readings (this tree), {len(old)} (before); {len(differ)} differ")
    for a, b in differ[:10]:
        print(f"  before: {a}\n  this:   {b}")
    return 0 if not differ and len(old) == len(new) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--before", type=Path, help="the other tree's src directory")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--messages", type=int, default=50)
    parser.add_argument("--runs", type=int, default=10, help="timed calls per message")
    parser.add_argument("--readings", action="store_true", help="compare every reading instead of timing")
    parser.add_argument("--json-out", type=Path)
    parser.add_argument("--child-speed", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child-readings", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_speed:
        child_speed(args.messages, args.runs)
        return 0
    if args.child_readings is not None:
        child_readings(args.child_readings)
        return 0
    if args.before is None:
        parser.error("--before is required")
    if args.readings:
        return readings(args.before)

    trees = {"before": args.before, "this": THIS}
    times: dict[str, dict[str, list[float]]] = {name: {"wall": [], "cpu": []} for name in trees}
    for r in range(args.rounds):
        order = list(trees) if r % 2 == 0 else list(reversed(trees))
        for name in order:
            got = json.loads(run(trees[name], "--child-speed", "--messages", str(args.messages),
                                 "--runs", str(args.runs)))
            for clock in ("wall", "cpu"):
                times[name][clock].append(got[clock])
            print(f"round {r + 1} {name:<6} warm median {got['wall']:.1f} µs wall, {got['cpu']:.1f} µs CPU", flush=True)
    summary = {}
    for clock in ("wall", "cpu"):
        medians = {name: statistics.median(times[name][clock]) for name in trees}
        summary[clock] = {"median": medians, "ratio": medians["this"] / medians["before"],
                          "range": {name: (min(times[name][clock]), max(times[name][clock])) for name in trees}}
        print(f"{clock:>4}: before {medians['before']:.1f} µs ({min(times['before'][clock]):.1f}–"
              f"{max(times['before'][clock]):.1f}), this tree {medians['this']:.1f} µs "
              f"({min(times['this'][clock]):.1f}–{max(times['this'][clock]):.1f}); "
              f"ratio {summary[clock]['ratio']:.3f}")
    if args.json_out is not None:
        args.json_out.write_text(json.dumps({"times": times, "summary": summary}, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
