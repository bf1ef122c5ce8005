"""The learned second opinion on tone: a linear model over hashed character n-grams of words.

The lexicons catch what they name; people write rudeness in more ways than a lexicon can list.
This model was trained (benchmarks/train_tone_model.py, on ../shared/tone-data/) as a logistic
regression (averaged SGD) over the character 1- to 6-grams of each word and the word itself,
hashed into 2**bits buckets with CRC-32. A word sets each of its features once; a sentence's
features are the sums over its words, and the model is linear, so a sentence's score is
the bias plus the sum of its words' weights: a word's weight is computed once and memoised with
the rest of what the lexicon knows about it, and the words that weighed most are the phrases a
decision quotes. Sentences are scored one by one, so a long civil letter does not add up to rude.

The file format (read by firmly.adapters.lexicons; the core never touches a file):
    b"FTM1", bits (uint8), bias, threshold_ru, threshold_en (float32 each, little endian), then
    the zlib-compressed float32 weights, little endian.
"""

from __future__ import annotations

import struct
import sys
import zlib
from array import array
from typing import Final

from firmly.domain.errors import InvalidInput, Problem

MAGIC: Final = b"FTM1"
_HEADER: Final = struct.Struct("<4sB3f")
NGRAMS: Final = (1, 2, 3, 4, 5, 6)
QUOTE_FLOOR: Final = 0.1
HEAVY: Final = 0.1  # of what a sentence needs: lighter words cannot tip one alone


def word_buckets(word: str, mask: int) -> set[int]:
    """The hashed features of one normalised word: the word itself and its character n-grams
    (with "<" and ">" marking where it starts and ends), each once."""
    padded = ("<" + word + ">").encode("utf-32-le")  # four bytes a character: n-grams are plain slices
    found = {zlib.crc32(b"{" + padded) & mask}
    size = len(padded) // 4
    for n in NGRAMS:
        step = 4 * n
        for i in range(0, 4 * (size - n + 1), 4):
            found.add(zlib.crc32(padded[i:i + step]) & mask)
    return found


class ToneModel:
    """Weights over hashed features and the decision thresholds: a sentence whose summed score (a
    log-odds) reaches `thresholds[language]` is hostile."""

    __slots__ = ("bias", "bits", "heavy", "mask", "quote_floor", "thresholds", "weights")

    def __init__(self, weights: array[float], bits: int, bias: float, thresholds: dict[str, float]) -> None:
        self.weights = weights
        self.bits = bits
        self.mask = (1 << bits) - 1
        self.bias = bias
        self.thresholds = thresholds
        # A word that weighs this much could tip a sentence on its own ("бляшки"): worth a dictionary look-up.
        self.heavy = HEAVY * (min(thresholds.values()) - bias)
        # Lighter words are never among a decision's reasons (a sentence that tips has heavier ones).
        self.quote_floor = QUOTE_FLOOR * (min(thresholds.values()) - bias)

    def __repr__(self) -> str:
        return f"ToneModel(2**{self.bits} buckets, thresholds {self.thresholds})"

    def word_weight(self, word: str) -> float:
        w, mask = self.weights, self.mask
        return sum(w[b] for b in word_buckets(word, mask))

    def to_bytes(self) -> bytes:
        weights = array("f", self.weights)
        if sys.byteorder != "little":
            weights.byteswap()
        head = _HEADER.pack(MAGIC, self.bits, self.bias, self.thresholds["ru"], self.thresholds["en"])
        return head + zlib.compress(weights.tobytes(), 9)

    @classmethod
    def from_bytes(cls, data: bytes, where: str = "<tone model>") -> ToneModel:
        """Raises InvalidInput naming the file when it is not a tone model."""
        def bad(why: str) -> InvalidInput:
            return InvalidInput([Problem(where, None, "tone model", why)])

        if len(data) < _HEADER.size or data[:4] != MAGIC:
            raise bad("is not a firmly tone model (build one with benchmarks/train_tone_model.py)")
        _, bits, bias, ru, en = _HEADER.unpack_from(data)
        if not 8 <= bits <= 24:
            raise bad(f"declares 2**{bits} buckets; expected 2**8 to 2**24")
        try:
            raw = zlib.decompress(data[_HEADER.size:])
        except zlib.error as exc:
            raise bad(f"has damaged weights ({exc})") from None
        if len(raw) != 4 << bits:
            raise bad(f"holds {len(raw) // 4} weights, not 2**{bits}")
        weights = array("f")
        weights.frombytes(raw)
        if sys.byteorder != "little":
            weights.byteswap()
        return cls(weights, bits, bias, {"ru": ru, "en": en})
