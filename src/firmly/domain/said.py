"""A message in plain English that remembers its template and parameters, so a door can say it in the reader's
language (the gettext catalogues of doors/web/locale) while everything else keeps using it as text.

The core stays free of languages: it writes `Said(N_("must be one of {choices}, got {value}"), ...)`;
`N_` only marks the template for `pybabel extract` (see babel.cfg). Templates take their parameters by name in
braces, as a rulebook's problems do (domain/errors.Problem)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from firmly.domain.errors import N_, ValueProblem

__all__ = ["N_", "Said", "in_language", "said_of"]


class Said(str):
    """The English text, with `template` and `params` kept for a translation at the door."""

    template: str
    params: dict[str, Any]

    def __new__(cls, template: str, **params: Any) -> Said:
        self = super().__new__(cls, template.format(**params) if params else template)
        self.template, self.params = template, params
        return self


def said_of(exc: ValueError) -> str:
    """A parser's message as it was raised: a Said, or a ValueProblem's template, keeps its parameters."""
    if isinstance(exc, ValueProblem):
        return Said(exc.template, **exc.params)
    message = exc.args[0] if exc.args else ""
    return message if isinstance(message, str) else str(exc)


def in_language(message: str, gettext: Callable[[str], str]) -> str:
    """A message in the reader's language: a Said through the catalogue, any other text as it is."""
    if not isinstance(message, Said):
        return message
    translated = gettext(message.template)
    try:
        return translated.format(**message.params) if message.params else translated
    except (KeyError, IndexError, ValueError):  # a catalogue entry that lost a parameter: the English stands
        return str.__str__(message)
