"""A message in plain English that remembers its template and parameters, so a door can say it in the reader's
language (the gettext catalogues of doors/web/locale) while everything else keeps using it as text.

The core stays free of languages: it writes `Said(N_("must be one of %(choices)s, got %(value)s"), ...)`;
`N_` only marks the template for `pybabel extract` (see babel.cfg)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def N_(template: str) -> str:  # gettext's conventional name for "translate later"
    return template


class Said(str):
    """The English text, with `template` and `params` kept for a translation at the door."""

    template: str
    params: dict[str, Any]

    def __new__(cls, template: str, **params: Any) -> Said:
        self = super().__new__(cls, template % params if params else template)
        self.template, self.params = template, params
        return self


def in_language(message: str, gettext: Callable[[str], str]) -> str:
    """A message in the reader's language: a Said through the catalogue, any other text as it is."""
    if not isinstance(message, Said):
        return message
    translated = gettext(message.template)
    try:
        return translated % message.params if message.params else translated
    except (KeyError, ValueError, TypeError):  # a catalogue entry that lost a parameter: the English stands
        return str.__str__(message)
