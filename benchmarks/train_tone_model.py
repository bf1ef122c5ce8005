"""Train the tone model the product ships (src/firmly/lexicons/tone_model.bin) on ../shared/tone-data/.

    .venv/bin/python benchmarks/train_tone_model.py [--data PATH] [--bits 20] [--alpha 1e-7] [--epochs 20] [--out FILE]

Needs the dev extras (scikit-learn, numpy, scipy); the product reads the result with the stdlib.
Deterministic: the evaluation fold (benchmarks/tone_data.py, fold 0 of 10 by a hash of the text)
is never trained on; the other nine folds are cross-validated by the same hash (5 folds), the
thresholds are chosen on those out-of-fold scores, and the final model is fitted on all nine.
A threshold is chosen as the analyser uses the model: on each message's best sentence, beside the
lexicons' own decision, so that lexicons and model together call at most CIVIL_BUDGET of the civil
training messages hostile, out of fold.
The solver is seeded; the same data gives the same bytes. Under a minute on one core.

Features and scoring are firmly.domain.tone_model's: the counts of each word's hashed character
n-grams, a logistic regression over them, thresholds per language on the log-odds.
"""

from __future__ import annotations

import argparse
import time
from array import array
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.linear_model import SGDClassifier
from wordfreq import top_n_list

import tone_data
from firmly.adapters.lexicons import load_lexicon
from firmly.domain.tone import analyse, message_sentences, message_words
from firmly.domain.tone_model import ToneModel, word_buckets

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "src" / "firmly" / "lexicons" / "tone_model.bin"
SEED = 20261202
ALPHA = 1e-8  # 1e-6 (round 4): ru 0.753, en 0.925 alone at 2%/1% civil; 3e-7: 0.783, 0.932; 1e-7: 0.787, 0.937
# Round 8, 5-fold CV, lexicons + model at 2.8% civil (ru / en recall): 1e-7 0.902 / 0.935, 3e-8 0.903 / 0.939,
# 1e-8 0.902 / 0.941 (2-5-grams); 40 epochs 0.902 / 0.926; Russian hostile weighted 2: 0.903 / 0.936.
# With 1-6-grams and 15,000 Russian common words: 3e-8 0.904 / 0.940, 1e-8 0.905 / 0.940.
EPOCHS = 20
CV_FOLDS = 5
# Civil messages the lexicons and the model together may call hostile, out of fold, per language: below
# the goal of 3% on the evaluation fold, with room for a fold that differs (a fold of 775 Russian civil
# messages is ±0.6 points around the rate by chance; round 5 spent the whole 3% out of fold and a fold
# of new messages came out 0.2 points above it).
CIVIL_BUDGET = {"ru": 0.028, "en": 0.028}
# Character n-grams make an unseen ordinary word rude by resemblance ("assessment", "Mitchell",
# "депутатов"): the most common words of each language that the lexicons do not call hostile are
# added as civil one-word examples (wordfreq's lists), so that resemblance alone does not decide.
# Round 8: Russian common words too (CV with 1-6-grams, ru / en recall: none 0.902 / 0.935 with 2-5-grams;
# 15,000 0.904 / 0.940; 30,000 0.904 / 0.939; 60,000 with 2-5-grams 0.902 / 0.928).
COMMON_WORDS = {"en": 30_000, "ru": 15_000}
# Davidson's tweets are labelled "offensive" for casual slurs aimed at nobody (tone-data README):
# they count, but less than the other sources.
SOURCE_WEIGHT = {"davidson_hate_offensive": 0.5}


def features(texts: list[list[str]], mask: int) -> csr_matrix:
    """One row per list of (normalised) words: the counts of their hashed features."""
    memo: dict[str, set[int]] = {}
    indptr: list[int] = [0]
    indices: list[int] = []
    data: list[int] = []
    for words in texts:
        counts: Counter[int] = Counter()
        for word in words:
            buckets = memo.get(word)
            if buckets is None:
                buckets = memo[word] = word_buckets(word, mask)
            counts.update(buckets)
        indices.extend(counts.keys())
        data.extend(counts.values())
        indptr.append(len(indices))
    return csr_matrix((np.array(data, dtype=np.float32), np.array(indices, dtype=np.int32), np.array(indptr)),
                      shape=(len(texts), mask + 1))


def fit(x: csr_matrix, y: np.ndarray[Any, Any], weight: np.ndarray[Any, Any], alpha: float = ALPHA,
        epochs: int = EPOCHS) -> SGDClassifier:
    # Averaged SGD on the logistic loss: seconds where liblinear takes minutes, and as good here.
    model = SGDClassifier(loss="log_loss", alpha=alpha, max_iter=epochs, tol=None, average=True, random_state=SEED)
    model.fit(x, y, sample_weight=weight)
    return model


def threshold(scores: np.ndarray[Any, Any], hostile: np.ndarray[Any, Any], budget: float,
              lexicons: np.ndarray[Any, Any]) -> float:
    """The lowest log-odds at which the lexicons and the model together call at most `budget` of the
    civil messages hostile (the model adds the civil messages the lexicons let pass)."""
    civil = ~hostile
    spare = int(budget * int(civil.sum())) - int((lexicons & civil).sum())
    left = np.sort(scores[civil & ~lexicons])[::-1]
    if spare < 0:
        return float(left[0]) + 1e-4 if len(left) else 0.0
    return float(left[min(spare, len(left) - 1)]) + 1e-4


def report(name: str, scores: np.ndarray[Any, Any], hostile: np.ndarray[Any, Any], cut: float,
           lexicons: np.ndarray[Any, Any] | None = None) -> str:
    called = scores >= cut
    if lexicons is not None:
        called |= lexicons
    tp = int((called & hostile).sum())
    recall = tp / max(1, int(hostile.sum()))
    precision = tp / max(1, int(called.sum()))
    civil = int((called & ~hostile).sum()) / max(1, int((~hostile).sum()))
    return (f"{name:<24} recall {recall:.3f}  precision {precision:.3f}  civil called hostile {civil:.2%}  "
            f"({int(hostile.sum())} hostile, {int((~hostile).sum())} civil)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=tone_data.default_path())
    parser.add_argument("--bits", type=int, default=20, help="2**bits hashed feature buckets")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--alpha", type=float, default=ALPHA, help="the L2 penalty of the SGD")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    mask = (1 << args.bits) - 1

    rows = [(f, r) for f, r in tone_data.read(args.data) if f != tone_data.EVAL_FOLD]
    lexicon = load_lexicon(model=False)
    for lg, count in COMMON_WORDS.items():
        common = [w for w in top_n_list(lg, count) if not analyse(w, lexicon).hostile]
        rows += [(tone_data.FOLDS + i % CV_FOLDS, tone_data.Row(text=w, lang=lg, hostile=False, source="wordfreq"))
                 for i, w in enumerate(common)]
    texts = [r["text"] for _, r in rows]
    y = np.array([r["hostile"] for _, r in rows])
    lang = np.array([r["lang"] for _, r in rows])
    weight = np.array([SOURCE_WEIGHT.get(r["source"], 1.0) for _, r in rows])
    cv = np.array([f % CV_FOLDS for f, _ in rows])  # folds 1-9 of the hash, folded onto 5
    x = features([message_words(t) for t in texts], mask)
    # The analyser scores each sentence on its own, and only where the lexicons found nothing: the
    # thresholds are chosen on a message's best sentence beside the lexicons' own decision.
    sentences = [message_sentences(t) or [[]] for t in texts]
    owner = np.repeat(np.arange(len(texts)), [len(s) for s in sentences])
    starts = np.searchsorted(owner, np.arange(len(texts)))
    x_sentences = features([words for s in sentences for words in s], mask)
    lexicons = np.array([analyse(t, lexicon).hostile for t in texts])
    print(f"{len(rows)} training messages (the evaluation fold left out; common words included), {x.nnz} features set, "
          f"{time.perf_counter() - started:.0f} s")

    scores = np.zeros(len(rows))
    for k in range(CV_FOLDS):
        train = cv != k
        model = fit(x[train], y[train], weight[train], args.alpha, args.epochs)
        best = np.maximum.reduceat(model.decision_function(x_sentences), starts)
        scores[~train] = best[~train]
    real = np.array([r["source"] != "wordfreq" for _, r in rows])
    of = {lg: real & (lang == lg) for lg in ("ru", "en")}
    cuts = {lg: threshold(scores[k], y[k], CIVIL_BUDGET[lg], lexicons[k]) for lg, k in of.items()}
    print(f"\n{CV_FOLDS}-fold cross-validation, message level, the best sentence's score "
          f"(seed {SEED}, alpha {args.alpha}, {args.epochs} epochs):")
    for lg, k in of.items():
        print(report(f"{lg} lexicons alone", scores[k], y[k], np.inf, lexicons[k]))
        print(report(f"{lg} model alone", scores[k], y[k], cuts[lg]) + f"  threshold {cuts[lg]:+.3f}")
        print(report(f"{lg} lexicons + model", scores[k], y[k], cuts[lg], lexicons[k]))

    model = fit(x, y, weight, args.alpha, args.epochs)
    coef = model.coef_[0]
    weights = array("f")
    weights.frombytes(coef.astype("<f4").tobytes())
    tone_model = ToneModel(weights, args.bits, float(model.intercept_[0]), cuts)
    blob = tone_model.to_bytes()
    args.out.write_bytes(blob)
    print(f"\nwrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}: "
          f"{len(blob) / 1e6:.2f} MB, bias {model.intercept_[0]:+.3f}, {time.perf_counter() - started:.0f} s in all")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
