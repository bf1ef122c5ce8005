"""Times and money on the command line as the workspace's people read them.

A table's times are in the workspace's time zone and language, without seconds; the zone is named once in
the column's header when every row shares it ("at (MSK)"), else in each cell (a table across a change of
summer time). Machine output (--json) keeps ISO times and canonical amounts: these are for people only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from firmly.domain.clock import parse_instant
from firmly.domain.formats import format_money, format_number, format_time, zone_label
from firmly.doors.catalogues import translations


@dataclass(frozen=True, slots=True)
class Reader:
    zone: str  # "Europe/Moscow"
    lang: str  # "ru" | "en"

    def time(self, moment: int | str, *, with_zone: bool = True) -> str:
        """One moment (UTC µs or RFC 3339): "10.09.2026, 09:00 MSK"."""
        return _time(moment, self.zone, self.lang, with_zone)

    def column(self, title: str, moments: Sequence[int | str | None], blank: str = "") -> tuple[str, list[str]]:
        """A column of times: its header, with the zone when all rows share it, and its cells."""
        at = [parse_instant(m) if isinstance(m, str) else m for m in moments]
        labels = {zone_label(m, self.zone) for m in at if m is not None}
        shared = len(labels) == 1
        header = f"{title} ({labels.pop()})" if shared else title
        return header, [blank if m is None else self.time(m, with_zone=not shared) for m in at]

    def say(self, message: str, **values: object) -> str:
        """A line or a header for people, in the reader's language: the English template translated through
        the gettext catalogues (`pybabel extract -k say`), then its values put in."""
        text = translations(self.lang).gettext(message)
        return text % values if values else text

    def number(self, value: Decimal | str | float, digits: int = 2) -> str:
        """A figure as the language writes it: "3,34" / "3.34", "106 000" / "106,000"."""
        return format_number(Decimal(str(value)), self.lang, digits)

    def money(self, amount: Decimal | str, currency: str) -> str:
        """An amount with its currency as the language writes it: "3 000,00 ₽", "€90.00"."""
        return format_money((Decimal(amount), currency), self.lang)


@lru_cache(maxsize=8192)
def _time(moment: int | str, zone: str, lang: str, with_zone: bool) -> str:
    """Long listings repeat their moments (a tick decides many things at once): each is written once."""
    at = parse_instant(moment) if isinstance(moment, str) else moment
    return format_time(at, zone, lang, with_zone=with_zone)
