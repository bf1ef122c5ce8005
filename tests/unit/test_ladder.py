"""The ladder (RULEBOOK.md "The ladder", "Tiers", "Reminders and thanks", "Fine points"): steps,
windows, earn-back, thanks, tiers, restrictions and the review of proposed steps."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from tests.unit.conftest import Fold, book, fold, msk, raw, review, us

from firmly.domain.engine import Decision
from firmly.domain.rulebook import Rulebook


def ladder_book(steps: str, *, window: str = "180d", earn_back: int | None = None, extra_rule: str = "") -> Rulebook:
    """A rulebook with one forbidden rule (no-shows) on a ladder with the given steps (YAML lines)."""
    earn = f"    earn_back: {earn_back}\n" if earn_back else ""
    return book(f"""\
rulebook: ladder
version: "1"
title: Ladder
locale: en
currency: RUB
timezone: Europe/Moscow
applies_to: [client]
ladders:
  test:
    window: {window}
{earn}    steps:
{steps}
rules:
  no_show:
    title: Come or call
    kind: forbidden
    event: appointment.no_show
    kept_by: [appointment.attended]
    ladder: test
{extra_rule}""")


def no_show(n: int, at: str, cp: str = "ivan") -> dict[str, Any]:
    return raw(f"ns-{cp}-{n}", "appointment.no_show", cp, msk(at), appointment=f"{cp}-a{n}")


def came(n: int, at: str, cp: str = "ivan") -> dict[str, Any]:
    return raw(f"came-{cp}-{n}", "appointment.attended", cp, msk(at), appointment=f"{cp}-b{n}")


def day(n: int, hour: int = 10) -> str:
    """The nth day of March 2026 (later days run on into April and beyond), at `hour` Moscow time."""
    moment = date(2026, 3, 1) + timedelta(days=n - 1)
    return f"{moment.isoformat()}T{hour:02d}:00"


def strikes(f: Fold, cp: str, at: str, rule: str = "no_show") -> int:
    return int(f.show(cp, msk(at))["rules"][rule]["strikes"])


# -- steps in order -------------------------------------------------------------------------------

def test_the_steps_apply_in_order_and_reviewed_ones_are_only_proposed(clinic: Rulebook) -> None:
    history = [no_show(n, day(2 * n)) for n in range(1, 8)]
    f = fold(clinic, history, until=msk(day(20)))
    made = f.decisions("ivan", "no_show")
    assert [(d.action, d.step, d.status) for d in made] == [
        ("feedback", 1, "applied"), ("warning", 2, "applied"), ("fee", 3, "applied"),
        ("require_prepayment", 4, "applied"), ("suspend", 5, "proposed"), ("terminate", 6, "proposed")]
    assert made[2].amount == Decimal("1000.00")
    assert made[2].currency == "RUB"
    assert made[2].evidence == ("ns-ivan-1", "ns-ivan-2", "ns-ivan-3"), "the fee cites every strike"
    assert [d.event for d in made] == [f"ns-ivan-{n}" for n in range(1, 7)]
    view = f.show("ivan")
    assert view["status"] == "restricted", "prepayment applies; suspension and termination wait for a person"
    assert [r["type"] for r in view["restrictions"]] == ["require_prepayment"]
    assert view["rules"]["no_show"]["strikes"] == 7


def test_the_last_step_repeats() -> None:
    b = ladder_book('      - feedback\n      - warning\n      - fee: "100.00"\n')
    f = fold(b, [no_show(n, day(n)) for n in range(1, 6)], until=msk(day(10)))
    made = f.decisions("ivan", "no_show")
    assert [(d.action, d.step, d.amount) for d in made] == [
        ("feedback", 1, None), ("warning", 2, None), ("fee", 3, Decimal("100.00")),
        ("fee", 3, Decimal("100.00")), ("fee", 3, Decimal("100.00"))]
    assert len({d.id for d in made}) == 5


def test_a_warning_always_comes_before_money(clinic: Rulebook) -> None:
    f = fold(clinic, [no_show(1, day(1)), no_show(2, day(2))], until=msk(day(3)))
    assert [d.amount for d in f.decisions("ivan")] == [None, None]


# -- the window ---------------------------------------------------------------------------------

def test_strikes_expire_after_the_window() -> None:
    b = ladder_book("      - feedback\n      - warning\n", window="30d")
    f = fold(b, [no_show(1, day(1))], until=msk(day(40)))
    assert strikes(f, "ivan", day(30)) == 1
    assert strikes(f, "ivan", day(32)) == 0
    f = fold(b, [no_show(1, day(1)), no_show(2, day(33))], until=msk(day(40)))
    assert f.actions("ivan") == ["feedback", "feedback"], "an expired strike no longer counts"
    f = fold(b, [no_show(1, day(1)), no_show(2, day(29))], until=msk(day(40)))
    assert f.actions("ivan") == ["feedback", "warning"]


def test_strikes_expire_with_the_clock_alone(clinic: Rulebook) -> None:
    f = fold(clinic, [no_show(1, day(1)), no_show(2, day(2))], until=msk(day(200)))
    assert f.show("ivan")["rules"]["no_show"]["strikes"] == 0
    assert f.show("ivan")["rules"]["no_show"]["broken"] == 2, "broken is history, it does not expire"


# -- earn-back and thanks --------------------------------------------------------------------------

def test_kept_rules_in_a_row_earn_back_the_oldest_strike(clinic: Rulebook) -> None:
    history = [no_show(1, day(1)), no_show(2, day(3)), came(1, day(5)), came(2, day(7)), came(3, day(9))]
    f = fold(clinic, history, until=msk(day(10)))
    assert f.actions("ivan", "no_show") == ["feedback", "warning", "thanks", "earn_back"]
    (earned,) = f.decisions("ivan", "no_show", action="earn_back")
    assert earned.event == "came-ivan-3"
    assert earned.evidence[0] == "ns-ivan-1", "the oldest strike is the one removed"
    assert earned.status == "applied"
    assert f.decisions("ivan", "no_show", action="thanks", event="came-ivan-3") == [], \
        "an earn-back is its own thanks, not a second one"
    rules = f.show("ivan")["rules"]["no_show"]
    assert (rules["strikes"], rules["kept_streak"]) == (1, 0), "the streak restarts after an earn-back"


def test_the_streak_restarts_after_each_earn_back(clinic: Rulebook) -> None:
    history = [no_show(1, day(1)), no_show(2, day(3)), *(came(n, day(4 + n)) for n in range(1, 10))]
    f = fold(clinic, history, until=msk(day(20)))
    earned = f.decisions("ivan", "no_show", action="earn_back")
    assert [d.event for d in earned] == ["came-ivan-3", "came-ivan-6"]
    assert strikes(f, "ivan", day(20)) == 0
    assert f.actions("ivan", "no_show") == ["feedback", "warning", "thanks", "earn_back", "earn_back"], \
        "with no strike left, kept rules earn nothing more"


def test_the_streak_restarts_after_a_breach(clinic: Rulebook) -> None:
    history = [no_show(1, day(1)), came(1, day(2)), came(2, day(3)), no_show(2, day(4)), came(3, day(5)),
               came(4, day(6))]
    f = fold(clinic, history, until=msk(day(10)))
    assert f.decisions("ivan", "no_show", action="earn_back") == []
    assert f.show("ivan")["rules"]["no_show"]["kept_streak"] == 2
    f = fold(clinic, [*history, came(5, day(7))], until=msk(day(10)))
    assert [d.event for d in f.decisions("ivan", "no_show", action="earn_back")] == ["came-ivan-5"]


def test_thanks_come_after_the_first_kept_rule_following_a_breach_only(clinic: Rulebook) -> None:
    history = [came(1, day(1)), no_show(1, day(2)), came(2, day(3)), came(3, day(4))]
    f = fold(clinic, history, until=msk(day(10)))
    thanks = f.decisions("ivan", "no_show", action="thanks")
    assert [d.event for d in thanks] == ["came-ivan-2"]
    assert thanks[0].status == "applied"


NEW_RULE = """\
  arrive_on_time:
    title: Arrive on time
    kind: forbidden
    event: appointment.late_arrival
    kept_by: [appointment.attended]
    introduced: 2026-03-01
    thank_for: 7d
"""


@pytest.mark.parametrize(("moment", "thanked"), [
    ("2026-02-28T20:59:59+00:00", False),  # 23:59:59 in Moscow, the day before
    ("2026-02-28T21:00:00+00:00", True),  # midnight in Moscow: the first instant
    ("2026-03-04T12:00:00+03:00", True),
    ("2026-03-07T23:59:59+03:00", True),
    ("2026-03-08T00:00:00+03:00", False),  # introduced + thank_for: the interval is half-open
    ("2026-03-20T12:00:00+03:00", False),
])
def test_every_kept_rule_is_thanked_while_the_rule_is_new(moment: str, thanked: bool) -> None:
    b = ladder_book("      - feedback\n      - warning\n", extra_rule=NEW_RULE)
    f = fold(b, [raw("came", "appointment.attended", "ivan", moment, appointment="x")],
             until=msk("2026-04-01T00:00"))
    assert f.actions("ivan", "arrive_on_time") == (["thanks"] if thanked else [])
    assert f.actions("ivan", "no_show") == [], "only the new rule thanks for being new"


def test_a_new_rule_thanks_every_kept_event_in_its_window() -> None:
    b = ladder_book("      - feedback\n      - warning\n", extra_rule=NEW_RULE)
    history = [raw(f"came-{n}", "appointment.attended", "ivan", msk(day(n)), appointment=f"x{n}")
               for n in (1, 2, 3, 9)]
    f = fold(b, history, until=msk(day(20)))
    assert [d.event for d in f.decisions("ivan", "arrive_on_time", action="thanks")] == [
        "came-1", "came-2", "came-3"]


# -- tiers --------------------------------------------------------------------------------------

def test_an_exempt_tier_pays_the_surcharge_instead_of_a_strike(clinic: Rulebook) -> None:
    vera = raw("cp-vera", "counterparty.upserted", "vera", msk(day(1, 9)), kind="client", tier="vip")
    history: list[dict[str, Any]] = [vera]
    for n in (1, 2, 3):
        history += [raw(f"v{n}-book", "appointment.booked", "vera", msk(day(n, 9)), appointment=f"v{n}",
                        starts_at=msk(day(n, 18))),
                    raw(f"v{n}-cancel", "appointment.cancelled", "vera", msk(day(n, 13)), appointment=f"v{n}")]
    history.append(no_show(4, day(4), cp="vera"))
    f = fold(clinic, history, until=msk(day(10)))
    surcharges = f.decisions("vera", "late_cancellation")
    assert [(d.action, d.amount, d.event) for d in surcharges if d.action != "reminder"] == [
        ("surcharge", Decimal("500.00"), f"v{n}-cancel") for n in (1, 2, 3)]
    rules = f.show("vera")["rules"]
    assert (rules["late_cancellation"]["strikes"], rules["late_cancellation"]["broken"]) == (0, 3)
    assert rules["no_show"]["strikes"] == 1, "the exemption is for its rule only"
    assert f.actions("vera", "no_show") == ["feedback"]


def test_a_standard_client_gets_strikes_for_the_same_history(clinic: Rulebook) -> None:
    history = [raw("a1-book", "appointment.booked", "anna", msk(day(1, 9)), appointment="a1",
                   starts_at=msk(day(1, 18))),
               raw("a1-cancel", "appointment.cancelled", "anna", msk(day(1, 13)), appointment="a1")]
    f = fold(clinic, history, until=msk(day(10)))
    assert f.actions("anna", "late_cancellation") == ["feedback"]


# -- restrictions -------------------------------------------------------------------------------

def test_a_restriction_ends_by_itself() -> None:
    b = ladder_book("      - feedback\n      - require_prepayment: 10d\n")
    f = fold(b, [no_show(1, day(1)), no_show(2, day(3))], until=msk(day(30)))
    (d,) = f.decisions("ivan", action="require_prepayment")
    assert d.status == "applied"
    assert fold(b, [no_show(1, day(1))], until=msk(day(2))).status("ivan") == "active"
    assert f.status("ivan", msk(day(12, 9))) == "restricted"
    assert f.show("ivan", msk(day(12, 9)))["restrictions"] == [
        {"type": "require_prepayment", "until": "2026-03-13T07:00:00+00:00", "rule": "no_show"}]
    assert f.status("ivan", msk(day(13, 11))) == "active"
    assert f.show("ivan", msk(day(13, 11)))["restrictions"] == []


def test_status_precedence_suspended_over_restricted_over_active() -> None:
    b = ladder_book("      - feedback\n      - require_prepayment: 30d\n      - suspend: 10d\n")
    two = fold(b, [no_show(1, day(1)), no_show(2, day(2))], until=msk(day(2, 12)))
    assert two.status("ivan") == "restricted"
    f = fold(b, [no_show(1, day(1)), no_show(2, day(2)), no_show(3, day(3))], until=msk(day(60)))
    assert f.status("ivan", msk(day(4))) == "suspended"
    assert f.status("ivan", msk(day(14))) == "restricted", "the suspension ended, the prepayment did not"
    assert f.status("ivan", msk(day(33))) == "active"


def test_terminate_without_review_ends_the_relationship_for_good() -> None:
    b = ladder_book("      - feedback\n      - terminate: true\n")
    assert b.warnings, "terminate without review loads with a warning"
    f = fold(b, [no_show(1, day(1)), no_show(2, day(2))], until=msk(day(2000)))
    (d,) = f.decisions("ivan", action="terminate")
    assert d.status == "applied"
    assert f.status("ivan", msk(day(2, 11))) == "terminated"
    assert f.status("ivan") == "terminated"


# -- review: approve, soften, dismiss --------------------------------------------------------------

REVIEWED = ("      - feedback\n      - warning\n      - suspend: 30d\n        review: true\n"
            "      - terminate: true\n        review: true\n")
THREE = [no_show(1, day(1)), no_show(2, day(3)), no_show(3, day(5))]


def proposal(f: Fold, action: str = "suspend") -> Decision:
    (d,) = f.decisions("ivan", action=action)
    assert d.status == "proposed"
    return d


def test_a_proposal_changes_nothing_until_a_person_approves_it() -> None:
    b = ladder_book(REVIEWED)
    f = fold(b, THREE, until=msk(day(60)))
    proposal(f)
    for n in range(5, 60, 5):
        assert f.status("ivan", msk(day(n))) == "active"


def test_approval_applies_the_step_from_the_moment_of_approval() -> None:
    b = ladder_book(REVIEWED)
    suspend = proposal(fold(b, THREE, until=msk(day(9))))
    f = fold(b, [*THREE, review(suspend, "approve", msk(day(10)))], until=msk(day(60)))
    (d,) = f.decisions("ivan", action="suspend")
    assert d.id == suspend.id, "the act stays attached to the decision it was made on"
    assert d.status == "approved"
    assert f.status("ivan", msk(day(10, 11))) == "suspended"
    assert f.status("ivan", msk(day(38))) == "suspended", "30 days from the approval, not from the proposal"
    assert f.status("ivan", msk(day(41))) == "active"


def test_the_status_changes_at_the_approval_event_and_not_before() -> None:
    b = ladder_book(REVIEWED)
    f = fold(b, THREE, until=msk(day(9, 23)))
    suspend = proposal(f)
    assert f.status("ivan") == "active"
    more = f.feed([review(suspend, "approve", msk(day(10)))], until=msk(day(10)))
    assert [(d.id, d.status) for d in more] == [(suspend.id, "approved")]
    assert f.status("ivan") == "suspended"


def test_soften_applies_a_lower_step_instead() -> None:
    b = ladder_book("      - feedback\n      - require_prepayment: 10d\n      - suspend: 30d\n        review: true\n")
    suspend = proposal(fold(b, THREE, until=msk(day(9))))
    f = fold(b, [*THREE, review(suspend, "soften", msk(day(20)), step=2)], until=msk(day(60)))
    assert f.decisions("ivan", action="suspend")[0].status == "softened"
    softened = [d for d in f.decisions("ivan", action="require_prepayment") if d.at == us(msk(day(20)))]
    assert len(softened) == 1
    assert (softened[0].status, softened[0].step, softened[0].event) == ("applied", 2, suspend.event)
    assert f.status("ivan", msk(day(20, 11))) == "restricted"
    assert f.status("ivan", msk(day(29))) == "restricted", "the softened step runs from the act"
    assert f.status("ivan", msk(day(31))) == "active"
    assert all(f.status("ivan", msk(day(n))) != "suspended" for n in range(5, 60))


def test_dismiss_leaves_the_status_active() -> None:
    b = ladder_book(REVIEWED)
    suspend = proposal(fold(b, THREE, until=msk(day(9))))
    f = fold(b, [*THREE, review(suspend, "dismiss", msk(day(10)))], until=msk(day(60)))
    assert f.decisions("ivan", action="suspend")[0].status == "dismissed"
    assert all(f.status("ivan", msk(day(n))) == "active" for n in range(1, 60))
    assert f.show("ivan")["restrictions"] == []


def test_an_approved_termination_ends_the_relationship() -> None:
    b = ladder_book(REVIEWED)
    history = [*THREE, no_show(4, day(7))]
    terminate = proposal(fold(b, history, until=msk(day(9))), "terminate")
    f = fold(b, [*history, review(terminate, "approve", msk(day(10)))], until=msk(day(900)))
    assert f.decisions("ivan", action="terminate")[0].status == "approved"
    assert f.status("ivan") == "terminated"


def test_an_act_on_a_decision_that_is_not_open_changes_nothing() -> None:
    b = ladder_book(REVIEWED)
    feedback = fold(b, THREE, until=msk(day(9))).decisions("ivan", action="feedback")[0]
    f = fold(b, [*THREE, review(feedback, "approve", msk(day(10)))], until=msk(day(20)))
    assert f.status("ivan") == "active"
    assert f.decisions("ivan", action="feedback")[0].status == "applied"
    assert f.decisions("ivan", action="suspend")[0].status == "proposed"


def test_a_soften_to_a_step_that_is_not_lower_leaves_the_proposal_open() -> None:
    b = ladder_book(REVIEWED)
    suspend = proposal(fold(b, THREE, until=msk(day(9))))
    wrong = review(suspend, "soften", msk(day(10)), step=3)
    approve = review(suspend, "approve", msk(day(11)))
    f = fold(b, [*THREE, wrong, approve], until=msk(day(20)))
    assert f.decisions("ivan", action="suspend")[0].status == "approved"
    assert f.status("ivan") == "suspended"


# -- open proposals ---------------------------------------------------------------------------------

def test_further_strikes_add_evidence_to_the_open_proposal() -> None:
    b = ladder_book("      - feedback\n      - warning\n      - suspend: 30d\n        review: true\n")
    history = [*THREE, no_show(4, day(7)), no_show(5, day(9))]
    f = fold(b, history, until=msk(day(12)))
    (suspend,) = f.decisions("ivan", action="suspend")
    assert suspend.status == "proposed"
    assert suspend.event == "ns-ivan-3"
    assert {"ns-ivan-3", "ns-ivan-4", "ns-ivan-5"} <= set(suspend.evidence)
    assert f.status("ivan") == "active"


def test_after_an_approval_a_new_strike_makes_a_new_proposal() -> None:
    b = ladder_book("      - feedback\n      - warning\n      - suspend: 30d\n        review: true\n")
    first = proposal(fold(b, THREE, until=msk(day(6))))
    history = [*THREE, review(first, "approve", msk(day(6))), no_show(4, day(8))]
    f = fold(b, history, until=msk(day(9)))
    made = f.decisions("ivan", action="suspend")
    assert [(d.status, d.event) for d in made] == [("approved", "ns-ivan-3"), ("proposed", "ns-ivan-4")]


# -- determinism --------------------------------------------------------------------------------------

def test_decision_ids_are_the_same_on_every_fold(clinic: Rulebook) -> None:
    history = [no_show(n, day(2 * n)) for n in range(1, 8)] + [came(n, day(20 + n)) for n in range(1, 5)]
    a = fold(clinic, history, until=msk(day(40)))
    b = fold(clinic, list(reversed(history)), until=msk(day(40)))
    assert [d.key() for d in a.final.values()] == [d.key() for d in b.final.values()]
    assert len(a.final) >= 7


def test_decision_ids_do_not_depend_on_other_counterparties(clinic: Rulebook) -> None:
    ivan = [no_show(n, day(2 * n)) for n in range(1, 4)]
    olga = [no_show(n, day(2 * n + 1), cp="olga") for n in range(1, 4)]
    alone = fold(clinic, ivan, until=msk(day(10)))
    together = fold(clinic, [*olga, *ivan], until=msk(day(10)))
    assert [d.key() for d in alone.decisions("ivan")] == [d.key() for d in together.decisions("ivan")]
    assert not {d.id for d in together.decisions("ivan")} & {d.id for d in together.decisions("olga")}
