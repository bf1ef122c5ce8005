"""The start page's rulebooks: every business, preset and language gives a rulebook that `rulebook check`
accepts, with the answers in it, warnings before money, and no fee for partners or suppliers."""

from __future__ import annotations

from decimal import Decimal

import pytest

from firmly.domain.errors import InvalidInput
from firmly.domain.rulebook import parse_rulebook
from firmly.service import starter

MONEY = ("fee", "surcharge")


@pytest.mark.parametrize("business", sorted(starter.BUSINESSES))
@pytest.mark.parametrize("preset", starter.PRESETS)
@pytest.mark.parametrize("lang", ["ru", "en"])
def test_every_choice_makes_a_valid_rulebook(business: str, preset: str, lang: str) -> None:
    answers = starter.Answers(business, "Улыбка & Co", preset, notice_hours=36, fee="1500.5", currency="RUB")
    book = parse_rulebook(starter.draft(answers, lang, "Asia/Almaty"), "start.yaml")
    kind = starter.BUSINESSES[business].audience
    assert (book.id, book.locale, book.currency, book.timezone, book.applies_to) == (
        business, lang, "RUB", "Asia/Almaty", (kind,))
    assert "Улыбка & Co" in book.title
    for ladder in book.ladders.values():
        actions = [s.action for s in ladder.steps]
        assert actions[0] in ("feedback", "warning")  # warnings always come before money (RULEBOOK.md)
        fees = [s.amount for s in ladder.steps if s.action == "fee"]
        assert fees == ([Decimal("1500.50")] if kind == "client" else [])
        assert all(s.review for s in ladder.steps if s.action in ("suspend", "terminate"))
    for rule in book.rules.values():
        assert rule.title and rule.why
        if rule.kind == "notice":
            assert rule.min_notice is not None and rule.min_notice.total_seconds() == 36 * 3600
            assert "36" in rule.title


def test_stricter_presets_sanction_more_and_remember_longer() -> None:
    def ladder(preset: str) -> tuple[int, float]:
        book = parse_rulebook(starter.draft(starter.Answers("clinic", "Smile", preset), "en", "UTC"), "s.yaml")
        only = next(iter(book.ladders.values()))
        return len(only.steps), only.window.total_seconds()

    flexible, moderate, strict = (ladder(p) for p in starter.PRESETS)
    assert flexible < moderate < strict


def test_wrong_answers_are_named_by_their_field() -> None:
    wrong = starter.Answers("zoo", " ", "lenient", notice_hours=0, fee="-3", currency="XXX")
    with pytest.raises(InvalidInput) as refused:
        starter.draft(wrong, "en", "UTC")
    assert {p.field for p in refused.value.problems} == {"business", "name", "preset", "notice_hours", "fee",
                                                         "currency"}
    assert starter.check(starter.Answers("bank", "Bank", fee="12.345")) != []  # cents at most
