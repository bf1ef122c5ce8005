"""The gettext catalogues of the web UI and the vocabulary (src/firmly/doors/web/locale), read once per
language. The .po file is the source: it is compiled in memory, so there is no build step to forget."""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

CATALOGUES = Path(__file__).resolve().parent.parent / "doors" / "web" / "locale"


@cache
def translations(lang: str) -> Translations:
    """The catalogue of a language; an unknown one gives the msgids themselves (English)."""
    path = CATALOGUES / lang / "LC_MESSAGES" / "messages.po"
    if not path.is_file():
        return Translations()
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)
