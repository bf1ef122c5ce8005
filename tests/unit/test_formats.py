"""Times and money as people of each language write them."""

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime

from firmly.domain.formats import format_date, format_money, format_time, format_when, zone_label
from firmly.domain.money import Money
from firmly.doors.web import i18n

NINE_IN_MOSCOW = datetime(2026, 9, 10, 6, 0, tzinfo=UTC)


def test_a_time_is_shown_in_the_readers_zone_without_seconds() -> None:
    assert format_time(NINE_IN_MOSCOW, "Europe/Moscow", "ru") == "10.09.2026, 09:00"
    assert format_time(NINE_IN_MOSCOW, "Europe/London", "en").endswith("7:00\u202fAM")


def test_the_zone_is_named_when_asked() -> None:
    assert format_time(NINE_IN_MOSCOW, "Europe/Moscow", "ru", with_zone=True).endswith("09:00 MSK")
    assert zone_label(NINE_IN_MOSCOW, "Asia/Yekaterinburg") == "+05:00"


def test_microseconds_since_the_epoch_are_moments_too() -> None:
    us = int(NINE_IN_MOSCOW.timestamp()) * 1_000_000
    assert format_time(us, "Europe/Moscow", "ru") == "10.09.2026, 09:00"
    assert format_date(us, "en", "Europe/Moscow") == "Sep 10, 2026"


def test_money_carries_its_currency_as_the_locale_writes_it() -> None:
    assert format_money(Money(Decimal("3000.00"), "RUB"), "ru") == "3\u00a0000,00\u00a0₽"
    assert format_money((Decimal("25.00"), "GBP"), "en") == "£25.00"


def test_a_naive_time_is_refused() -> None:
    try:
        format_time(datetime(2026, 1, 1), "UTC", "en")
    except ValueError as exc:
        assert "zone" in str(exc)
    else:
        raise AssertionError("a naive time was formatted")


def test_a_page_writes_the_day_out_and_names_the_zone() -> None:
    moment = datetime(2026, 9, 10, 6, 0, tzinfo=UTC)
    assert format_when(moment, "Europe/Moscow", "ru") == "10 сент. 2026\u202fг., 09:00 MSK"
    assert format_when(moment, "Europe/London", "en") == "Sep 10, 2026, 7:00\u202fAM BST"
    assert format_when(moment, "Asia/Kolkata", "en", with_zone=False) == "Sep 10, 2026, 11:30\u202fAM"


def test_the_web_shows_moments_without_seconds_in_the_workspace_zone() -> None:
    i18n.use("ru")
    assert i18n.when("2026-09-10T06:00:00+00:00", "Europe/Moscow") == "10 сент. 2026\u202fг., 09:00 MSK"
    assert i18n.when(1_789_020_000_000_000, "Europe/Moscow", "short") == "10.09.2026, 09:00"
    i18n.use("en")


def test_the_cached_wall_clock_text_is_what_babel_writes_for_the_moment_itself() -> None:
    """format_time caches by the wall-clock fields alone: right only while no pattern it uses names a zone."""
    for lang in ("ru", "en"):
        for form in ("short", "medium"):
            locale = Locale.parse(lang)
            patterns = (locale.date_formats[form].pattern, locale.time_formats[form].pattern)
            assert not any(letter in p.split("'")[0] for p in patterns for letter in "zZvVOXx"), patterns
    start = int(datetime(2026, 3, 28, tzinfo=UTC).timestamp()) * 1_000_000
    for step in range(0, 400):  # across Europe's spring change of clocks, every 37 minutes and 13 seconds
        us = start + step * 2_233_000_000
        for zone in ("Europe/Moscow", "Europe/London", "America/New_York", "Asia/Kolkata"):
            local = datetime.fromtimestamp(us / 1_000_000, UTC).astimezone(ZoneInfo(zone))
            for lang in ("ru", "en"):
                for seconds in (False, True):
                    expected = format_datetime(local, "medium" if seconds else "short", tzinfo=local.tzinfo,
                                               locale=lang)
                    assert format_time(us, zone, lang, seconds=seconds) == expected
