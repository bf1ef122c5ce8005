"""The gettext catalogues every door translates with (the web UI's pages, the CLI's and the web's rulebook
problems): the .po files under doors/web/locale, compiled in memory on first use (the .po is the source)."""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from firmly.domain.errors import HINTS, Problem

LOCALES = ("ru", "en")
CATALOGUES = Path(__file__).parent / "web" / "locale"


@cache
def translations(lang: str) -> Translations:
    """The catalogue of a language, compiled from its .po file."""
    path = CATALOGUES / lang / "LC_MESSAGES" / "messages.po"
    if not path.is_file():
        return Translations()
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


def problem_message(problem: Problem, lang: str) -> str:
    """A problem's message in `lang`: its template translated, then its parameters put in. English where the
    catalogue has no translation, and for problems that carry no template (a YAML parser's own words)."""
    if not problem.template:
        return problem.message
    catalogue = translations(lang)
    template, hint = problem.template, ""
    for ending in HINTS:  # a hint is translated once, whatever message it ends
        if template.endswith(ending):
            template, hint = template[: -len(ending)], catalogue.gettext(ending)
            break
    translated = catalogue.gettext(template) + hint
    try:
        return translated.format(**dict(problem.params)) if problem.params else translated
    except (KeyError, IndexError, ValueError):  # a translation that names a parameter wrongly: say it in English
        return problem.message


def problem_text(problem: Problem, lang: str) -> str:
    """`FILE:LINE: field: message`, the message in `lang`."""
    return problem.said(problem_message(problem, lang))
