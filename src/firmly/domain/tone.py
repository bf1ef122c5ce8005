"""Tone of a counterparty's message: polite, neutral or hostile, with the phrases that decided it.

PRODUCT.md: leniency goes to polite counterparties and is withheld, with the quoted phrases as
evidence, from hostile ones. Hostile means a threat (to sue, to complain to a regulator, to shame
in public, to leave), an insult (mockery included), profanity or an ultimatum.

Over 400 lines on purpose: the tokenizer, the lexicon's compiled index and the matcher share their tables and
their memo, and the per-message path is measured to the microsecond (BENCHMARKS.md); kept together so that
one profile reads one module.

The core is pure: `build_lexicon` compiles lexicon entries (read from YAML by
firmly.adapters.lexicons, which also supplies Russian inflections from pymorphy3) into surface-form
tables, and `analyse` reads the text between spaces piece by piece, with dictionary lookups. Per-token
and per-piece results are memoised on the Lexicon (English stemming is the slow part), so repeated
vocabulary is free.
A pattern of several words is tried only when its rarest word occurs, so a lexicon can grow
patterns that start with "you" or "в" without every message paying for them.

A threat that is history or about someone else is not a threat to the addressee: "в прошлом году
я жаловался в ЦБ на другой банк", "I've filed a lawsuit against my former employer" (see
`_current`; the words for it are lexicon roles: past_time, past_tense, third_party, addressee).

Phrase syntax (documented for users at the top of firmly/lexicons/ru.yaml):
    "подать ... в суд"  adjacent words; "..." up to `gap` words between; "...N" up to N
    "суд|иск"           alternatives for one word
    word / =word / word:g1,g2 / word*   lemma (every form; English: stem), exact form,
                                        forms with these grammemes, prefix
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Final

import msgspec
import snowballstemmer

from firmly.domain.errors import InvalidInput, Problem
from firmly.domain.tone_model import ToneModel

HOSTILE_KINDS: Final = ("insult", "pressure", "profanity", "threat")
TONES: Final = ("polite", "neutral", "hostile")
# Lexicon keys that hold phrases, besides `threat` (which may be grouped) and `profanity_roots`.
PHRASE_ROLES: Final = (
    "threat", "insult", "profanity", "pressure", "irony", "failure", "polite", "negation",
    "negation_exceptions", "reporting", "first_person", "shields", "safe",
    "past_time", "past_tense", "third_party", "addressee",
)
ROLES: Final = (*PHRASE_ROLES, "profanity_roots", "markers", "translit_stop")
# Roles whose words tolerate one typo; the grammar words (negation, reporting...) do not.
_FUZZY_ROLES: Final = frozenset({"threat", "insult", "profanity", "pressure", "polite"})

# Word distances, counted in words of the message.
NEGATION_REACH: Final = 4   # a negation ends at most 3 words before the threat ("не буду подавать в суд")
NEGATION_AFTER: Final = 3   # ... or starts at most 2 words after it ("судиться с вами не собираюсь")
EXCEPTION_BEFORE: Final = 2  # "если не ...", "if you don't ..." keep the threat
REPORT_BEFORE: Final = 8    # a reporting verb this close before a quotation makes it reported speech
REPORT_AFTER: Final = 3     # «...», — сказал он
OWN_WORDS: Final = 6        # "я ... сказал" within this many words: the writer quotes themself
SHIELD_REACH: Final = 2     # "called me an idiot"
SAFE_REACH: Final = 2       # "прочитал отзывы на Банки.ру"
# A threat that is about the past or about someone else ("в прошлом году подавал жалобу в ЦБ на
# другой банк", "I've filed a lawsuit against my former employer") is history, not a threat to us.
ADDRESSEE_REACH: Final = 4  # "... в ЦБ на вас", "reported you to the CFPB": still ours
THIRD_PARTY_REACH: Final = 4  # "подал иск против работодателя", "the regulator about another bank"
PAST_REACH: Final = 6       # "took my energy supplier to the ombudsman" (with a past time in the sentence)
SUBSTITUTE_MIN: Final = 7  # a replaced letter is forgiven in Russian words this long ("прости" is not "просто")
MEMO_LIMIT: Final = 100_000  # tokens remembered per lexicon (~15 MB) before the memo starts afresh
PIECES_LIMIT: Final = 50_000  # pieces of text between spaces remembered per lexicon (~16 MB), likewise
# A dictionary's word that resembles a rude one ("бляшки", "Подписчиков") weighs this share of what the
# model gives it: the rude words of the dictionary are the lexicons' to name.
DICTIONARY_WEIGHT: Final = 0.5
QUOTE_SHARE: Final = 0.5    # the model's reasons: the heaviest word and those weighing at least half as much
QUOTE_MAX: Final = 3


class Tone(msgspec.Struct, frozen=True):
    """What `analyse` found. `phrases` and `polite` are exact substrings of the text, in order."""

    tone: str                   # "polite" | "neutral" | "hostile"
    kinds: tuple[str, ...]      # sorted subset of HOSTILE_KINDS; empty unless hostile
    phrases: tuple[str, ...]    # what made it hostile, as written, so a decision can quote it
    polite: tuple[str, ...]     # courtesy markers found
    language: str               # "ru" | "en"
    # The hostility is only profanity, in sentences that address nobody ("мне на процессы насрать"):
    # a rule may choose to let it pass (`undirected_profanity: civil`).
    undirected: bool = False

    @property
    def hostile(self) -> bool:
        return self.tone == "hostile"


class Entry(msgspec.Struct, frozen=True):
    """One phrase of a lexicon file, with where it was written (for error messages)."""

    role: str
    phrase: str
    language: str = ""      # "ru" | "en"; needed for `markers`
    gap: int = 3            # what "..." means in this file
    where: str = "<lexicon>"
    line: int | None = None
    field: str = ""


# inflect(word) -> every (form, grammemes) of the word's lexeme; just [(word, {})] for unknown words.
Inflect = Callable[[str], Sequence[tuple[str, frozenset[str]]]]

_APOSTROPHES: Final = ("’", "‘", "ʼ", "`")
# One pass: words (letters first, then letters, digits, masking asterisks, inner apostrophes),
# sentence ends, clause breaks, quotation marks. An apostrophe is a quotation mark only where it
# opens (after a space, before a letter: "told me 'see you in court'") or closes one; inside or
# at the end of a word ("won't", "customers'") it is not.
_TOKEN: Final = re.compile(
    r"([^\W\d_][\w*]*(?:'[\w*]+)*)"
    r"|([.!?…]+(?=[\s\"»”']|$)|\n)"
    r"|([,;:()\[\]—–]| - )"
    r"|([«»“”„\"]|'(?<![^\s(\[:]')(?=[^\W\d_])|'(?<=[^\W\d_.!?,]')(?!\w))"
)
_WORD: Final = re.compile(r"[^\W\d_](?:\w|'(?=\w))*")
# Markdown emphasis ("*missiles in the air*") is not a masked swear word: its stars become spaces.
_EMPHASIS: Final = re.compile(r"(?<![\w*])\*([^\W_][^*\n]*?(?<=\w))\*(?![\w*])")
# Swearing masked with dots ("х...ня", "б..дь", "с…ки", "отпи...ть"): the first letters of a swear word, dots,
# a short ending; or, with an ellipsis and no ending, the first letters of mat alone ("разную х...", "аху...").
# The dots become stars, so the masked-word roots read it; "ну...да", "так...", "е..." stay as written.
_MASKED_DOTS: Final = re.compile(
    r"(?<![\w.…*])(?:(?:х|ху|оху|аху|б|бл|п|пи|пе|е|еб|су|с|д|де|дер|г|го|м|му|отпи|спи|пиз)(\.{2,}|…+)"
    r"(?=[а-я]{1,5}(?![\w.…*]))|(?:х|оху|аху|пиз|бл|еб)(\.{3,}|…+)(?![\w.…*]))")
_GAP: Final = re.compile(r"\.\.\.(\d*)")
_GRAMMEME: Final = re.compile(r"[A-Za-z0-9-]+")
_CYRILLIC: Final = re.compile(r"[а-я]")
_TRANSLIT: Final = str.maketrans({
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ж": "zh", "з": "z", "и": "i",
    "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s",
    "т": "t", "у": "u", "ф": "f", "х": "h", "ц": "c", "ч": "ch", "ш": "sh", "щ": "sh", "ъ": "",
    "ы": "i", "ь": "", "э": "e", "ю": "iu", "я": "ia",
})
# Latin spellings of Russian vary ("zakroyu"/"zakroju", "schet"/"shchet", "tsena"/"cena"): both the
# lexicon's transliteration and the message's word are folded to one skeleton before lookup.
_FOLD: Final = re.compile(r"shch|sch|kh|ts|tz|[xwyj']")
_FOLDED: Final = {"shch": "sh", "sch": "sh", "kh": "h", "ts": "c", "tz": "c", "x": "h", "w": "v", "y": "i",
                  "j": "i", "'": ""}
_REPEATS: Final = re.compile(r"([^\W\d_])\1{2,}")
_REPEATED_I: Final = re.compile(r"i{2,}")

# A memo value: (atoms, atoms if the text is transliterated Russian, language marker, script: 1 Latin,
# 2 Cyrillic, 0 other, the tone model's weight). Most words are plain (the lexicon knows nothing of
# them): those are memoised apart, Cyrillic and Latin, as their weight alone, so that the hot loop
# does one dictionary look-up for them.
_Found = tuple[tuple[int, ...], tuple[int, ...], int, int, float]
_LATIN, _CYRILLIC_SCRIPT = 1, 2
# What `analyse` reads of one piece of text between spaces, memoised per piece (most pieces are one word,
# perhaps with punctuation): its length plus one, and its tokens in order, as (_WORD_TOKEN, start, end,
# atoms, atoms if transliterated Russian, language marker, script lean: 1 Cyrillic, -1 Latin, 0 other,
# model weight, the patterns it triggers or None), (_SENTENCE_END,), (_CLAUSE_BREAK,),
# (_QUOTE_MARK, mark, a letter follows) or (_DASH,) for a lone "-".
_Token = tuple[Any, ...]
_Piece = tuple[int, tuple[_Token, ...]]
_WORD_TOKEN, _SENTENCE_END, _CLAUSE_BREAK, _QUOTE_MARK, _DASH = 1, 2, 3, 4, 5
# Patterns by the atom that triggers them (and, for a word, by all its atoms together): the roles of
# one-word patterns, the longer patterns that start with it as (role, (atom, words allowed before it)
# of each next slot), and those it triggers from a later slot as (number, role, atom of the first slot,
# next slots, reach: how many words before the trigger the first slot can stand). A longer pattern is
# triggered by its rarest slot, so that "you", "в" or "or" at its start do not make every message try it.
_Slots = tuple[tuple[int, int], ...]
_Later = tuple[int, str, int, _Slots, int]
_Patterns = tuple[tuple[str, ...], tuple[tuple[str, _Slots], ...], tuple[_Later, ...]]


def _triggered(atoms: Iterable[int], by_trigger: dict[int, _Patterns]) -> _Patterns | None:
    """The patterns a word with these atoms triggers, all its atoms' together; None if none."""
    found = [by_trigger[a] for a in atoms if a in by_trigger]
    if not found:
        return None
    return (tuple(r for f in found for r in f[0]), tuple(p for f in found for p in f[1]),
            tuple(p for f in found for p in f[2]))


def fold(latin: str) -> str:
    """The skeleton of a Latin-script Russian word (also applied to transliterated lexicon forms)."""
    return _REPEATED_I.sub("i", _FOLD.sub(lambda m: _FOLDED[m.group()], latin))


def transliterate(cyrillic: str) -> str:
    return fold(cyrillic.translate(_TRANSLIT))


def normalise(text: str) -> str:
    """Lower case, "ё" as "е", typographic apostrophes as "'"; offsets stay those of `text`."""
    low = text.lower()
    if len(low) != len(text):  # a few characters lower to two ("İ"); keep one so offsets hold
        low = "".join(c.lower()[:1] for c in text)
    if "ё" in low:  # str.replace: a translate() table costs more than the whole analysis
        low = low.replace("ё", "е")
    for mark in _APOSTROPHES:
        if mark in low:
            low = low.replace(mark, "'")
    return low


def _prepared(text: str) -> str:
    low = normalise(text)
    if "*" in low:
        low = _EMPHASIS.sub(lambda m: f" {m[1]} ", low)  # same length: offsets hold
    if ".." in low or "…" in low:
        low = _MASKED_DOTS.sub(lambda m: m[0][:m.start(m.lastindex or 1) - m.start()] + "*" * len(m[m.lastindex or 1]),
                               low)
    return low


def message_words(text: str) -> list[str]:
    """The words of a message as `analyse` reads them (normalised): what the tone model is trained on."""
    return [m[1] for m in _TOKEN.finditer(_prepared(text)) if m.lastindex == 1]


def message_sentences(text: str) -> list[list[str]]:
    """The words of each sentence as `analyse` splits them (a "?" inside a quotation does not end the
    writer's sentence): the tone model scores sentences, so its thresholds are chosen on them."""
    low = _prepared(text)
    sentences: list[list[str]] = [[]]
    quoted = False
    for m in _TOKEN.finditer(low):
        group = m.lastindex
        if group == 1:
            sentences[-1].append(m[1])
        elif group == 2:
            if not quoted and sentences[-1]:
                sentences.append([])
        elif group == 4:
            mark = m[4]
            if mark == "'" and not quoted and not low[m.end():m.end() + 1].isalpha():
                continue
            quoted = mark in "«„" if quoted else mark != "»"
    return [words for words in sentences if words]


class Lexicon:
    """Compiled, immutable tables (build it with `build_lexicon`). Only the memos of tokens and pieces grow."""

    __slots__ = (
        "_by_trigger",
        "_exact",
        "_fuzzy_del",
        "_fuzzy_key",
        "_fuzzy_min",
        "_known",
        "_lock",
        "_markers",
        "_memo",
        "_model",
        "_pieces",
        "_plain_cyrillic",
        "_plain_latin",
        "_prefix_lengths",
        "_prefixes",
        "_root_atom",
        "_roots",
        "_spelled_right",
        "_stem",
        "_stems",
        "_translit",
        "atoms",
        "patterns",
        "surfaces",
    )

    _by_trigger: dict[int, _Patterns]
    _exact: dict[str, tuple[int, ...]]
    _stems: dict[str, tuple[int, ...]]
    _prefixes: dict[str, tuple[int, ...]]
    _prefix_lengths: tuple[int, ...]
    _translit: dict[str, tuple[int, ...]]
    _fuzzy_del: dict[str, tuple[int, ...]]  # lexicon words with one letter deleted
    _fuzzy_key: dict[str, tuple[int, ...]]  # lexicon words (surfaces and English stems) themselves
    _fuzzy_min: int
    _known: frozenset[str]
    _roots: re.Pattern[str] | None
    _root_atom: int
    _markers: dict[str, int]
    _stem: Callable[[str], str]
    _memo: dict[str, _Found]
    _pieces: dict[str, _Piece]
    _plain_cyrillic: dict[str, float]
    _plain_latin: dict[str, float]
    _model: ToneModel | None
    _spelled_right: Callable[[str], bool]  # a dictionary's word is not a typo of a lexicon word
    _lock: threading.Lock  # the Snowball stemmer keeps state between calls; threads take turns
    atoms: int
    patterns: int
    surfaces: int

    def __init__(self, **tables: Any) -> None:
        for name in self.__slots__:
            object.__setattr__(self, name, tables[name])

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("a Lexicon is immutable; build another one")

    def __repr__(self) -> str:
        return f"Lexicon({self.patterns} patterns, {self.atoms} atoms, {self.surfaces} surface forms)"

    def _lookup(self, word: str) -> _Found:
        """Everything one token is (the slow path, memoised): exact form, English stem, prefix,
        profanity root, transliterated Russian, one typo away from a long lexicon word."""
        found: set[int] = set()
        translit: set[int] = set()
        found.update(self._exact.get(word, ()))
        latin = word.isascii()
        stem = ""
        if latin:
            with self._lock:
                stem = self._stem(word)
            found.update(self._stems.get(stem, ()))
            translit.update(self._translit.get(fold(word), ()))
        for n in self._prefix_lengths:
            if len(word) > n:
                found.update(self._prefixes.get(word[:n], ()))
        if self._roots is not None and self._roots.match(word):
            found.add(self._root_atom)
        if not found and _REPEATS.search(word):  # "сукааа", "fuuuck": stretched for emphasis
            found.update(self._lookup(_REPEATS.sub(r"\1", word))[0])
        if not found and not latin and len(word) >= self._fuzzy_min and word not in self._known:
            # Russian misspellings are mostly a wrong vowel ("прокуротура"), and pymorphy3's dictionary
            # tells a real word from a slip. English has no such dictionary here, and one letter off
            # too often makes another real word ("rolls"/"trolls", "closer"/"loser"): its common
            # misspellings are written in the lexicon instead ("=useles").
            near = self._near(word, substitute=len(word) >= SUBSTITUTE_MIN)
            if near and not self._spelled_right(word):  # the dictionary is asked only when it matters
                found.update(near)
        translit -= found
        script = _LATIN if latin else _CYRILLIC_SCRIPT if _CYRILLIC.match(word) else 0
        weight = self._model.word_weight(word) if self._model is not None else 0.0
        if self._model is not None and weight > self._model.heavy and self._spelled_right(word):
            weight *= DICTIONARY_WEIGHT
        result: _Found = (tuple(sorted(found)), tuple(sorted(translit)), self._markers.get(word, 0), script, weight)
        if len(self._memo) + len(self._plain_cyrillic) + len(self._plain_latin) >= MEMO_LIMIT:
            self.forget()
        if found or translit or result[2] or not script:
            self._memo[word] = result
        else:
            (self._plain_latin if script == _LATIN else self._plain_cyrillic)[word] = weight
        return result

    def forget(self) -> None:
        """Empty the memos of tokens and pieces (each starts afresh when full; a benchmark times the slow path)."""
        self._memo.clear()
        self._plain_cyrillic.clear()
        self._plain_latin.clear()
        self._pieces.clear()

    def _word(self, word: str) -> _Found:
        """Everything one token is, from the memo (a plain word's weight stands for all of it) or `_lookup`."""
        found = self._memo.get(word)
        if found is not None:
            return found
        weight = self._plain_cyrillic.get(word)
        if weight is not None:
            return (), (), 0, _CYRILLIC_SCRIPT, weight
        weight = self._plain_latin.get(word)
        if weight is not None:
            return (), (), 0, _LATIN, weight
        return self._lookup(word)

    def _piece(self, piece: str) -> _Piece:
        """The tokens of a piece of text that has a space or the text's edge on either side (memoised).
        `_TOKEN` reads it as it reads it within the whole text: no token but " - " spans a space, and
        each of its look-arounds says the same of a space as of the text's edge."""
        if piece == "-":
            tokens: list[_Token] = [(_DASH,)]
        else:
            tokens = []
            for m in _TOKEN.finditer(piece):
                group = m.lastindex
                if group == 1:
                    atoms, as_translit, marker, script, weight = self._word(m[1])
                    lean = -1 if script == _LATIN else 1 if script else 0
                    tokens.append((_WORD_TOKEN, m.start(), m.end(), atoms, as_translit, marker, lean, weight,
                                   _triggered(atoms, self._by_trigger)))
                elif group == 2:
                    tokens.append((_SENTENCE_END,))
                elif group == 3:
                    tokens.append((_CLAUSE_BREAK,))
                else:
                    tokens.append((_QUOTE_MARK, m[4], piece[m.end():m.end() + 1].isalpha()))
        if len(self._pieces) >= PIECES_LIMIT:
            self._pieces.clear()
        result = self._pieces[piece] = (len(piece) + 1, tuple(tokens))
        return result

    def _near(self, word: str, substitute: bool) -> set[int]:
        """Atoms of lexicon words one typo away: a letter missing, one too many, two swapped, and with
        `substitute` one replaced (symmetric deletion: no neighbour lists to build)."""
        deleted, keys = self._fuzzy_del, self._fuzzy_key
        found = set(deleted.get(word, ()))
        for i in range(len(word)):
            shorter = word[:i] + word[i + 1:]
            found.update(keys.get(shorter, ()))
            if substitute:
                found.update(deleted.get(shorter, ()))
        for i in range(len(word) - 1):
            found.update(keys.get(word[:i] + word[i + 1] + word[i] + word[i + 2:], ()))
        return found


# -- compiling ----------------------------------------------------------------------------------------

_Alt = tuple[str, str, frozenset[str]]  # (mode: lemma | exact | prefix, word, grammemes)


def _parse(entry: Entry) -> tuple[list[tuple[int, frozenset[_Alt]]], str | None]:
    """The slots of a phrase as (words allowed before, alternatives), or an error message."""
    slots: list[tuple[int, frozenset[_Alt]]] = []
    pending: int | None = None  # the gap a "..." asked for, until the next word
    for part in entry.phrase.split():
        if (m := _GAP.fullmatch(part)) is not None:
            if not slots or pending is not None:
                return [], '"..." must stand between two words'
            pending = int(m.group(1)) if m.group(1) else entry.gap
            continue
        alts: set[_Alt] = set()
        for written in part.split("|"):
            alt = _alternative(written)
            if isinstance(alt, str):
                return [], alt
            alts.add(alt)
        slots.append((pending or 0, frozenset(alts)))
        pending = None
    if not slots:
        return [], "is empty"
    if pending is not None:
        return [], '"..." must stand between two words'
    return slots, None


def _alternative(written: str) -> _Alt | str:
    """One alternative of a slot ("=закрою", "закрыть:1per", "fuck*", "суд"), or an error message."""
    mode, word, grams = "lemma", written, frozenset[str]()
    if written.startswith("="):
        mode, word = "exact", written[1:]
    elif written.endswith("*"):
        mode, word = "prefix", written[:-1]
    elif ":" in written:
        word, _, spec = written.partition(":")
        names = spec.split(",")
        if not all(_GRAMMEME.fullmatch(g) for g in names):
            return f"{spec!r} is not a list of grammemes (write word:1per,sing)"
        grams = frozenset(names)  # grammeme names are case-sensitive: only the word is normalised
    word = normalise(word)
    if not _WORD.fullmatch(word):
        return (f"{word!r} is not a word: a slot holds letters, digits and inner apostrophes "
                f"(split hyphenated words into two slots)")
    return mode, word, grams


def _english_stems(word: str, stem: Callable[[str], str]) -> set[str]:
    """Stems of a word and of its regular inflections: Snowball does not map "sued" to "sue"."""
    base = word[:-1] if word.endswith("e") else word
    return {stem(w) for w in (word, word + "s", word + "es", word + "d", word + "ed", base + "ing", base + "ed")}


def build_lexicon(entries: Iterable[Entry], inflect: Inflect, *, fuzzy_min: int = 5,
                  model: ToneModel | None = None, spelled_right: Callable[[str], bool] | None = None) -> Lexicon:
    """Compile lexicon entries into lookup tables, with the tone model's second opinion if given.
    `spelled_right(word)` says a word is in a dictionary: it is then never read as a typo of a
    lexicon word ("депутатов" is not "депутат", "ленте" is not "лентяй"). Raises InvalidInput
    naming every bad entry.

    Words of at least `fuzzy_min` letters that are not in the tables are matched with one typo;
    substitutions only in Russian words of SUBSTITUTE_MIN letters or more."""
    stemmer = snowballstemmer.stemmer("english")
    stem: Callable[[str], str] = stemmer.stemWord
    problems: list[Problem] = []
    atom_ids: dict[frozenset[_Alt], int] = {}
    atom_roles: dict[int, set[str]] = {}
    compiled: list[tuple[str, list[tuple[int, int]]]] = []
    roots: list[str] = []
    markers: dict[str, int] = {}
    translit_stop: set[str] = set()

    lexeme_cache: dict[str, list[tuple[str, frozenset[str]]]] = {}

    def lexeme(word: str) -> list[tuple[str, frozenset[str]]]:
        if word not in lexeme_cache:
            lexeme_cache[word] = [(normalise(f), g) for f, g in inflect(word)]
        return lexeme_cache[word]

    for entry in entries:
        def bad(message: str, entry: Entry = entry) -> None:
            problems.append(Problem(entry.where, entry.line, entry.field or entry.role, message))

        if entry.role == "profanity_roots":
            try:
                re.compile(entry.phrase)
            except re.error as exc:
                bad(f"is not a regular expression: {exc}")
            else:
                roots.append(entry.phrase)
            continue
        if entry.role in ("markers", "translit_stop"):
            word = normalise(entry.phrase.strip())
            if not _WORD.fullmatch(word):
                bad(f"{entry.phrase!r} is not a single word")
            elif entry.role == "translit_stop":
                translit_stop.add(word)
            elif entry.language not in ("ru", "en"):
                bad("markers need the file's `language: ru` or `language: en`")
            else:
                markers[word] = 1 if entry.language == "ru" else -1
            continue
        if entry.role not in PHRASE_ROLES:
            bad(f"unknown role {entry.role!r}")
            continue
        slots, error = _parse(entry)
        if error is not None:
            bad(f"{entry.phrase!r}: {error}")
            continue
        for _, alts in slots:
            for _, word, grams in alts:
                if not grams:
                    continue
                if not _CYRILLIC.search(word):
                    bad(f"{entry.phrase!r}: grammemes ({word}:...) apply to Russian words only")
                elif not any(grams <= g for _, g in lexeme(word)):
                    bad(f"{entry.phrase!r}: no form of {word!r} has the grammemes {','.join(sorted(grams))}")
        ids: list[tuple[int, int]] = []
        for gap, alts in slots:
            atom = atom_ids.setdefault(alts, len(atom_ids))
            atom_roles.setdefault(atom, set()).add(entry.role)
            ids.append((atom, gap))
        compiled.append((entry.role, ids))

    exact: dict[str, set[int]] = {}
    stems: dict[str, set[int]] = {}
    prefixes: dict[str, set[int]] = {}
    translit: dict[str, set[int]] = {}
    fuzzy_del: dict[str, set[int]] = {}
    fuzzy_key: dict[str, set[int]] = {}
    known: set[str] = set()

    def fuzzy_keys(surface: str, atom: int) -> None:
        if len(surface) >= fuzzy_min:
            fuzzy_key.setdefault(surface, set()).add(atom)
        if len(surface) > fuzzy_min:
            for i in range(len(surface)):
                fuzzy_del.setdefault(surface[:i] + surface[i + 1:], set()).add(atom)

    slot_of = {atom: alts for alts, atom in atom_ids.items()}
    for atom, alts in slot_of.items():
        typo_tolerant = bool(atom_roles[atom] & _FUZZY_ROLES)
        for mode, word, grams in alts:
            if mode == "prefix":
                prefixes.setdefault(word, set()).add(atom)
                continue
            if _CYRILLIC.search(word):
                forms_of = lexeme(word)
                known.update(f for f, _ in forms_of)
                if mode == "exact":
                    forms = {word}
                else:
                    forms = {f for f, g in forms_of if grams <= g}
                    if not grams:
                        forms.add(word)
                for form in forms:
                    exact.setdefault(form, set()).add(atom)
                    latin = transliterate(form)
                    if latin and latin not in translit_stop:  # "в" is "v": only read in translit text
                        translit.setdefault(latin, set()).add(atom)
                    if typo_tolerant:
                        fuzzy_keys(form, atom)
            elif mode == "exact":
                exact.setdefault(word, set()).add(atom)
                known.add(word)
                if typo_tolerant:
                    fuzzy_keys(word, atom)
            else:
                for s in _english_stems(word, stem):
                    stems.setdefault(s, set()).add(atom)
                    if typo_tolerant:
                        fuzzy_keys(s, atom)

    root_atom = len(atom_ids)
    if roots:
        compiled.append(("profanity", [(root_atom, 0)]))
    # How many patterns use a word: function words ("you", "в") recur in many patterns and in most
    # messages, so a pattern is triggered by the slot whose words recur least.
    uses: dict[str, int] = {}
    for _, ids in compiled:
        for word in {w for atom, _ in ids if atom in slot_of for _, w, _ in slot_of[atom]}:
            uses[word] = uses.get(word, 0) + 1

    def commonness(atom: int) -> int:
        return max(uses[w] for _, w, _ in slot_of[atom])

    singles: dict[int, list[str]] = {}
    from_head: dict[int, list[tuple[str, _Slots]]] = {}
    from_later: dict[int, list[_Later]] = {}
    for number, (role, ids) in enumerate(compiled):
        if len(ids) == 1:
            if role not in singles.setdefault(ids[0][0], []):
                singles[ids[0][0]].append(role)
        else:
            trigger = min((commonness(atom), i) for i, (atom, _) in enumerate(ids))[1]
            if trigger == 0:
                from_head.setdefault(ids[0][0], []).append((role, tuple(ids[1:])))
            else:
                from_later.setdefault(ids[trigger][0], []).append(
                    (number, role, ids[0][0], tuple(ids[1:]),
                     sum(gap + 1 for _, gap in ids[1:trigger + 1])))
    if problems:
        raise InvalidInput(problems)

    def frozen(table: dict[str, set[int]]) -> dict[str, tuple[int, ...]]:
        return {key: tuple(sorted(atoms)) for key, atoms in table.items()}

    return Lexicon(
        _by_trigger={atom: (tuple(singles.get(atom, ())), tuple(from_head.get(atom, ())),
                            tuple(from_later.get(atom, ())))
                     for atom in singles.keys() | from_head.keys() | from_later.keys()},
        _exact=frozen(exact), _stems=frozen(stems), _prefixes=frozen(prefixes),
        _prefix_lengths=tuple(sorted({len(p) for p in prefixes})),
        _translit=frozen(translit), _fuzzy_del=frozen(fuzzy_del), _fuzzy_key=frozen(fuzzy_key),
        _fuzzy_min=fuzzy_min,
        _known=frozenset(known - set(exact)),
        _roots=re.compile("(?:" + "|".join(f"(?:{r})" for r in roots) + r")[\w*]*") if roots else None,
        _root_atom=root_atom, _markers=markers, _stem=stem, _model=model, _lock=threading.Lock(),
        _memo={}, _plain_cyrillic={}, _plain_latin={}, _pieces={},
        _spelled_right=spelled_right or (lambda word: False),
        atoms=root_atom + 1, patterns=len(compiled), surfaces=len(exact) + len(stems) + len(translit),
    )


# -- analysis -----------------------------------------------------------------------------------------

# A word the lexicon knows: (word number, start, end, atoms, sentence, clause, quotation or -1).
_Word = tuple[int, int, int, tuple[int, ...], int, int, int]
# A pattern found: (role, first word, last word, start, end, sentence, clause, quotation or -1).
_Hit = tuple[str, int, int, int, int, int, int, int]
# A word the tone model weighs: (sentence, quotation or -1, weight, start, end).
_Scored = tuple[int, int, float, int, int]


def analyse(text: str, lexicon: Lexicon, language: str | None = None) -> Tone:
    """The tone of `text`: one tokenising pass, then pattern matching over the words the lexicon
    knows, then the rules that keep polite writers from being called hostile (quoted speech,
    negation, "called me ...", safe phrases, threats that are history or about someone else) and
    that catch sarcasm. `language` ("ru" | "en"), when the sender knows it, replaces the guess."""
    low = _prepared(text)
    pieces = lexicon._pieces
    piece_of = lexicon._piece
    words: list[_Word] = []
    # The tone model's sums per sentence (the writer's own words; quoted ones apart until we know whose
    # they are), and the words heavy enough to be quoted as its reasons.
    sums: dict[int, float] = {}
    total = 0.0
    quoted: list[tuple[int, int, float]] = []
    heavy: list[_Scored] = []
    model = lexicon._model
    floor = model.quote_floor if model is not None else 0.0
    translit: list[tuple[int, tuple[int, ...]]] = []  # (position in words, atoms as transliterated Russian)
    quotes: list[list[int]] = []  # [first word inside, first word after, sentence at the opening]
    idx = sent = clause = 0
    quote = -1
    lean = marks = 0  # Cyrillic words less Latin ones; Russian markers less English ones
    # One pass over the pieces between spaces, each read once per lexicon (`Lexicon._piece`): the same
    # tokens as `_TOKEN` over the whole text, at `at` + their offset in the piece.
    fired: list[tuple[int, _Patterns]] = []  # (position in words, the patterns its atoms trigger)
    at = 0
    dash_end = -1  # just past the last " - ": its trailing space cannot open another
    last = len(low) - 1
    for piece in low.split(" "):
        read = pieces.get(piece)
        if read is None:
            read = piece_of(piece)
        width, tokens = read
        for token in tokens:
            kind = token[0]
            if kind == _WORD_TOKEN:
                _, start, end, atoms, as_translit, marker, script, weight, triggers = token
                lean += script
                if marker:
                    marks += marker
                if atoms or as_translit:
                    if triggers is not None:
                        fired.append((len(words), triggers))
                    if as_translit:
                        translit.append((len(words), as_translit))
                    words.append((idx, at + start, at + end, atoms, sent, clause, quote))
                if weight:
                    if quote < 0:
                        total += weight
                    else:
                        quoted.append((sent, quote, weight))
                    if weight > floor:
                        heavy.append((sent, quote, weight, at + start, at + end))
                idx += 1
            elif kind == _SENTENCE_END:
                if quote < 0:  # a "?" inside quoted speech does not end the writer's sentence
                    if total:
                        sums[sent] = total
                        total = 0.0
                    sent += 1
                clause += 1
            elif kind == _CLAUSE_BREAK:
                clause += 1
            elif kind == _QUOTE_MARK:
                mark = token[1]
                if mark == "'" and quote < 0 and not token[2]:
                    continue  # a closing apostrophe with nothing open: a plural possessive ("customers'")
                if quote >= 0 and mark not in "«„":
                    quotes[quote][1] = idx
                    quote = -1
                    clause += 1
                elif quote < 0 and mark != "»":
                    quote = len(quotes)
                    quotes.append([idx, idx, sent])
                    clause += 1
            elif 0 < at < last and at > dash_end:  # " - ", unless its first space closed the " - " before
                dash_end = at + 2
                clause += 1
        at += width
    if quote >= 0:
        quotes[quote][1] = idx
    if total:
        sums[sent] = total

    # Latin letters with more Russian function words than English ones: transliterated Russian.
    if language not in ("ru", "en"):
        language = "ru" if lean > 0 or marks > 0 else "en"
    if language == "ru" and lean <= 0 and translit:
        for k, extra in translit:
            w = words[k]
            words[k] = (*w[:3], w[3] + extra, *w[4:])
        fired = [(k, triggers) for k, w in enumerate(words)
                 if (triggers := _triggered(w[3], lexicon._by_trigger)) is not None]

    hits = _match(words, fired)
    if not hits and not heavy:
        return Tone("neutral", (), (), (), language)

    reported = _reported(quotes, hits.get("reporting", ()), hits.get("first_person", ()))
    hostile: list[_Hit] = []
    for role in ("threat", "insult", "profanity", "pressure"):
        hostile += [h for h in hits.get(role, ()) if h[7] not in reported]
    learned: list[_Hit] = []
    if model is not None and heavy:
        for sentence, q, weight in quoted:
            if q not in reported:
                sums[sentence] = sums.get(sentence, 0.0) + weight
        # The model speaks only where the lexicons saw nothing: what they found, excused (negated,
        # quoted, history, "called me ...") or called safe stays their call.
        seen = {h[5] for role in ("threat", "insult", "profanity", "pressure", "safe", "shields")
                for h in hits.get(role, ())}
        learned = _learned(heavy, sums, model.thresholds[language] - model.bias, reported, seen)
    if hostile:
        hostile = _unsafe(hostile, hits.get("safe", ()), hits.get("shields", ()))
        hostile = _affirmed(hostile, hits.get("negation", ()), hits.get("negation_exceptions", ()))
        if "third_party" in hits or "past_time" in hits:
            hostile = _current(hostile, hits)
    irony = [h for h in hits.get("irony", ()) if h[7] not in reported]
    failure = [h for h in hits.get("failure", ()) if h[7] not in reported]
    if irony and failure:  # praise next to a failure: sarcasm, which mocks the staff
        hostile += [("insult", *h[1:]) for h in (*irony, *failure)]
    polite = tuple(text[h[3]:h[4]] for h in _spans(h for h in hits.get("polite", ()) if h[7] not in reported))
    if hostile or learned:
        kinds = tuple(sorted({h[0] for h in hostile} | {h[0] for h in learned}))
        undirected = kinds == ("profanity",) and not any(
            a[5] == h[5] for h in hostile for a in hits.get("addressee", ()))
        return Tone("hostile", kinds, tuple(text[h[3]:h[4]] for h in _spans([*hostile, *learned])), polite,
                    language, undirected)
    return Tone("polite" if polite else "neutral", (), (), polite, language)


def _learned(heavy: list[_Scored], sums: dict[int, float], cut: float, reported: set[int],
             seen: set[int]) -> list[_Hit]:
    """The tone model's findings, as insults: sentences (other than `seen` ones) whose summed word
    weights reach `cut`, quoting the words that weighed most."""
    found: list[_Hit] = []
    for sentence, total in sums.items():
        if total < cut or sentence in seen:
            continue
        reasons = sorted((w for w in heavy if w[0] == sentence and w[1] not in reported),
                         key=lambda w: -w[2])[:QUOTE_MAX]
        found += [("insult", 0, 0, w[3], w[4], sentence, 0, w[1]) for w in reasons
                  if w[2] >= reasons[0][2] * QUOTE_SHARE]
    return found


def _match(words: list[_Word], fired: list[tuple[int, _Patterns]]) -> dict[str, list[_Hit]]:
    """Every pattern occurrence: each next slot is the nearest word that fills it within the slot's
    gap, in the same sentence. A longer pattern is only tried where its trigger (its rarest slot)
    occurs: from the trigger itself when it is the first slot, else from the words that fill the
    first slot within the pattern's reach before it (each tried once). `fired`: the words (positions
    in `words`) that trigger patterns, with those patterns."""
    hits: defaultdict[str, list[_Hit]] = defaultdict(list)
    tries: list[tuple[int, str, _Slots]] = []  # (first word, role, next slots)
    later: dict[tuple[int, int], tuple[int, str, _Slots]] = {}  # (pattern number, first word) -> the same
    for k, (singles, from_head, from_later) in fired:
        w = words[k]
        for role in singles:
            hits[role].append((role, w[0], w[0], w[1], w[2], w[4], w[5], w[6]))
        for role, slots in from_head:
            tries.append((k, role, slots))
        for number, role, head, slots, reach in from_later:
            nearest = w[0] - reach
            j = k - 1
            while j >= 0 and words[j][0] >= nearest:
                if head in words[j][3]:
                    later[number, j] = (j, role, slots)
                j -= 1
    if later:
        tries += later.values()
    count = len(words)
    for k, role, slots in tries:
        # Each next slot: the nearest next word that fills it, at most its gap of words after the slot
        # before, in the same sentence.
        first = last = words[k]
        j = k
        for slot, gap in slots:
            limit = last[0] + gap + 1
            j += 1
            while j < count:
                w = words[j]
                if w[0] > limit:
                    j = count
                elif slot in w[3]:
                    break
                else:
                    j += 1
            if j == count or w[4] != first[4]:
                break
            last = w
        else:
            hits[role].append((role, first[0], last[0], first[1], last[2], first[4], first[5], first[6]))
    return hits


def _reported(quotes: list[list[int]], reporting: Sequence[_Hit], first_person: Sequence[_Hit]) -> set[int]:
    """Quotations that are someone else's speech: a reporting verb stands just before or just after
    them, and the writer is not its subject ("I told him: ..." stays the writer's own words)."""
    reported: set[int] = set()
    verbs = [r for r in reporting if r[7] < 0]
    own = [f for f in first_person if f[7] < 0]
    for q, (inside, after, opened_in) in enumerate(quotes):
        for r in verbs:
            before = r[5] == opened_in and inside - REPORT_BEFORE <= r[2] < inside
            behind = after <= r[1] <= after + REPORT_AFTER
            if not (before or behind):
                continue
            if any((f[6] == r[6] and r[1] - OWN_WORDS <= f[1] < r[1]) or (behind and f[1] == r[2] + 1)
                   for f in own):
                continue
            reported.add(q)
            break
    return reported


def _unsafe(hostile: list[_Hit], safe: Sequence[_Hit], shields: Sequence[_Hit]) -> list[_Hit]:
    """Drop hostile words inside or next to a safe phrase ("решение суда", "stupid question"), and
    names the writer was called or calls themself ("назвал меня идиоткой", "I'm such an idiot").
    A swear word stays profanity whoever it names ("что я долбоеб", "I'm a bitch"): written to a
    business it is rude, unless a rule lets profanity aimed at nobody pass."""
    kept = []
    for h in hostile:
        if any(s[5] == h[5] and s[1] <= h[2] + SAFE_REACH and h[1] <= s[2] + SAFE_REACH for s in safe):
            continue
        if h[0] == "insult" and any(
                s[5] == h[5] and s[2] < h[1] <= s[2] + SHIELD_REACH for s in shields):
            continue
        kept.append(h)
    return kept


def _affirmed(hostile: list[_Hit], negations: Sequence[_Hit], exceptions: Sequence[_Hit]) -> list[_Hit]:
    """Drop threats and ultimatums the writer negates ("я не буду подавать в суд", "I won't sue",
    "в суд не пойду"), with whatever overlaps them, unless the negation is itself an exception
    ("не постесняюсь", "don't make me", "if you don't ...")."""
    if not negations:
        return hostile
    negated: list[_Hit] = []
    for h in hostile:
        if h[0] not in ("threat", "pressure"):
            continue
        for neg in negations:
            if neg[6] != h[6] or neg[7] != h[7]:
                continue
            if neg[2] < h[1] and h[1] - neg[2] <= NEGATION_REACH:
                lo, hi = neg[1] - EXCEPTION_BEFORE, h[1]
            elif h[2] < neg[1] <= h[2] + NEGATION_AFTER:
                lo, hi = neg[1] - EXCEPTION_BEFORE, neg[2] + 1
            else:
                continue
            if not any(x[6] == neg[6] and lo <= x[1] <= hi for x in exceptions):
                negated.append(h)
                break
    if not negated:
        return hostile
    return [h for h in hostile
            if h[0] not in ("threat", "pressure")
            or not any(x[6] == h[6] and x[1] <= h[2] and h[1] <= x[2] for x in negated)]


def _current(hostile: list[_Hit], hits: dict[str, list[_Hit]]) -> list[_Hit]:
    """Drop threats that are history or about someone else: a `third_party` object close by in the
    same clause ("подал иск против работодателя", "the regulator about another bank"), or a
    `past_time` in the same sentence with a `past_tense` verb close by in the threat's clause
    ("в прошлом году я подавал жалобу в ЦБ", "years ago I sued"). An `addressee` close by in the
    clause keeps the threat ("я уже написал жалобу в ЦБ на вас", "I've reported you to the CFPB").

    A third-party phrase wholly inside the threat is part of it ("перейду на обслуживание в другой
    банк": the destination of leaving), so it does not count; one that starts in it does ("sued my
    former employer")."""
    others = hits.get("third_party", ())
    times = hits.get("past_time", ())
    tenses = hits.get("past_tense", ()) if times else ()
    addressed = hits.get("addressee", ())
    kept = []
    for h in hostile:
        if h[0] != "threat" or any(
                a[6] == h[6] and h[1] - ADDRESSEE_REACH <= a[2] and a[1] <= h[2] + ADDRESSEE_REACH
                for a in addressed):
            kept.append(h)
            continue
        if any(t[6] == h[6] and h[1] - THIRD_PARTY_REACH <= t[2] and t[1] <= h[2] + THIRD_PARTY_REACH
               and not h[1] <= t[1] <= t[2] <= h[2] for t in others):
            continue
        if any(v[6] == h[6] and h[1] - PAST_REACH <= v[2] and v[1] <= h[2] + PAST_REACH for v in tenses) and any(
                t[5] == h[5] for t in times):
            continue
        kept.append(h)
    return kept


def _spans(hits: Iterable[_Hit]) -> list[_Hit]:
    """Hits in order of appearance, overlapping ones merged into one span."""
    merged: list[_Hit] = []
    for h in sorted(hits, key=lambda h: (h[3], -h[4])):
        if merged and h[3] < merged[-1][4]:
            last = merged[-1]
            if h[4] > last[4]:
                merged[-1] = (*last[:4], h[4], *last[5:])
        else:
            merged.append(h)
    return merged
