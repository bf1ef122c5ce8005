"""The labelled public messages of ../shared/tone-data/ (see its README), cleaned and split the same
way for training (benchmarks/train_tone_model.py) and evaluation (benchmarks/bench_tone.py).

The split is by a hash of the message's normalised text, so it is the same on every machine and
every run, and a message repeated in the data never lands on both sides: fold 0 of 10 is the
evaluation fold and is never trained on.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TypedDict

from firmly.domain.tone import normalise

ROOT = Path(__file__).resolve().parent.parent
FOLDS = 10
EVAL_FOLD = 0

# Tweets carry retweet marks, handles and links; they say nothing about tone, but most of the
# tweets in the data are labelled offensive, so a model would learn "a tweet is rude".
_TWITTER = re.compile(r"\bRT\b:?|@\w+:?|https?://\S+|\bhttp\S*")
_SPACES = re.compile(r"\s+")


class Row(TypedDict):
    text: str
    lang: str
    hostile: bool
    source: str


def default_path() -> Path:
    """../shared/tone-data/train.jsonl beside the checkout (or beside the worktrees' parent)."""
    for base in (ROOT.parent, ROOT.parent.parent):
        path = base / "shared" / "tone-data" / "train.jsonl"
        if path.exists():
            return path
    return ROOT.parent / "shared" / "tone-data" / "train.jsonl"


def clean(text: str) -> str:
    return _SPACES.sub(" ", _TWITTER.sub(" ", html.unescape(text))).strip()


def fold_of(text: str) -> int:
    key = " ".join(re.findall(r"\w+", normalise(text)))
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") % FOLDS


def read(path: Path) -> Iterator[tuple[int, Row]]:
    """(fold, row) for every message with text left after cleaning."""
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            raw = json.loads(line)
            text = clean(raw["text"])
            if text:
                yield fold_of(text), Row(text=text, lang=raw["lang"], hostile=bool(raw["hostile"]),
                                         source=raw["source"])
