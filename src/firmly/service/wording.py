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
    _made.clear()


def translator(lang: str) -> Translator:
    return _loader(lang) if _loader is not None else Untranslated()


_made: dict[tuple[str, tuple[str, ...]], Words] = {}


def words(lang: str, books: Iterable[Rulebook] = ()) -> Words:
    """A reader's words; the first rulebook that names a key names it. Kept per language and rulebooks:
    every decision written asks for them."""
    books = list(books)
    key = (lang, tuple(book.hash for book in books))
    found = _made.get(key)
    if found is not None:
        return found
    labels: dict[str, str] = {}
    for book in reversed(books):
        labels.update({code: price.title for code, price in book.prices.items()})  # a service by its title
        labels.update(for_language(book.labels, lang))
    if len(_made) >= 256:
        _made.clear()
    made = _made[key] = Words(lang, translator(lang), labels)
    return made
