"""Personal exceptions (RULEBOOK.md "Tiers and exceptions", docs/discretion.md): a person exempts one
counterparty from one rule until a time; breaches meanwhile are counted, exempt, with no strike and no step."""

from __future__ import annotations

from typing import Any

import pytest
from tests.unit.conftest import Fold, events, fold, msk, raw
from tests.unit.test_ladder import day, ladder_book, no_show

from firmly.domain.events import EventError, validate
from firmly.domain.explain import explain
from firmly.domain.rulebook import Rulebook

STEPS = "      - feedback\n      - warning\n      - fee: \"1000.00\"\n"


def excuse(at: str, until: str, *, rule: str = "no_show", cp: str = "ivan", id: str = "ex-1",
           **more: Any) -> dict[str, Any]:
    return raw(id, "exception.set", cp, msk(at), rule=rule, until=msk(until), reason="force majeure: a flood",
               by="manager", **more)


@pytest.fixture(scope="module")
def b() -> Rulebook:
    return ladder_book(STEPS)


def test_a_breach_while_an_exception_holds_is_exempt_and_a_later_one_counts(b: Rulebook) -> None:
    f = fold(b, [no_show(1, day(1)), excuse(day(2), day(20)), no_show(2, day(10)), no_show(3, day(25))],
             until=msk(day(30)))
    assert [(d.action, d.event) for d in f.decisions("ivan")] == [
        ("feedback", "ns-ivan-1"), ("exempt", "ns-ivan-2"), ("warning", "ns-ivan-3")]
    (exempt,) = f.decisions("ivan", action="exempt")
    assert exempt.status == "applied" and exempt.step is None and exempt.amount is None
    assert exempt.evidence == ("ns-ivan-2", "ex-1")
    assert exempt.params is not None and exempt.params["reason"] == "force majeure: a flood"
    rules = f.show("ivan")["rules"]["no_show"]
    assert (rules["broken"], rules["strikes"]) == (3, 2), "the exempt breach is counted but adds no strike"


def test_an_exception_is_for_its_rule_and_its_counterparty_only(b: Rulebook) -> None:
    f = fold(b, [excuse(day(1), day(20), rule="late_cancellation"), no_show(1, day(2)),
                 excuse(day(1), day(20), cp="olga", id="ex-olga"), no_show(1, day(2), cp="olga")],
             until=msk(day(30)))
    assert f.actions("ivan") == ["feedback"]
    assert f.actions("olga") == ["exempt"]


def test_setting_an_exception_never_changes_what_came_before_it(b: Rulebook) -> None:
    f = fold(b, [no_show(1, day(1)), excuse(day(2), day(20))], until=msk(day(30)))
    assert f.actions("ivan") == ["feedback"]


def test_an_exception_from_an_earlier_time_is_folded_there(b: Rulebook) -> None:
    """Set on day 5 `from` day 1: folded at day 1, so the no-show of day 2 is judged under it (the service
    refolds the counterparty, as for any late event)."""
    history = [no_show(1, day(2)), excuse(day(5), day(20), **{"from": msk(day(1))})]
    (_, ex) = events(history)
    assert ex.at == events([no_show(0, day(1))])[0].at and ex.occurred_at == msk(day(5))
    assert fold(b, history, until=msk(day(30))).actions("ivan") == ["exempt"]


def test_an_ended_exception_no_longer_holds(b: Rulebook) -> None:
    ended = raw("end-1", "exception.ended", "ivan", msk(day(5)), exception="ex-1", reason="back to normal",
                by="manager")
    f = fold(b, [excuse(day(1), day(20)), no_show(1, day(3)), ended, no_show(2, day(6))], until=msk(day(30)))
    assert f.actions("ivan") == ["exempt", "feedback"]


def test_an_exception_lapses_at_its_end(b: Rulebook) -> None:
    f: Fold = fold(b, [excuse(day(1), day(3, 10)), no_show(1, day(3, 9)), no_show(2, day(3, 11))],
                   until=msk(day(30)))
    assert f.actions("ivan") == ["exempt", "feedback"]


@pytest.mark.parametrize(("data", "field"), [
    ({"until": "2026-03-20T10:00:00+03:00", "reason": "flood"}, "data.rule"),
    ({"rule": "no_show", "reason": "flood"}, "data.until"),
    ({"rule": "no_show", "until": "2026-03-20T10:00:00+03:00"}, "data.reason"),
    ({"rule": "no_show", "until": "soon", "reason": "flood"}, "data.until"),
    ({"rule": "no_show", "until": "2026-03-01T10:00:00+03:00", "reason": "flood"}, "data.until"),
    ({"rule": "no_show", "until": "2026-03-20T10:00:00+03:00", "reason": "flood", "from": "yesterday"},
     "data.from"),
])
def test_a_wrong_exception_is_refused_naming_the_field(data: dict[str, Any], field: str) -> None:
    with pytest.raises(EventError) as caught:
        validate(raw("ex", "exception.set", "ivan", "2026-03-05T10:00:00+03:00", **data))
    assert caught.value.field == field


def test_an_exempt_breach_is_explained_in_both_languages(b: Rulebook) -> None:
    f = fold(b, [excuse(day(1), day(20)), no_show(1, day(3))], until=msk(day(30)))
    (d,) = f.decisions("ivan", action="exempt")
    en = explain(d, title="Come or call", why="", next_step=None, locale="en", timezone="Europe/Moscow")
    ru = explain(d, title="Приходите или звоните", why="", next_step=None, locale="ru", timezone="Europe/Moscow")
    assert "personal exception" in en and "force majeure: a flood" in en and "no strike" in en
    assert "(ns-ivan-1)" in en and "until 3/20/26" in en, "the breach and the end of the exception, no other ids"
    assert "личное исключение" in ru and "force majeure: a flood" in ru and "без штрафного балла" in ru


def test_a_breach_judged_under_an_exception_set_later_says_so(b: Rulebook) -> None:
    history = [no_show(1, day(2)), excuse(day(5), day(20), **{"from": msk(day(1))}), no_show(2, day(6))]
    f = fold(b, history, until=msk(day(30)))
    first, second = f.decisions("ivan", action="exempt")
    assert first.params is not None and "set_at" in first.params
    assert second.params is not None and "set_at" not in second.params, "after it was set: nothing to note"
    en = explain(first, title="Come or call", why="", next_step=None, locale="en", timezone="Europe/Moscow")
    ru = explain(first, title="Come or call", why="", next_step=None, locale="ru", timezone="Europe/Moscow")
    assert en.endswith("The exception was set later, on 3/5/26, 10:00\u202fAM, and applied from an earlier time: "
                       "the decisions since then were reviewed again.")
    assert "Исключение назначено позже, 05.03.2026, 10:00" in ru
