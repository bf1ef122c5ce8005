"""Tone lexicons: the packaged YAML (firmly/lexicons/ru.yaml, en.yaml) plus a workspace's own files,
compiled into a firmly.domain.tone.Lexicon together with the packaged tone model (tone_model.bin).

Russian lemmas are expanded to every form of their lexeme with pymorphy3 here, at compile time, so
that analysis needs dictionary lookups only. Compiled lexicons are cached per list of files (and
their modification times, so an edited workspace file is read again).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import pymorphy3

from firmly.domain.errors import InvalidInput, Problem
from firmly.domain.tone import ROLES, Entry, Lexicon, build_lexicon
from firmly.domain.tone_model import ToneModel
from firmly.domain.yamlmap import YamlProblem, load_with_lines

PACKAGED = ("ru.yaml", "en.yaml")
MODEL = "tone_model.bin"  # built by benchmarks/train_tone_model.py
SETTINGS = ("language", "gap")
MAX_GAP = 10


def load_lexicon(extra: Sequence[Path] = (), *, model: bool = True) -> Lexicon:
    """The packaged lexicons plus `extra` files of the same format (a workspace's additions), with
    the packaged tone model unless `model` is false (training a new one).
    Raises InvalidInput naming the file, line and field of every problem."""
    fingerprints = []
    for path in extra:
        try:
            stat = Path(path).stat()
        except OSError as exc:
            raise InvalidInput([Problem(str(path), None, "lexicon", f"cannot be read: {exc.strerror}")]) from None
        fingerprints.append((str(path), stat.st_mtime_ns, stat.st_size))
    return _compiled(tuple(fingerprints), model)


@functools.lru_cache(maxsize=16)
def _compiled(files: tuple[tuple[str, int, int], ...], model: bool) -> Lexicon:
    entries: list[Entry] = []
    package = resources.files("firmly").joinpath("lexicons")
    for name in PACKAGED:
        entries += read_entries(package.joinpath(name).read_text(encoding="utf-8"), f"firmly/lexicons/{name}")
    problems: list[Problem] = []
    for name, _, _ in files:
        try:
            text = Path(name).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(name, None, "lexicon", f"cannot be read: {exc}"))
            continue
        found, wrong = _read(text, name)
        entries += found
        problems += wrong
    try:  # compiled even when some entries were refused, so one error names every problem
        lexicon = build_lexicon(entries, inflect, model=packaged_model() if model else None,
                                spelled_right=spelled_right)
    except InvalidInput as exc:
        problems += exc.problems
    if problems:
        raise InvalidInput(sorted(problems, key=lambda p: (p.where, p.line or 0)))
    return lexicon


@functools.cache
def packaged_model() -> ToneModel:
    """The tone model shipped in the package (a few MB of weights, read once per process)."""
    return ToneModel.from_bytes(resources.files("firmly").joinpath("lexicons", MODEL).read_bytes(),
                                f"firmly/lexicons/{MODEL}")


def read_entries(text: str, where: str) -> list[Entry]:
    """The phrases of one lexicon file, each with its line; InvalidInput for anything malformed."""
    entries, problems = _read(text, where)
    if problems:
        raise InvalidInput(problems)
    return entries


def _read(text: str, where: str) -> tuple[list[Entry], list[Problem]]:
    """The well-formed phrases of one lexicon file and the problems of the rest."""
    try:
        data, lines = load_with_lines(text)
    except YamlProblem as exc:
        return [], [Problem(where, exc.line, "lexicon", exc.message)]
    if data is None:
        return [], []
    if not isinstance(data, dict):
        return [], [Problem(where, 1, "lexicon", "must be a mapping of lists (see firmly/lexicons/ru.yaml)")]
    problems: list[Problem] = []
    language = data.get("language", "")
    if language not in ("", "ru", "en"):
        problems.append(Problem(where, lines.get(("language",)), "language", "must be ru or en"))
    gap = data.get("gap", 3)
    if not isinstance(gap, int) or isinstance(gap, bool) or not 1 <= gap <= MAX_GAP:
        problems.append(Problem(where, lines.get(("gap",)), "gap", f"must be a whole number from 1 to {MAX_GAP}"))
        gap = 3
    entries: list[Entry] = []
    for key, value in data.items():
        if key in SETTINGS:
            continue
        if key not in ROLES:
            known = ", ".join((*SETTINGS, *ROLES))
            problems.append(Problem(where, lines.get((str(key),)), str(key), f"is not a lexicon key (known: {known})"))
            continue
        groups: list[tuple[tuple[str | int, ...], Any]] = [((key,), value)]
        if key == "threat" and isinstance(value, dict):  # threats may be grouped: legal, public, ...
            groups = [((key, str(group)), items) for group, items in value.items()]
        for path, items in groups:
            field = ".".join(str(p) for p in path)
            if not isinstance(items, list):
                problems.append(Problem(where, lines.get(path), field, "must be a list of phrases"))
                continue
            for i, item in enumerate(items):
                line = lines.get((*path, i))
                if not isinstance(item, str) or not item.strip():
                    problems.append(Problem(where, line, f"{field}[{i}]", "must be a non-empty string"))
                    continue
                entries.append(Entry(role=key, phrase=item, language=language, gap=gap, where=where,
                                     line=line, field=f"{field}[{i}]"))
    return entries, problems


@functools.cache
def _morph() -> pymorphy3.MorphAnalyzer:
    return pymorphy3.MorphAnalyzer(lang="ru")


# Many lexicon words share a lexeme ("=пожалеете|=пожалеешь") and forms share tags: both are built once.
_LEXEMES: dict[tuple[str, object], list[tuple[str, frozenset[str]]]] = {}
_GRAMMEMES: dict[object, frozenset[str]] = {}


def _grammemes(tag: Any) -> frozenset[str]:
    found = _GRAMMEMES.get(tag)
    if found is None:
        found = _GRAMMEMES[tag] = frozenset(str(g) for g in tag.grammemes)
    return found


def spelled_right(word: str) -> bool:
    """A Russian word pymorphy3's dictionary knows (as written) is not a typo."""
    return not word.isascii() and "*" not in word and bool(_morph().word_is_known(word))


def inflect(word: str) -> list[tuple[str, frozenset[str]]]:
    """Every form of the lexeme of the word's likeliest parse, with its grammemes; a word the
    dictionary does not know stays as written (pymorphy3's guesses for those are unreliable)."""
    morph = _morph()
    if not morph.word_is_known(word):
        return [(word, frozenset())]
    parse = morph.parse(word)[0]
    method = parse.methods_stack[0]
    key = (str(parse.normal_form), method[2] if len(method) > 2 else str(parse.tag))  # the paradigm
    forms = _LEXEMES.get(key)
    if forms is None:
        forms = _LEXEMES[key] = [(str(f.word), _grammemes(f.tag)) for f in parse.lexeme]
    return [*forms, (word, _grammemes(parse.tag))]


__all__ = ["MODEL", "PACKAGED", "inflect", "load_lexicon", "packaged_model", "read_entries"]
