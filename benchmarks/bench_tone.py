"""Tone analysis: quality on the labelled evaluation set and speed on 1,000-character messages.

    .venv/bin/python benchmarks/bench_tone.py [--eval tests/data/tone_eval.jsonl] [--errors] \
        [--runs 200] [--json-out FILE]

Measures, in this order:

1. the lexicon compile: the first `load_lexicon()` of the process (YAML, pymorphy3 expansion of
   every Russian lemma, the surface-form tables);
2. quality: `analyse` on every message of the evaluation set (tests/data/tone_eval.jsonl, written
   for this project: Russian and English messages to a bank, a clinic, an agency, each labelled
   polite / neutral / hostile and tagged with the hard case it exercises): precision and recall per
   class, the confusion matrix, hostile recall, the share of polite + neutral messages wrongly called
   hostile, accuracy per family and language; --errors lists every miss;
3. speed: messages of about 1,000 characters, made by joining evaluation messages in a fixed shuffled
   order; the median time of one `analyse` call per message, with the lexicon's token memo warm
   (the steady state of a running process) and cold (the memo emptied before each message: every
   word goes through the slow path once, English stemming included).

4. real messages (with --tone-data, default ../shared/tone-data/train.jsonl when it is there):
   the evaluation fold of the labelled public messages (benchmarks/tone_data.py: fold 0 of 10 by a
   hash of the text, never trained on by benchmarks/train_tone_model.py), and the project's own
   sets above taken together as customers' messages; per language: hostile recall, precision and
   the share of civil messages called hostile. Goals on the fold: Russian recall >= 0.90, English
   >= 0.92, civil called hostile <= 3 % in each; on the customers' civil messages <= 1 %;
5. `firmly tone --file` over the fold's messages: messages per second, start-up included.

Goals: hostile recall >= 0.95, polite/neutral wrongly called hostile <= 2 %, median <= 200 µs per
1,000 characters (warm).

The lexicons were written with tone_eval.jsonl in view, so its figures are in-sample. Sets written
later estimate how the lexicons do on unseen wording; the summary lists them too:
  tone_holdout.jsonl  99 messages; first run: hostile recall 0.636, false hostile 0/55; then tuned on
  tone_blind.jsonl    50 messages; first run: hostile recall 0.450, false hostile 1/30; then tuned on
  tone_final.jsonl    60 messages written with the lexicons frozen and never tuned on: hostile recall
                      0.654, false hostile 4/34 (past or third-party mentions of lawsuits, regulators).
                      Not opened since, but a few of its misses were named in the brief of round 3
                      (the generalisation round), so it is no longer quite blind.
  tone_blind2.jsonl   133 messages written at the start of round 3, before any change, and measured
                      only then and at the end (its misses were not looked at in between): hostile
                      recall 0.709 -> 0.873, false hostile 14/78 -> 9/78. One person wrote it and the
                      round-3 lexicon additions, so its "after" figure is optimistic.
  tone_blind3.jsonl   90 messages written after round 3 froze the lexicons, never tuned on: hostile
                      recall 0.806, false hostile 10/54 (the lexicons before round 3: 0.667, 13/54).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import tone_data
from firmly.adapters.lexicons import load_lexicon
from firmly.domain.tone import TONES, Lexicon, analyse

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
EVAL = DATA / "tone_eval.jsonl"
HELD_OUT = {
    "tone_holdout.jsonl": "round 1, tuned on after its first run",
    "tone_blind.jsonl": "round 2, tuned on after its first run",
    "tone_final.jsonl": "never tuned on; some misses named in the round-3 brief",
    "tone_blind2.jsonl": "round 3, measured before and after only",
    "tone_blind3.jsonl": "written after round 3, never tuned on",
}
GOAL_RECALL = 0.95
GOAL_FALSE_HOSTILE = 0.02
GOAL_MEDIAN_US = 200.0
MESSAGE_CHARS = 1000


def read_eval(path: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def quality(rows: list[dict[str, str]], lexicon: Lexicon) -> dict[str, Any]:
    """Confusion matrix (gold -> predicted), per-class precision and recall, the two goal figures."""
    confusion = {gold: dict.fromkeys(TONES, 0) for gold in TONES}
    misses = []
    by_family: dict[str, Counter[str]] = {}
    for row in rows:
        tone = analyse(row["text"], lexicon)
        confusion[row["label"]][tone.tone] += 1
        for group in (row["family"], f"lang:{row['lang']}"):
            by_family.setdefault(group, Counter())["right" if tone.tone == row["label"] else "wrong"] += 1
        if tone.tone != row["label"]:
            misses.append({**row, "got": tone.tone, "phrases": list(tone.phrases), "kinds": list(tone.kinds)})
    classes = {}
    for tone_name in TONES:
        predicted = sum(confusion[gold][tone_name] for gold in TONES)
        actual = sum(confusion[tone_name].values())
        right = confusion[tone_name][tone_name]
        classes[tone_name] = {"precision": right / predicted if predicted else 0.0,
                              "recall": right / actual if actual else 0.0, "support": actual}
    calm = [gold for gold in TONES if gold != "hostile"]
    calm_total = sum(sum(confusion[gold].values()) for gold in calm)
    false_hostile = sum(confusion[gold]["hostile"] for gold in calm)
    return {
        "messages": len(rows),
        "confusion": confusion,
        "classes": classes,
        "hostile_recall": classes["hostile"]["recall"],
        "false_hostile_share": false_hostile / calm_total if calm_total else 0.0,
        "false_hostile": false_hostile,
        "calm_messages": calm_total,
        "accuracy": sum(confusion[t][t] for t in TONES) / len(rows),
        "families": {name: {"right": c["right"], "total": c["right"] + c["wrong"]}
                     for name, c in sorted(by_family.items())},
        "misses": misses,
    }


def per_language(rows: list[tuple[str, bool, str]], lexicon: Lexicon) -> dict[str, dict[str, float]]:
    """(lang, hostile, text) rows -> per language: hostile recall, precision, civil called hostile."""
    out: dict[str, dict[str, float]] = {}
    for lang in ("ru", "en"):
        c: Counter[tuple[bool, bool]] = Counter(
            (gold, analyse(text, lexicon).hostile) for lg, gold, text in rows if lg == lang)
        found, hostile, civil = c[True, True], c[True, True] + c[True, False], c[False, True] + c[False, False]
        called = c[True, True] + c[False, True]
        out[lang] = {"hostile": hostile, "civil": civil, "recall": found / hostile if hostile else 0.0,
                     "precision": found / called if called else 0.0,
                     "civil_called_hostile": c[False, True] / civil if civil else 0.0}
    return out


def print_per_language(name: str, figures: dict[str, dict[str, float]]) -> None:
    for lang, f in figures.items():
        print(f"{name:<22} {lang}  hostile recall {f['recall']:.3f}  precision {f['precision']:.3f}  "
              f"civil called hostile {f['civil_called_hostile']:.2%}  "
              f"({f['hostile']:.0f} hostile, {f['civil']:.0f} civil)")


def batch_speed(texts: list[str]) -> dict[str, float]:
    """`firmly tone --file` over these messages (one process, start-up included): wall-clock and CPU
    seconds (the CPU figure is what one core gives when the machine is shared)."""
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", encoding="utf-8", delete=False) as f:
        for text in texts:
            f.write(json.dumps({"text": text}, ensure_ascii=False) + "\n")
    try:
        start = time.perf_counter()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run([sys.executable, "-m", "firmly", "tone", "--file", f.name], capture_output=True,
                              check=True, env=dict(os.environ))
        seconds = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    finally:
        os.unlink(f.name)
    lines = done.stdout.count(b"\n")
    return {"messages": lines, "seconds": seconds, "per_second": lines / seconds, "cpu_seconds": cpu,
            "per_cpu_second": lines / cpu}


def long_messages(rows: list[dict[str, str]], count: int, seed: int = 1) -> list[str]:
    """`count` messages of about MESSAGE_CHARS characters, each eval messages joined by spaces."""
    rng = random.Random(seed)
    texts = [row["text"] for row in rows]
    out = []
    for _ in range(count):
        rng.shuffle(texts)
        parts: list[str] = []
        size = 0
        for text in texts:
            if size + len(text) > MESSAGE_CHARS and size >= MESSAGE_CHARS * 0.9:
                break
            parts.append(text)
            size += len(text) + 1
        out.append(" ".join(parts)[:MESSAGE_CHARS])
    return out


def speed(messages: list[str], lexicon: Lexicon, repeats: int) -> dict[str, Any]:
    """Median microseconds per analyse call: warm memo (median of `repeats` calls per message, then
    the median over messages) and cold (memo emptied before each message)."""
    for text in messages:  # fill the memo
        analyse(text, lexicon)
    gc.collect()
    warm = []
    for text in messages:
        calls = []
        for _ in range(repeats):
            start = time.perf_counter_ns()
            analyse(text, lexicon)
            calls.append(time.perf_counter_ns() - start)
        warm.append(statistics.median(calls) / 1000)
    cold = []
    for text in messages:
        lexicon.forget()  # on purpose: the slow path, every word looked up afresh
        start = time.perf_counter_ns()
        analyse(text, lexicon)
        cold.append((time.perf_counter_ns() - start) / 1000)
    for text in messages:  # leave the memo warm
        analyse(text, lexicon)
    chars = statistics.mean(len(t) for t in messages)
    return {"messages": len(messages), "mean_chars": chars, "repeats": repeats,
            "warm_median_us": statistics.median(warm), "warm_p90_us": sorted(warm)[int(len(warm) * 0.9)],
            "cold_median_us": statistics.median(cold), "cold_p90_us": sorted(cold)[int(len(cold) * 0.9)]}


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--eval", type=Path, default=EVAL, help="labelled JSONL (text, lang, label, family)")
    parser.add_argument("--errors", action="store_true", help="list every misclassified message")
    parser.add_argument("--messages", type=int, default=200, help="1,000-character messages to time")
    parser.add_argument("--runs", type=int, default=50, help="timed calls per message (warm)")
    parser.add_argument("--json-out", type=Path, help="write the results as JSON here")
    parser.add_argument("--tone-data", type=Path, default=tone_data.default_path(),
                        help="the labelled public messages (its evaluation fold is measured)")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    lexicon = load_lexicon()
    compile_s = time.perf_counter() - start
    print(f"lexicon: {lexicon}, compiled in {compile_s:.2f} s (first load_lexicon of the process)")

    rows = read_eval(args.eval)
    q = quality(rows, lexicon)
    langs = Counter(r["lang"] for r in rows)
    labels = Counter(r["label"] for r in rows)
    print(f"\n== quality: {q['messages']} messages ({', '.join(f'{k} {v}' for k, v in sorted(langs.items()))}; "
          f"{', '.join(f'{t} {labels[t]}' for t in TONES)}) ==")
    print(f"{'class':<9} {'precision':>9} {'recall':>7} {'support':>8}")
    for tone_name, c in q["classes"].items():
        print(f"{tone_name:<9} {c['precision']:>9.3f} {c['recall']:>7.3f} {c['support']:>8}")
    print("\nconfusion (rows: label, columns: predicted)")
    print(f"{'':<9}" + "".join(f"{t:>9}" for t in TONES))
    for gold in TONES:
        print(f"{gold:<9}" + "".join(f"{q['confusion'][gold][t]:>9}" for t in TONES))
    print(f"\naccuracy {q['accuracy']:.3f}")
    print(f"hostile recall {q['hostile_recall']:.3f} (goal >= {GOAL_RECALL}): "
          f"{verdict(q['hostile_recall'] >= GOAL_RECALL)}")
    print(f"polite+neutral called hostile {q['false_hostile']}/{q['calm_messages']} = "
          f"{q['false_hostile_share']:.3%} (goal <= {GOAL_FALSE_HOSTILE:.0%}): "
          f"{verdict(q['false_hostile_share'] <= GOAL_FALSE_HOSTILE)}")
    print("\nright per family / language: " + ", ".join(
        f"{name} {f['right']}/{f['total']}" for name, f in q["families"].items()))
    if args.errors:
        print("\n== misses ==")
        for miss in q["misses"]:
            print(f"[{miss['lang']} {miss['family']}] {miss['label']} -> {miss['got']} "
                  f"{miss['phrases']}: {miss['text']}")

    held_out: dict[str, Any] = {}
    if args.eval == EVAL:
        print("\n== held-out sets (see the module docstring) ==")
        for name, note in HELD_OUT.items():
            if (DATA / name).exists():
                h = quality(read_eval(DATA / name), lexicon)
                held_out[name] = h
                print(f"{name:<20} {h['messages']:>3} messages, hostile recall {h['hostile_recall']:.3f}, "
                      f"called hostile {h['false_hostile']}/{h['calm_messages']} = {h['false_hostile_share']:.1%}, "
                      f"accuracy {h['accuracy']:.3f} ({note})")

    real: dict[str, Any] = {}
    if args.eval == EVAL:
        own = [(r["lang"], r["label"] == "hostile", r["text"]) for name in (EVAL.name, *HELD_OUT)
               for r in read_eval(DATA / name)]
        real["customers"] = per_language(own, lexicon)
        print("\n== real messages ==")
        print_per_language("customers' messages", real["customers"])
    if args.tone_data.exists():
        fold = [(r["lang"], r["hostile"], r["text"]) for f, r in tone_data.read(args.tone_data)
                if f == tone_data.EVAL_FOLD]
        real["tone_data_fold"] = per_language(fold, lexicon)
        print_per_language("tone-data fold", real["tone_data_fold"])
        real["batch"] = batch_speed([text for _, _, text in fold])
        print(f"firmly tone --file: {real['batch']['messages']} messages in {real['batch']['seconds']:.1f} s, "
              f"{real['batch']['per_second']:.0f} messages/s; {real['batch']['cpu_seconds']:.1f} s of CPU, "
              f"{real['batch']['per_cpu_second']:.0f} messages per CPU second (start-up included)")

    messages = long_messages(rows, args.messages)
    s = speed(messages, lexicon, args.runs)
    print(f"\n== speed: {s['messages']} messages of {s['mean_chars']:.0f} characters ==")
    print(f"warm memo: median {s['warm_median_us']:.1f} µs, p90 {s['warm_p90_us']:.1f} µs "
          f"(goal <= {GOAL_MEDIAN_US:.0f} µs): {verdict(s['warm_median_us'] <= GOAL_MEDIAN_US)}")
    print(f"cold memo: median {s['cold_median_us']:.1f} µs, p90 {s['cold_p90_us']:.1f} µs "
          "(every word looked up afresh)")

    if args.json_out is not None:
        result = {"compile_s": compile_s, "quality": q, "speed": s, "python": sys.version.split()[0],
                  "held_out": held_out, "real": real}
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
