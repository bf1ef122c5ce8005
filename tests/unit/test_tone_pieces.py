"""`analyse` reads a message piece by piece (the text between spaces, each piece's tokens memoised on the
lexicon) instead of running the tokenising expression over the whole text: the two must give the same
tokens at the same offsets, whatever the spacing, dashes, quotation marks and apostrophes."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from firmly.adapters.lexicons import load_lexicon
from firmly.domain import tone
from firmly.domain.tone import Lexicon, analyse


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return load_lexicon()


def whole(low: str) -> list[tuple[int, int, int, str]]:
    """(kind, start, end, text) of every token `_TOKEN` finds in the whole text, as `analyse` did before."""
    out = []
    for m in tone._TOKEN.finditer(low):
        group = m.lastindex or 0
        kind = tone._DASH if group == 3 and m[3] == " - " else group
        text = m[group]
        if group == 4:  # whether a letter follows, which decides a lone closing apostrophe
            text += "+" if low[m.end():m.end() + 1].isalpha() else "-"
        out.append((kind, m.start(), m.end(), text))
    return out


def by_pieces(low: str, lexicon: Lexicon) -> list[tuple[int, int, int, str]]:
    """The same, walking the pieces the way `analyse` does (its loop, with the bookkeeping of " - ")."""
    out: list[tuple[int, int, int, str]] = []
    at, dash_end, last = 0, -1, len(low) - 1
    for piece in low.split(" "):
        for token in lexicon._piece(piece)[1]:
            kind = token[0]
            if kind == tone._WORD_TOKEN:
                out.append((kind, at + token[1], at + token[2], low[at + token[1]:at + token[2]]))
            elif kind == tone._QUOTE_MARK:
                out.append((kind, -1, -1, token[1] + ("+" if token[2] else "-")))
            elif kind == tone._DASH:
                if 0 < at < last and at > dash_end:
                    dash_end = at + 2
                    out.append((kind, at - 1, at + 2, " - "))
            else:
                out.append((kind, -1, -1, ""))
        at += len(piece) + 1
    return out


def same(low: str, lexicon: Lexicon) -> None:
    expected = [(k, s, e, t) if k in (tone._WORD_TOKEN, tone._DASH) else (k, -1, -1, t if k == 4 else "")
                for k, s, e, t in whole(low)]
    assert by_pieces(low, lexicon) == expected


@pytest.mark.parametrize("low", [
    "", " ", "-", " -", "- ", " - ", "a - b", "a - - b", "a - - - b", "a -  - b", "a-b - c", "a -- b", "a — b",
    "'see you in court' he said", "customers' money", "won't", "he said: 'no'", "(’quoted’)", "x' y",
    "end.\nnext", "what?! really…", "3.5 percent", "а... ну да", "х*й", "«суд» — сказал он", "a\t- b", "a -\nb",
    "  double  spaces  ", "‘a", "'a'b' c", "a.'b", "a. 'b'",
])
def test_the_pieces_read_as_the_whole_text(low: str, lexicon: Lexicon) -> None:
    same(low, lexicon)


@given(st.text(alphabet="ab я1_*' -.!?…,;:()—–«»“”„\"\n\t", max_size=40))
@settings(max_examples=3000, deadline=None)
@example("a - - b")
def test_any_text_reads_the_same_by_pieces(low: str) -> None:
    same(low, load_lexicon())


def test_the_pieces_memo_is_emptied_with_the_words(lexicon: Lexicon) -> None:
    analyse("Подам на вас в суд, you idiots - really.", lexicon)
    assert lexicon._pieces
    lexicon.forget()
    assert not lexicon._pieces
    assert analyse("Подам на вас в суд, you idiots - really.", lexicon).hostile
