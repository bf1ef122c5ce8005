"""Personal exceptions (RULEBOOK.md "Tiers and exceptions", docs/discretion.md): a person exempts one
counterparty from one rule until a time; breaches meanwhile are counted, exempt, with no strike and no step."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from tests.unit.conftest import Fold, book, events, fold, msk, raw, review, us
from tests.unit.test_ladder import came, day, ladder_book, no_show

from firmly.domain.engine import Engine, Policy
from firmly.domain.errors import InvalidInput
from firmly.domain.events import EventError, validate
from firmly.domain.explain import explain
from firmly.domain.rulebook import Rulebook
from firmly.domain.tone import Tone

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


# -- requests for leniency ----------------------------------------------------------------------

LENIENT = """\
rulebook: lenient
version: "1"
title: Lenient
locale: en
currency: RUB
timezone: Europe/Moscow
applies_to: [client]
ladders:
  test:
    window: 180d
    first_step_may_sanction: true
    steps:
      - fee: "1500.00"
      - warning
      - fee: "3000.00"
rules:
  no_show:
    title: Come or call
    kind: forbidden
    event: appointment.no_show
    kept_by: [appointment.attended]
    ladder: test
  forgive_on_request:
    title: We listen to a polite request
    kind: exceptions
    approve_if: {first_in: 365d, kept_streak_at_least: 2, amount_at_most: "2000.00"}
    hostile: deny
    otherwise: review
"""
POLITE = Tone("polite", (), (), ("please",), "en")
HOSTILE = Tone("hostile", ("threat",), ("I will sue you",), (), "en")


@pytest.fixture(scope="module")
def lenient() -> Rulebook:
    return book(LENIENT)


def ask(n: int, at: str, about: str, tone: Tone, what: str = "waive_fee", cp: str = "ivan") -> dict[str, Any]:
    text = "I will sue you" if tone is HOSTILE else "Please forgive me, I was ill"
    return raw(f"ask-{cp}-{n}", "exception.requested", cp, msk(at), text=text, about=about, ask=what, lang="en")


def toned(b: Rulebook, raws: list[dict[str, Any]], tones: dict[str, Tone], until: str) -> Fold:
    """A fold where the requests carry the tone the service reads on arrival."""
    evs = events(raws)
    for ev in evs:
        ev.tone = tones.get(ev.id)
    engine = Engine(Policy([b]))
    states, out = engine.run(evs, until=us(msk(until)))
    return Fold(engine, states, out, us(msk(until)))


def kept_twice(cp: str = "ivan") -> list[dict[str, Any]]:
    return [came(1, day(1), cp), came(2, day(2), cp)]


def test_a_polite_first_request_waives_the_fee_and_the_next_breach_is_judged_afresh(lenient: Rulebook) -> None:
    history = [*kept_twice(), no_show(1, day(3)), ask(1, day(4), "ns-ivan-1", POLITE), no_show(2, day(10))]
    f = toned(lenient, history, {"ask-ivan-1": POLITE}, day(30))
    assert [(d.action, d.status) for d in f.decisions("ivan") if d.action != "thanks"] == [
        ("fee", "applied"), ("exception_granted", "applied"), ("fee", "applied")]
    (granted,) = f.decisions("ivan", action="exception_granted")
    assert granted.amount == Decimal("1500.00") and granted.evidence == ("ask-ivan-1", "ns-ivan-1")
    postings = f.engine.take_postings()
    waivers = [p for p in postings if p.memo == "waiver"]
    assert [(p.debit, p.credit, p.amount, p.event, p.decision) for p in waivers] == [
        ("sanctions", "due", Decimal("1500.00"), "ask-ivan-1", granted.id)]
    assert f.states["ivan"].account is not None and f.states["ivan"].account.due == Decimal("1500.00"), \
        "the first fee waived; the second (step 1 again, not a warning) is due"
    en = explain(granted, title="t", why="", next_step=None, locale="en", timezone="Europe/Moscow")
    assert "the fee of" in en and "1,500" in en and "(ns-ivan-1) no longer counts" in en
    ru = explain(granted, title="t", why="", next_step=None, locale="ru", timezone="Europe/Moscow")
    assert "штраф" in ru and "отменён" in ru


def test_a_hostile_request_is_denied_quoting_its_phrases(lenient: Rulebook) -> None:
    history = [*kept_twice(), no_show(1, day(3)), ask(1, day(4), "ns-ivan-1", HOSTILE)]
    f = toned(lenient, history, {"ask-ivan-1": HOSTILE}, day(30))
    (denied,) = f.decisions("ivan", action="exception_denied")
    assert denied.status == "applied"
    for lang, quoted in (("en", "\"I will sue you\""), ("ru", "«I will sue you»")):
        assert quoted in explain(denied, title="t", why="", next_step=None, locale=lang, timezone="Europe/Moscow")
    assert f.show("ivan")["rules"]["no_show"]["strikes"] == 1


def test_a_request_that_misses_a_condition_goes_to_a_person_who_may_grant_it(lenient: Rulebook) -> None:
    history = [no_show(1, day(3)), ask(1, day(4), "ns-ivan-1", POLITE)]  # nothing kept before the breach
    f = toned(lenient, history, {"ask-ivan-1": POLITE}, day(5))
    (proposal,) = f.decisions("ivan", action="exception_granted")
    assert proposal.status == "proposed" and proposal.params is not None
    assert proposal.params["unmet"] == ["kept_streak_at_least"]
    assert "goes to a person" in explain(proposal, title="t", why="", next_step=None, locale="en",
                                         timezone="Europe/Moscow")
    f.feed([review(proposal, "approve", msk(day(6)))], until=msk(day(30)))
    (approved,) = f.decisions("ivan", action="exception_granted")
    assert approved.status == "approved" and approved.amount == Decimal("1500.00")
    assert f.show("ivan")["rules"]["no_show"]["strikes"] == 0


def test_a_change_of_booking_is_never_granted_by_the_engine(lenient: Rulebook) -> None:
    history = [*kept_twice(), no_show(1, day(3)), ask(1, day(4), "ns-ivan-1", POLITE, "change_booking")]
    f = toned(lenient, history, {"ask-ivan-1": POLITE}, day(30))
    (proposal,) = f.decisions("ivan", action="exception_granted")
    assert proposal.status == "proposed" and proposal.params is not None
    assert (proposal.params["reason"], proposal.params["tone"], proposal.params["broken"]) == ("booking", "polite", 1)


def test_leniency_is_granted_once_within_its_period(lenient: Rulebook) -> None:
    history = [*kept_twice(), no_show(1, day(3)), ask(1, day(4), "ns-ivan-1", POLITE),
               came(3, day(5)), came(4, day(6)), no_show(2, day(10)), ask(2, day(11), "ns-ivan-2", POLITE)]
    f = toned(lenient, history, {"ask-ivan-1": POLITE, "ask-ivan-2": POLITE}, day(30))
    assert [(d.status, (d.params or {}).get("unmet")) for d in f.decisions("ivan", action="exception_granted")] == [
        ("applied", None), ("proposed", ["first_in"])]


def test_a_request_may_name_the_decision_itself(lenient: Rulebook) -> None:
    f = toned(lenient, [*kept_twice(), no_show(1, day(3))], {}, day(4))
    (fee,) = f.decisions("ivan", action="fee")
    f2 = toned(lenient, [*kept_twice(), no_show(1, day(3)), ask(1, day(4), fee.id, POLITE, "forgive_strike")],
               {"ask-ivan-1": POLITE}, day(30))
    (granted,) = f2.decisions("ivan", action="exception_granted")
    assert granted.status == "applied" and f2.show("ivan")["rules"]["no_show"]["strikes"] == 0


def test_the_rule_kind_checks_its_fields() -> None:
    with pytest.raises(InvalidInput) as caught:
        book(LENIENT.replace("kept_streak_at_least: 2", "kept_streak: 2").replace("otherwise: review",
                                                                                 "otherwise: maybe"))
    text = str(caught.value)
    assert "approve_if.kept_streak" in text and "kept_streak_at_least" in text
    assert "otherwise" in text and "maybe" in text
