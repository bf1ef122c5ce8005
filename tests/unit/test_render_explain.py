"""What people read: the rulebook as a contract appendix (RULEBOOK.md "Rendering") and one
explanation per decision in the reader's locale ("Explanations", "Reminders and thanks")."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from tests.unit.conftest import CLINIC, book, fold, msk, raw

from firmly.domain.engine import Decision
from firmly.domain.explain import explain
from firmly.domain.formats import format_money
from firmly.domain.render import render_html, render_markdown
from firmly.domain.rulebook import Rulebook


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_the_appendix_has_every_rule_with_its_why_and_the_whole_ladder(clinic: Rulebook, lang: str) -> None:
    text = render_markdown(clinic, lang)
    for rule in clinic.rules.values():
        assert rule.title in text
        assert rule.why in text
    assert text.count(format_money((Decimal("1000.00"), "RUB"), lang)) == 2, "each rule shows its ladder, fee included"
    assert format_money((Decimal("500.00"), "RUB"), lang) in text, "the tier's surcharge is part of the contract"
    ladder_lines = [line for line in text.splitlines() if line[:2] in {f"{n}." for n in range(1, 7)}]
    assert len(ladder_lines) == 2 * len(clinic.ladders["gentle"].steps)


def test_the_appendix_in_english_names_reviews_repeats_and_reminders(clinic: Rulebook) -> None:
    text = render_markdown(clinic, "en")
    assert text.count("only after a person decides") == 4, "suspend and terminate, in each of two rules"
    assert text.count("(and every one after)") == 2, "the last step repeats"
    assert "we remind you 48 hours and 3 hours before" in text
    assert "180 days" in text


def test_the_appendix_defaults_to_the_rulebooks_locale(clinic: Rulebook) -> None:
    assert render_markdown(clinic) == render_markdown(clinic, "ru")
    assert render_markdown(clinic, "de") == render_markdown(clinic, "ru")


def test_the_html_appendix_escapes_what_the_rulebook_says() -> None:
    b = book(CLINIC.replace("why: Врач держит для вас время.", 'why: "Doctors <b>wait</b> & lose time"'))
    html = render_html(b, "en")
    assert html.startswith("<!doctype html>")
    assert "Doctors &lt;b&gt;wait&lt;/b&gt; &amp; lose time" in html
    assert "<b>wait</b>" not in html
    assert html.count("<ol>") == html.count("</ol>") == 2


def fee(clinic: Rulebook) -> Decision:
    history = [raw(f"ns-{n}", "appointment.no_show", "ivan", msk(f"2026-03-0{n}T10:00"), appointment=f"a{n}")
               for n in (1, 2, 3, 4, 5)]
    f = fold(clinic, history, until=msk("2026-03-06T00:00"))
    (d,) = f.decisions("ivan", action="fee")
    return d


def test_an_explanation_names_the_rule_the_amount_and_the_events(clinic: Rulebook) -> None:
    d = fee(clinic)
    rule = clinic.rules["no_show"]
    text = explain(d, title=rule.title, why=rule.why, next_step="require_prepayment", locale="ru",
                   timezone="Europe/Moscow")
    assert rule.title in text
    assert "1\xa0000,00\xa0₽" in text
    assert all(e in text for e in ("ns-1", "ns-2", "ns-3"))
    english = explain(d, title="Come or call", why="", next_step=None, locale="en", timezone="UTC")
    assert english.startswith('The rule "Come or call"')
    assert "RUB1,000.00" in english


def test_an_explanation_says_when_a_person_must_decide(clinic: Rulebook) -> None:
    history = [raw(f"ns-{n}", "appointment.no_show", "ivan", msk(f"2026-03-0{n}T10:00"), appointment=f"a{n}")
               for n in range(1, 6)]
    (suspend,) = fold(clinic, history, until=msk("2026-03-06T00:00")).decisions("ivan", action="suspend")
    text = explain(suspend, title="Come or call", why="", next_step="terminate", locale="en", timezone="UTC",
                   duration=timedelta(days=30))
    assert "for 30 days" in text
    assert text.endswith("Waiting for a person to decide.")


def test_a_reminder_gives_its_due_time_in_the_readers_zone(clinic: Rulebook) -> None:
    booked = raw("a1-book", "appointment.booked", "anna", msk("2026-03-01T10:00"), appointment="a1",
                 starts_at=msk("2026-03-10T10:00"))
    reminder = fold(clinic, [booked], until=msk("2026-03-02T00:00")).decisions("anna", action="reminder")[0]
    assert "10.03.2026, 10:00" in explain(reminder, title="t", why="", next_step=None, locale="ru",
                                         timezone="Europe/Moscow")
    assert "3/10/26, 7:00\u202fAM" in explain(reminder, title="t", why="", next_step=None, locale="en",
                                         timezone="UTC")


def test_an_unknown_locale_falls_back_to_russian(clinic: Rulebook) -> None:
    d = fee(clinic)
    assert explain(d, title="t", why="", next_step=None, locale="xx", timezone="UTC") == \
        explain(d, title="t", why="", next_step=None, locale="ru", timezone="UTC")
