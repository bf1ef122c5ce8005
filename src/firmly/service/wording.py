"""The words a reader reads: the vocabulary of a language (its gettext catalogue, installed by bootstrap)
under the labels of the rulebooks that apply."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from firmly.domain.labels import for_language
from firmly.domain.rulebook import Rulebook
from firmly.domain.vocabulary import Translator, Untranslated, Words

_loader: Callable[[str], Translator] | None = None


def install(loader: Callable[[str], Translator] | None) -> None:
    global _loader  # noqa: PLW0603 - set once at start, like service.tone's analyser
    _loader = loader


def translator(lang: str) -> Translator:
    return _loader(lang) if _loader is not None else Untranslated()


def words(lang: str, books: Iterable[Rulebook] = ()) -> Words:
    """A reader's words; the first rulebook that names a key names it."""
    labels: dict[str, str] = {}
    for book in reversed(list(books)):
        labels.update(for_language(book.labels, lang))
    return Words(lang, translator(lang), labels)
