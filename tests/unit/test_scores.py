"""Partner karma, bonuses and ratings, and the supplier scorecard (RULEBOOK.md "Scores" and "Fine points",
EVENTS.md "Partners"), folded through the pure engine; the rulebook sections they read, validated with their
lines; and the contract appendix that states them in plain words."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from tests.unit.conftest import Fold, book, fold, line_of, msk, raw, review, us
from tests.unit.test_rulebook import assert_reported, only, problems

from firmly.domain.engine import Policy
from firmly.domain.ledger import BALANCE, BONUSES
from firmly.domain.render import render_html, render_markdown
from firmly.domain.rulebook import Rulebook
from firmly.domain.scores import (
    DAY_US,
    KarmaTerms,
    ScorecardTerms,
    Track,
    Verdict,
    classify,
    rating,
    verdict_sentence,
)
from firmly.service.reports import partner_scores, supplier_scores

PARTNERS = """\
rulebook: partners
version: "1"
title: Partner clinics
locale: en
currency: RUB
timezone: Europe/Moscow
applies_to: [partner]

ladders:
  partner:
    window: 365d
    steps:
      - feedback
      - warning
      - terminate: true
        review: true

karma:
  start: 50
  clean_booking: 1
  incident: {minor: 5, major: 15, fatal: 50}
  bonus_per_clean_booking: "100.00"

reviews:
  prior_mean: 4.0
  prior_weight: 5

rules:
  booking_handling:
    title: Patients booked through us are seen on time
    kind: incident
    weight: {minor: 1, major: 1, fatal: terminate}
    kept_by: [appointment.attended]
    ladder: partner
"""

SUPPLIERS = """\
rulebook: vendors
version: "1"
title: Supplier requirements
locale: ru
currency: RUB
timezone: Europe/Moscow
applies_to: [supplier]

ladders:
  supplier:
    window: 365d
    steps:
      - feedback
      - warning
      - terminate: true
        review: true

scorecard:
  window: 365d
  weights: {minor: 1, major: 3, late_delivery: 1}
  drop_if: {severity: fatal}
  replace_if: {weighted_at_least: 6}

rules:
  service_quality:
    title: The service is done without errors
    kind: incident
    weight: {minor: 1, major: 1, fatal: terminate}
    ladder: supplier
"""

CLINIC = "clinic-7"


def t(n: int, hour: int = 12) -> str:
    """Day n of 2026 counted from 1 January (day 0), at `hour` Moscow time."""
    moment = date(2026, 1, 1) + timedelta(days=n)
    return msk(f"{moment.isoformat()}T{hour:02d}:00")


def partner_book(karma: str | None = None, reviews: str | None = None) -> Rulebook:
    text = PARTNERS
    if karma is not None:
        text = text.replace("""\
karma:
  start: 50
  clean_booking: 1
  incident: {minor: 5, major: 15, fatal: 50}
  bonus_per_clean_booking: "100.00"
""", karma)
    if reviews is not None:
        text = text.replace("reviews:\n  prior_mean: 4.0\n  prior_weight: 5\n", reviews)
    return book(text)


def supplier_book(scorecard: str) -> Rulebook:
    """The supplier rulebook with another `scorecard:` section (YAML lines, indented by two)."""
    start = SUPPLIERS.index("scorecard:\n")
    end = SUPPLIERS.index("rules:\n")
    return book(SUPPLIERS[:start] + "scorecard:\n" + scorecard + "\n" + SUPPLIERS[end:])


def partner_cp(key: str = CLINIC, **extra: Any) -> dict[str, Any]:
    return raw(f"cp-{key}", "counterparty.upserted", key, t(0, 9), kind="partner", name=f"Clinic {key}", **extra)


def supplier_cp(key: str = "acme", **extra: Any) -> dict[str, Any]:
    return raw(f"cp-{key}", "counterparty.upserted", key, t(0, 9), kind="supplier", name=f"Supplier {key}", **extra)


def booked(appointment: str, day: int, patient: str = "patient-1", partner: str = CLINIC) -> dict[str, Any]:
    return raw(f"{appointment}-book", "appointment.booked", patient, t(day, 9), appointment=appointment,
               starts_at=t(day + 1, 10), partner=partner)


def came(appointment: str, day: int, patient: str = "patient-1", partner: str | None = CLINIC,
         hour: int = 10) -> dict[str, Any]:
    """The attendance of a visit booked on `day` (it happens the next day); `partner` None leaves data.partner out."""
    extra = {} if partner is None else {"partner": partner}
    return raw(f"{appointment}-came", "appointment.attended", patient, t(day + 1, hour), appointment=appointment,
               **extra)


def visit(appointment: str, day: int, patient: str = "patient-1", partner: str = CLINIC) -> list[dict[str, Any]]:
    """A booking into the partner and its attendance the next day: a clean booking unless an incident names it."""
    return [booked(appointment, day, patient, partner), came(appointment, day, patient, partner)]


def incident(id: str, counterparty: str, day: int, severity: str, hour: int = 15, **data: Any) -> dict[str, Any]:
    return raw(id, "incident.reported", counterparty, t(day, hour), severity=severity, **data)


def review_of(id: str, day: int, rating_: int, publish: bool | None = True, partner: str = CLINIC
              ) -> dict[str, Any]:
    extra = {} if publish is None else {"publish": publish}
    return raw(id, "review.received", partner, t(day), rating=rating_, text="…", author="patient-1", **extra)


def delivered(id: str, counterparty: str, day: int, due_day: int) -> dict[str, Any]:
    """A delivery on `day` that was due at noon on `due_day` (late when day > due_day)."""
    return raw(id, "delivery.completed", counterparty, t(day, 15), order=f"order-{id}", due_at=t(due_day, 12))


def scores(f: Fold, key: str = CLINIC) -> dict[str, Any]:
    """The partner's row of `report partners` (without key and name) at the fold's clock."""
    assert f.now is not None
    st = f.states[key]
    return partner_scores(st, f.engine.table(st, f.now))


def verdict(f: Fold, key: str, now: int | str | None = None) -> Verdict:
    """The supplier's class at `now` (default: the fold's clock)."""
    at = us(now) if isinstance(now, str) else now if now is not None else f.now
    assert at is not None
    st = f.states[key]
    card = f.engine.table(st, at).scorecard
    assert card is not None
    return classify(st.track, card, at)


@pytest.fixture(scope="module")
def partners() -> Rulebook:
    return book(PARTNERS)


@pytest.fixture(scope="module")
def suppliers() -> Rulebook:
    return book(SUPPLIERS)


# -- karma ----------------------------------------------------------------------------------------

def test_a_partner_with_no_history_has_the_starting_karma_and_nothing_else(partners: Rulebook) -> None:
    f = fold(partners, [partner_cp()], until=t(1))
    assert f.states[CLINIC].track is None
    assert scores(f) == {"karma": 50, "rating": None, "reviews": 0, "clean_bookings": 0, "incidents": 0,
                         "bonus": "0.00"}


def test_karma_may_start_anywhere_and_clean_bookings_add_their_own_step() -> None:
    b = partner_book(karma="karma:\n  start: -10\n  clean_booking: 3\n  incident: {minor: 4}\n")
    f = fold(b, [partner_cp(), *visit("a1", 1), *visit("a2", 2)], until=t(5))
    assert (scores(f)["karma"], scores(f)["clean_bookings"]) == (-10 + 3 + 3, 2)
    assert scores(f)["bonus"] == "0.00", "no bonus_per_clean_booking, no bonus"
    assert f.engine.take_postings() == []


def test_each_clean_booking_adds_to_karma_and_earns_a_bonus(partners: Rulebook) -> None:
    f = fold(partners, [partner_cp(), *visit("a1", 1), *visit("a2", 2, "patient-2"), *visit("a3", 3)], until=t(5))
    assert scores(f) == {"karma": 53, "rating": None, "reviews": 0, "clean_bookings": 3, "incidents": 0,
                         "bonus": "300.00"}


def test_a_booking_not_yet_attended_is_not_clean(partners: Rulebook) -> None:
    f = fold(partners, [partner_cp(), booked("a1", 1)], until=t(5))
    assert (scores(f)["karma"], scores(f)["clean_bookings"], scores(f)["bonus"]) == (50, 0, "0.00")


@pytest.mark.parametrize(("severity", "karma"), [("minor", 52 - 5), ("major", 52 - 15), ("fatal", 52 - 50)])
def test_an_incident_takes_karma_down_by_its_severity(partners: Rulebook, severity: str, karma: int) -> None:
    f = fold(partners, [partner_cp(), *visit("a1", 1), *visit("a2", 2), incident("inc-1", CLINIC, 5, severity)],
             until=t(6))
    row = scores(f)
    assert (row["karma"], row["clean_bookings"], row["incidents"], row["bonus"]) == (karma, 2, 1, "200.00"), \
        "an incident naming no appointment revokes no clean booking"


def test_karma_goes_below_zero_and_every_incident_counts(partners: Rulebook) -> None:
    history = [partner_cp(), *(incident(f"inc-{n}", CLINIC, n, "major") for n in range(1, 6))]
    f = fold(partners, history, until=t(10))
    assert (scores(f)["karma"], scores(f)["incidents"]) == (50 - 5 * 15, 5)


# -- clean bookings revoked, and not clean to begin with ------------------------------------------

def test_a_later_incident_for_a_clean_booking_revokes_it_with_its_karma_and_bonus(partners: Rulebook) -> None:
    f = fold(partners, [partner_cp(), *visit("a1", 1), *visit("a2", 2, "patient-2")], until=t(4))
    assert (scores(f)["karma"], scores(f)["clean_bookings"], scores(f)["bonus"]) == (52, 2, "200.00")
    earned = f.engine.take_postings()
    assert [(p.memo, p.event) for p in earned] == [("bonus", "a1-came"), ("bonus", "a2-came")]

    f.feed([incident("inc-a1", CLINIC, 10, "minor", appointment="a1")], until=t(11))
    assert scores(f) == {"karma": 52 - 1 - 5, "rating": None, "reviews": 0, "clean_bookings": 1, "incidents": 1,
                         "bonus": "100.00"}
    (revoked,) = f.engine.take_postings()
    assert (revoked.counterparty, revoked.memo, revoked.event) == (CLINIC, "bonus revoked", "inc-a1")
    assert (revoked.debit, revoked.credit, revoked.amount) == (BALANCE, BONUSES, Decimal("100.00"))
    assert revoked.side() == (BALANCE, "debit")
    assert revoked.id not in {p.id for p in earned}
    account = f.states[CLINIC].account
    assert account is not None and account.balance == Decimal("100.00")


def test_a_second_incident_for_the_same_booking_revokes_nothing_more(partners: Rulebook) -> None:
    f = fold(partners, [partner_cp(), *visit("a1", 1), incident("inc-1", CLINIC, 10, "minor", appointment="a1"),
                        incident("inc-2", CLINIC, 11, "minor", appointment="a1")], until=t(12))
    row = scores(f)
    assert (row["karma"], row["clean_bookings"], row["incidents"], row["bonus"]) == (51 - 1 - 5 - 5, 0, 2, "0.00")
    assert [p.memo for p in f.engine.take_postings()] == ["bonus", "bonus revoked"]


def test_an_incident_for_another_appointment_revokes_nothing(partners: Rulebook) -> None:
    f = fold(partners, [partner_cp(), *visit("a1", 1), incident("inc-1", CLINIC, 10, "minor", appointment="zz")],
             until=t(12))
    assert (scores(f)["clean_bookings"], scores(f)["bonus"], scores(f)["karma"]) == (1, "100.00", 46)


def test_an_incident_weeks_after_the_visit_still_revokes_it(partners: Rulebook) -> None:
    f = fold(partners, [partner_cp(), *visit("a1", 1), incident("inc-1", CLINIC, 80, "minor", appointment="a1")],
             until=t(81))
    assert (scores(f)["clean_bookings"], scores(f)["bonus"]) == (0, "0.00")


@pytest.mark.parametrize("between", [False, True], ids=["alone", "another clean booking between"])
def test_an_incident_months_after_the_visit_revokes_it_whatever_came_between(partners: Rulebook,
                                                                              between: bool) -> None:
    """RULEBOOK.md "Fine points": karma uses the whole history, and a booking is clean until an incident names
    its appointment. Whether the late incident revokes a1 must not depend on an unrelated booking."""
    history = [partner_cp(), *visit("a1", 1)]
    if between:
        history += visit("a2", 94, "patient-2")
    f = fold(partners, [*history, incident("inc-a1", CLINIC, 104, "minor", appointment="a1")], until=t(105))
    clean = 1 if between else 0
    row = scores(f)
    assert (row["clean_bookings"], row["karma"], row["bonus"]) == (clean, 50 + clean - 5, f"{100 * clean}.00")


def test_an_attendance_after_an_incident_for_its_appointment_is_not_clean(partners: Rulebook) -> None:
    f = fold(partners, [partner_cp(), booked("a1", 1), incident("inc-1", CLINIC, 1, "minor", appointment="a1"),
                        came("a1", 1)], until=t(5))
    row = scores(f)
    assert (row["karma"], row["clean_bookings"], row["incidents"], row["bonus"]) == (45, 0, 1, "0.00")
    assert f.engine.take_postings() == [], "no bonus is paid, so none is taken back"
    assert f.states[CLINIC].account is None


def test_an_attendance_of_a_booking_into_a_partner_is_clean_without_naming_the_partner_again(
        partners: Rulebook) -> None:
    """EVENTS.md: `appointment.attended` carries only `appointment`; the booking named the partner, and "a
    booking attended with no incident reported for its appointment is a clean booking for the partner"."""
    f = fold(partners, [partner_cp(), booked("a1", 1), came("a1", 1, partner=None)], until=t(5))
    assert (scores(f)["clean_bookings"], scores(f)["karma"], scores(f)["bonus"]) == (1, 51, "100.00")


@pytest.mark.parametrize("attributed", ["on the client's event (data.partner)", "the partner's own event"])
def test_an_incident_counts_for_the_partner_whoever_reports_it(partners: Rulebook, attributed: str) -> None:
    if attributed.startswith("on the client's"):
        reported = incident("inc-1", "patient-1", 10, "major", appointment="a1", partner=CLINIC)
    else:
        reported = incident("inc-1", CLINIC, 10, "major", appointment="a1", reported_by="patient-1")
    f = fold(partners, [partner_cp(), *visit("a1", 1), *visit("a2", 2), reported], until=t(11))
    row = scores(f)
    assert (row["karma"], row["clean_bookings"], row["incidents"], row["bonus"]) == (52 - 1 - 15, 1, 1, "100.00")
    assert f.actions(CLINIC, "booking_handling") == ["feedback"], "the partner's rules judge it too"
    assert [(p.counterparty, p.memo) for p in f.engine.take_postings()] == [
        (CLINIC, "bonus"), (CLINIC, "bonus"), (CLINIC, "bonus revoked")]


def test_a_partner_named_only_in_data_partner_is_a_partner_with_karma(partners: Rulebook) -> None:
    f = fold(partners, visit("a1", 1, partner="clinic-9"), until=t(5))
    assert f.states["clinic-9"].kind == "partner"
    assert (scores(f, "clinic-9")["karma"], scores(f, "clinic-9")["clean_bookings"]) == (51, 1)
    assert f.states["patient-1"].track is None, "the client's own attendance is not a clean booking of its own"


def test_bonuses_are_posted_to_the_partners_account_not_the_clients(partners: Rulebook) -> None:
    f = fold(partners, [partner_cp(), *visit("a1", 1), *visit("a2", 2, "patient-2"),
                        *visit("b1", 3, partner="clinic-9")], until=t(5))
    postings = f.engine.take_postings()
    assert {(p.counterparty, p.event) for p in postings} == {(CLINIC, "a1-came"), (CLINIC, "a2-came"),
                                                             ("clinic-9", "b1-came")}
    for p in postings:
        assert (p.debit, p.credit, p.amount, p.currency, p.memo) == (BONUSES, BALANCE, Decimal("100.00"), "RUB",
                                                                     "bonus")
        assert p.side() == (BALANCE, "credit")
    assert len({p.id for p in postings}) == 3
    assert [p.n for p in postings if p.counterparty == CLINIC] == [1, 2]
    account = f.states[CLINIC].account
    assert account is not None and (account.balance, account.due) == (Decimal("200.00"), Decimal("0.00"))
    assert f.states["patient-1"].account is None and f.states["patient-2"].account is None
    assert f.engine.take_postings() == [], "taking the postings empties the engine's list"


# -- reviews and the rating -----------------------------------------------------------------------

def test_no_reviews_means_no_rating(partners: Rulebook) -> None:
    f = fold(partners, [partner_cp(), *visit("a1", 1)], until=t(5))
    assert (scores(f)["rating"], scores(f)["reviews"]) == (None, 0)


def test_unpublished_reviews_give_no_rating_and_no_count(partners: Rulebook) -> None:
    f = fold(partners, [partner_cp(), review_of("rv-1", 3, 1, publish=False), review_of("rv-2", 4, 5, publish=None)],
             until=t(5))
    assert (scores(f)["rating"], scores(f)["reviews"]) == (None, 0)


def test_the_rating_averages_published_reviews_with_the_prior(partners: Rulebook) -> None:
    f = fold(partners, [partner_cp(), review_of("rv-1", 3, 5), review_of("rv-2", 4, 4), review_of("rv-3", 5, 2),
                        review_of("rv-4", 6, 1, publish=False)], until=t(7))
    assert scores(f)["reviews"] == 3
    assert scores(f)["rating"] == pytest.approx((4 * 5 + 5 + 4 + 2) / 8, abs=0.005)


@pytest.mark.parametrize(("prior_mean", "prior_weight", "ratings", "expected"), [
    ("3.0", 2, [5, 5, 4], (3 * 2 + 14) / 5),  # 4.0
    ("1", 10, [5], 15 / 11),  # a heavy prior holds a single review down: 1.36
    ("5", 1, [1, 1, 1], 8 / 4),
    ("4.5", 0, [5, 4], 4.5),  # no prior: the plain mean
    ("2.5", 3, [3], (7.5 + 3) / 4),
])
def test_the_bayesian_rating_under_other_priors(prior_mean: str, prior_weight: int, ratings: list[int],
                                                 expected: float) -> None:
    b = partner_book(reviews=f"reviews:\n  prior_mean: {prior_mean}\n  prior_weight: {prior_weight}\n")
    history = [partner_cp(), *(review_of(f"rv-{i}", i + 1, r) for i, r in enumerate(ratings))]
    f = fold(b, history, until=t(10))
    assert scores(f)["rating"] == round(expected, 2)
    assert scores(f)["reviews"] == len(ratings)


def test_the_rating_formula_on_its_own() -> None:
    terms = KarmaTerms(prior_mean=Decimal("4.0"), prior_weight=5)
    assert rating(Track(), terms) is None
    assert rating(Track(rating_sum=0, rating_n=0, karma=80), terms) is None
    assert rating(Track(rating_sum=5, rating_n=1), terms) == 4.17  # (20 + 5) / 6
    assert rating(Track(rating_sum=11, rating_n=3), terms) == 3.88  # (20 + 11) / 8 = 3.875
    assert rating(Track(rating_sum=5000, rating_n=1000), terms) == 5.0  # 5020 / 1005 = 4.995…, to 2 places


def test_a_rulebook_with_reviews_only_still_rates(partners: Rulebook) -> None:
    text = PARTNERS.replace("""\
karma:
  start: 50
  clean_booking: 1
  incident: {minor: 5, major: 15, fatal: 50}
  bonus_per_clean_booking: "100.00"
""", "")
    f = fold(book(text), [partner_cp(), review_of("rv-1", 3, 5)], until=t(5))
    assert scores(f)["rating"] == round((20 + 5) / 6, 2)


# -- karma history --------------------------------------------------------------------------------

def test_the_karma_history_keeps_one_point_per_day(partners: Rulebook) -> None:
    history = [partner_cp(),
               booked("a1", 0), booked("a2", 0, "patient-2"), booked("a3", 0, "patient-3"),
               came("a1", 0, hour=10), came("a2", 0, "patient-2", hour=11), came("a3", 0, "patient-3", hour=12),
               incident("inc-1", CLINIC, 1, "minor", hour=18, appointment="a3"),  # same day: three changes on it
               *visit("a4", 3)]
    f = fold(partners, history, until=t(6))
    track = f.states[CLINIC].track
    assert track is not None and track.history is not None
    day1, day4 = us(t(1)) // DAY_US, us(t(4)) // DAY_US
    assert track.history == [(day1, 50 + 3 - 1 - 5), (day4, 48)]
    assert track.karma == 48


def test_the_karma_history_is_ordered_and_ends_at_the_current_karma(partners: Rulebook) -> None:
    history = [partner_cp(), *(e for n in range(10) for e in visit(f"a{n}", 2 * n)),
               incident("inc-1", CLINIC, 30, "major")]
    f = fold(partners, history, until=t(31))
    track = f.states[CLINIC].track
    assert track is not None and track.history is not None
    days = [d for d, _ in track.history]
    assert days == sorted(set(days)) and len(days) == 11
    assert track.history[-1][1] == track.karma == scores(f)["karma"] == 50 + 10 - 15


# -- the supplier scorecard -----------------------------------------------------------------------

def test_a_supplier_with_no_record_is_kept(suppliers: Rulebook) -> None:
    f = fold(suppliers, [supplier_cp(switching_cost="15000.00")], until=t(5))
    assert verdict(f, "acme") == Verdict("keep", 0, 0, 0, (), "keep")
    st = f.states["acme"]
    row = supplier_scores(st, f.engine.table(st, us(t(5))), us(t(5)))
    assert (row["class"], row["weighted"], row["evidence"], row["switching_cost"]) == ("keep", 0, [], "15000.00")


def test_weights_count_incidents_and_late_deliveries_with_the_evidence(suppliers: Rulebook) -> None:
    f = fold(suppliers, [supplier_cp(), incident("i1", "acme", 10, "minor"), incident("i2", "acme", 20, "major"),
                         delivered("d1", "acme", 30, 25), delivered("d2", "acme", 40, 45)], until=t(50))
    v = verdict(f, "acme")
    assert (v.klass, v.weighted, v.incidents, v.late) == ("keep", 1 + 3 + 1, 2, 1)
    assert v.evidence == ("i1", "i2", "d1"), "the delivery on time is not evidence"


def test_a_severity_without_a_weight_weighs_as_much_as_the_heaviest(suppliers: Rulebook) -> None:
    b = supplier_book("  window: 365d\n  weights: {minor: 1, major: 4}\n  replace_if: {weighted_at_least: 100}")
    f = fold(b, [supplier_cp(), incident("i1", "acme", 10, "fatal"), delivered("d1", "acme", 30, 25)], until=t(50))
    v = verdict(f, "acme")
    assert (v.klass, v.weighted) == ("keep", 4 + 1), "no late_delivery weight: a late delivery weighs 1"


def test_incidents_leave_the_scorecard_window() -> None:
    b = supplier_book("  window: 30d\n  weights: {minor: 1, major: 3}\n  replace_if: {weighted_at_least: 6}")
    f = fold(b, [supplier_cp(), incident("i1", "acme", 10, "major"), incident("i2", "acme", 20, "major")],
             until=t(21))
    assert (verdict(f, "acme").klass, verdict(f, "acme").weighted) == ("replace", 6)
    left = us(t(10, 15)) + 30 * DAY_US  # i1 is exactly a window old: it has left
    assert verdict(f, "acme", left - 1).klass == "replace"
    v = verdict(f, "acme", left)
    assert (v.klass, v.weighted, v.incidents, v.evidence) == ("keep", 3, 1, ("i2",))
    assert verdict(f, "acme", t(60)) == Verdict("keep", 0, 0, 0, (), "keep")


def test_incidents_that_left_the_window_are_forgotten_as_new_ones_come() -> None:
    b = supplier_book("  window: 30d\n  weights: {minor: 1, major: 3}\n  replace_if: {weighted_at_least: 6}")
    f = fold(b, [supplier_cp(), incident("i1", "acme", 10, "major"), incident("i2", "acme", 50, "major"),
                 incident("i3", "acme", 60, "major")], until=t(61))
    track = f.states["acme"].track
    assert track is not None
    assert [i.event for i in track.incidents] == ["i2", "i3"]
    assert track.incidents_total == 3
    assert (verdict(f, "acme").klass, verdict(f, "acme").evidence) == ("replace", ("i2", "i3"))


def test_late_deliveries_leave_the_scorecard_window() -> None:
    b = supplier_book("  window: 60d\n  weights: {late_delivery: 2}\n  replace_if: {late_at_least: 2}")
    f = fold(b, [supplier_cp(), delivered("d1", "acme", 10, 5), delivered("d2", "acme", 40, 30),
                 delivered("d3", "acme", 45, 50)], until=t(46))
    v = verdict(f, "acme")
    assert (v.klass, v.late, v.weighted, v.evidence) == ("replace", 2, 4, ("d1", "d2"))
    left = us(t(10, 15)) + 60 * DAY_US
    assert verdict(f, "acme", left - 1).klass == "replace"
    v = verdict(f, "acme", left)
    assert (v.klass, v.late, v.weighted, v.evidence) == ("keep", 1, 2, ("d2",))


def test_late_deliveries_count_over_a_window_longer_than_a_year() -> None:
    b = supplier_book("  window: 730d\n  weights: {late_delivery: 1}\n  replace_if: {late_at_least: 2}")
    f = fold(b, [supplier_cp(), delivered("d1", "acme", 10, 5), delivered("d2", "acme", 420, 410)], until=t(421))
    v = verdict(f, "acme")
    assert (v.klass, v.late, v.evidence) == ("replace", 2, ("d1", "d2")), \
        "d1 is 410 days old, well inside the 730-day window"


def test_incidents_count_over_a_window_longer_than_a_year() -> None:
    b = supplier_book("  window: 730d\n  weights: {major: 3}\n  replace_if: {weighted_at_least: 6}")
    f = fold(b, [supplier_cp(), incident("i1", "acme", 10, "major"), incident("i2", "acme", 420, "major")],
             until=t(421))
    assert (verdict(f, "acme").klass, verdict(f, "acme").evidence) == ("replace", ("i1", "i2"))


@pytest.mark.parametrize(("severity", "klass"), [("minor", "keep"), ("major", "drop"), ("fatal", "keep")])
def test_drop_if_by_severity(severity: str, klass: str) -> None:
    b = supplier_book("  window: 365d\n  weights: {minor: 1, major: 3, fatal: 5}\n  drop_if: {severity: major}\n"
                      "  replace_if: {weighted_at_least: 100}")
    f = fold(b, [supplier_cp(), incident("i1", "acme", 10, severity, category="downtime")], until=t(11))
    v = verdict(f, "acme")
    assert v.klass == klass
    if klass == "drop":
        assert (v.evidence, v.reason) == (("i1",), "drop:severity = major")


@pytest.mark.parametrize(("category", "klass"), [("fraud", "drop"), ("downtime", "keep"), (None, "keep")])
def test_drop_if_by_category(category: str | None, klass: str) -> None:
    b = supplier_book("  window: 365d\n  weights: {minor: 1, major: 3}\n  drop_if: {category: fraud}\n"
                      "  replace_if: {weighted_at_least: 100}")
    extra: dict[str, Any] = {} if category is None else {"category": category}
    f = fold(b, [supplier_cp(), incident("i0", "acme", 5, "major", category="downtime"),
                 incident("i1", "acme", 10, "minor", **extra)], until=t(11))
    v = verdict(f, "acme")
    assert (v.klass, v.weighted, v.incidents) == (klass, 4, 2)
    if klass == "drop":
        assert (v.evidence, v.reason) == (("i1",), "drop:category = fraud"), "the evidence is the incident alone"


@pytest.mark.parametrize(("severity", "category", "klass"), [
    ("major", "fraud", "drop"), ("minor", "fraud", "keep"), ("major", "downtime", "keep")])
def test_drop_if_with_two_fields_needs_both(severity: str, category: str, klass: str) -> None:
    b = supplier_book("  window: 365d\n  weights: {minor: 1, major: 3}\n"
                      "  drop_if: {severity: major, category: fraud}")
    f = fold(b, [supplier_cp(), incident("i1", "acme", 10, severity, category=category)], until=t(11))
    assert verdict(f, "acme").klass == klass


def test_an_incident_that_left_the_window_no_longer_drops(suppliers: Rulebook) -> None:
    f = fold(suppliers, [supplier_cp(), incident("i1", "acme", 10, "fatal")], until=t(11))
    assert verdict(f, "acme").klass == "drop"
    assert verdict(f, "acme", us(t(10, 15)) + 365 * DAY_US).klass == "keep"


# replace_if, each test at its threshold and one below it
REPLACE_CASES = [  # (the test, the record: severities and "late" deliveries, the class)
    ("weighted_at_least: 6", ["major", "major"], "replace"),
    ("weighted_at_least: 6", ["major", "minor", "minor"], "keep"),
    ("weighted_at_least: 6", ["major", "minor", "late", "late"], "replace"),
    ("late_at_least: 2", ["late", "late"], "replace"),
    ("late_at_least: 2", ["late", "major", "major"], "keep"),
    ("incidents_at_least: 3", ["minor", "minor", "minor"], "replace"),
    ("incidents_at_least: 3", ["minor", "minor", "late", "late"], "keep"),
]


@pytest.mark.parametrize(("test", "record", "klass"), REPLACE_CASES)
def test_replace_if_each_test(test: str, record: list[str], klass: str) -> None:
    b = supplier_book(f"  window: 365d\n  weights: {{minor: 1, major: 3, late_delivery: 1}}\n"
                      f"  replace_if: {{{test}}}")
    history: list[dict[str, Any]] = [supplier_cp()]
    for n, what in enumerate(record, 1):
        if what == "late":
            history.append(delivered(f"d{n}", "acme", 10 + n, 5))
        else:
            history.append(incident(f"i{n}", "acme", 10 + n, what))
    f = fold(b, history, until=t(30))
    v = verdict(f, "acme")
    assert v.klass == klass
    name = test.split(":", maxsplit=1)[0]
    if klass == "replace":
        assert v.reason == f"replace:{name}"
        assert set(v.evidence) == {f"{'d' if what == 'late' else 'i'}{n}" for n, what in enumerate(record, 1)}


def test_replace_if_any_of_several_tests_is_enough() -> None:
    b = supplier_book("  window: 365d\n  weights: {minor: 1, major: 3}\n"
                      "  replace_if: {weighted_at_least: 10, late_at_least: 5, incidents_at_least: 2}")
    f = fold(b, [supplier_cp(), incident("i1", "acme", 10, "minor"), incident("i2", "acme", 11, "minor")],
             until=t(12))
    assert (verdict(f, "acme").klass, verdict(f, "acme").reason) == ("replace", "replace:incidents_at_least")


def test_drop_comes_before_replace(suppliers: Rulebook) -> None:
    history = [supplier_cp(), *(incident(f"i{n}", "acme", n, "major") for n in range(1, 4)),
               incident("i9", "acme", 9, "fatal")]
    v = verdict(fold(suppliers, history, until=t(10)), "acme")
    assert (v.klass, v.evidence, v.weighted) == ("drop", ("i9",), 3 * 3 + 3)


def test_a_dismissed_fatal_incident_no_longer_drops_the_supplier(suppliers: Rulebook) -> None:
    f = fold(suppliers, [supplier_cp(), incident("i1", "acme", 10, "fatal")], until=t(11))
    assert verdict(f, "acme").klass == "drop"
    (proposal,) = f.decisions("acme", "service_quality", action="terminate")
    assert proposal.status == "proposed"
    f.feed([review(proposal, "dismiss", t(12))], until=t(13))
    assert f.decisions("acme", action="terminate")[0].status == "dismissed"
    v = verdict(f, "acme")
    assert (v.klass, v.weighted, v.incidents) == ("keep", 3, 1), "still weighed, but no longer grounds to part"
    assert f.status("acme") == "active"
    track = f.states["acme"].track
    assert track is not None and track.excused == ["i1"]


def test_an_approved_fatal_incident_still_drops_the_supplier(suppliers: Rulebook) -> None:
    f = fold(suppliers, [supplier_cp(), incident("i1", "acme", 10, "fatal")], until=t(11))
    (proposal,) = f.decisions("acme", action="terminate")
    f.feed([review(proposal, "approve", t(12))], until=t(13))
    assert (verdict(f, "acme").klass, f.status("acme")) == ("drop", "terminated")


def test_a_new_fatal_incident_after_a_dismissal_drops_again(suppliers: Rulebook) -> None:
    f = fold(suppliers, [supplier_cp(), incident("i1", "acme", 10, "fatal")], until=t(11))
    (proposal,) = f.decisions("acme", action="terminate")
    f.feed([review(proposal, "dismiss", t(12)), incident("i2", "acme", 20, "fatal")], until=t(21))
    v = verdict(f, "acme")
    assert (v.klass, v.evidence) == ("drop", ("i2",))
    assert [d.status for d in f.decisions("acme", action="terminate")] == ["dismissed", "proposed"]


def test_dismissing_a_proposal_excuses_every_fatal_incident_it_stood_on(suppliers: Rulebook) -> None:
    """A second fatal incident while the termination is open adds its evidence to that proposal (RULEBOOK.md,
    "Open proposals"); a person who dismisses it has judged both incidents."""
    f = fold(suppliers, [supplier_cp(), incident("i1", "acme", 10, "fatal"), incident("i2", "acme", 11, "fatal")],
             until=t(12))
    (proposal,) = f.decisions("acme", action="terminate")
    assert proposal.evidence == ("i1", "i2")
    f.feed([review(proposal, "dismiss", t(13))], until=t(14))
    assert not f.states["acme"].proposals, "nothing is left for a person to decide"
    assert verdict(f, "acme").klass != "drop"


def test_the_supplier_row_carries_switching_cost_and_the_why_in_the_suppliers_locale(suppliers: Rulebook) -> None:
    history = [supplier_cp("acme", switching_cost="40000.00"), supplier_cp("intl", locale="en"),
               incident("a1", "acme", 10, "fatal"), incident("b1", "intl", 10, "fatal")]
    f = fold(suppliers, history, until=t(11))
    now = us(t(11))
    ru = supplier_scores(f.states["acme"], f.engine.table(f.states["acme"], now), now)
    en = supplier_scores(f.states["intl"], f.engine.table(f.states["intl"], now), now)
    assert (ru["class"], ru["evidence"], ru["switching_cost"], ru["incidents"]) == ("drop", ["a1"], "40000.00", 1)
    assert ru["reason"].startswith("Расстаться") and "a1" in ru["reason"]
    assert (en["class"], en["switching_cost"]) == ("drop", None)
    assert en["reason"].startswith("Drop") and "b1" in en["reason"]


# -- the verdict in words -------------------------------------------------------------------------

CARD = ScorecardTerms(365 * DAY_US, {"minor": 1, "major": 3, "late_delivery": 1}, {"severity": "fatal"},
                      {"weighted_at_least": 6})


def test_the_verdict_sentence_for_drop_in_ru_and_en() -> None:
    v = Verdict("drop", 8, 0, 2, ("ins-1",), "drop:severity = fatal")
    ru, en = verdict_sentence(v, CARD, "ru"), verdict_sentence(v, CARD, "en")
    assert ru.startswith("Расстаться:") and "ins-1" in ru and "«severity fatal»" in ru
    assert en.startswith("Drop:") and "ins-1" in en and '"severity fatal"' in en, "the condition in words, no keys"


def test_the_verdict_sentence_for_replace_in_ru_and_en() -> None:
    v = Verdict("replace", 11, 2, 5, ("p1", "p2"), "replace:weighted_at_least")
    ru, en = verdict_sentence(v, CARD, "ru"), verdict_sentence(v, CARD, "en")
    assert ru.startswith("Искать замену:")
    assert "11 баллов" in ru and "5 инцидентов" in ru and "сумма баллов не меньше 6" in ru
    assert en == ("Replace: 11 points in the window (5 incidents, 2 late deliveries); "
                  "the threshold is a total of 6 points or more.")


def test_the_verdict_sentence_for_keep_in_ru_and_en() -> None:
    v = Verdict("keep", 0, 0, 0, (), "keep")
    assert verdict_sentence(v, CARD, "ru").startswith("Оставить:")
    assert verdict_sentence(v, CARD, "en") == "Keep: 0 points in the window (0 incidents, 0 late deliveries)."


@pytest.mark.parametrize(("lang", "expected"), [
    ("en", "Keep: 1 point in the window (1 incident, 0 late deliveries)."),
    ("ru", "Оставить: 1 балл за период (1 инцидент, 0 просрочек)."),
], ids=["en", "ru"])
def test_the_verdict_sentence_agrees_numbers_with_nouns(lang: str, expected: str) -> None:
    v = Verdict("keep", 1, 0, 1, ("i1",), "keep")
    assert verdict_sentence(v, CARD, lang) == expected


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_the_verdict_sentence_of_a_folded_supplier(suppliers: Rulebook, lang: str) -> None:
    f = fold(suppliers, [supplier_cp(), incident("i1", "acme", 10, "major"), incident("i2", "acme", 11, "major")],
             until=t(12))
    sentence = verdict_sentence(verdict(f, "acme"), CARD, lang)
    assert ("Искать замену" if lang == "ru" else "Replace") in sentence and "6" in sentence


# -- the rulebook sections, validated ---------------------------------------------------------------

SECTIONS = """\
rulebook: network
version: "1"
title: Partner network
locale: en
currency: RUB
timezone: Europe/Moscow
applies_to: [partner, supplier]

account:
  mode: prepaid
  low_balance: "5000.00"
  top_up: "30000.00"
  credit_limit: "1000.00"

cost_to_serve:
  period: 90d
  flag_ratio: 3

karma:
  start: 50
  clean_booking: 1
  incident:
    minor: 5
    major: 15
    fatal: 50
  bonus_per_clean_booking: "100.00"

reviews:
  prior_mean: 4.0
  prior_weight: 5

scorecard:
  window: 365d
  weights:
    minor: 1
    major: 3
    late_delivery: 1
  drop_if:
    severity: fatal
  replace_if:
    weighted_at_least: 6

ladders:
  partner:
    window: 180d
    steps:
      - feedback
      - warning

rules:
  booking_handling:
    title: Patients booked through us are seen on time
    kind: incident
    weight: {minor: 1, major: 1}
    ladder: partner
"""


def test_the_score_sections_load_into_the_terms_the_engine_reads() -> None:
    b = book(SECTIONS)
    assert set(b.extra) == {"account", "cost_to_serve", "karma", "reviews", "scorecard"}
    table = Policy([b]).table("partner", None, 0)
    assert table.karma == KarmaTerms(50, 1, {"minor": 5, "major": 15, "fatal": 50}, Decimal("100.00"),
                                     Decimal("4.0"), 5)
    assert table.scorecard == ScorecardTerms(365 * DAY_US, {"minor": 1, "major": 3, "late_delivery": 1},
                                             {"severity": "fatal"}, {"weighted_at_least": 6})
    assert table.account is not None
    assert (table.account.mode, table.account.low_balance, table.account.top_up, table.account.credit_limit) == (
        "prepaid", Decimal("5000.00"), Decimal("30000.00"), Decimal("1000.00"))
    assert table.cost_period_us == 90 * DAY_US and table.flag_ratio == 3


@pytest.mark.parametrize(("original", "broken", "field", "needle", "says"), [
    ('  credit_limit: "1000.00"\n', '  credit_limit: "1000.00"\n  overdraft: "500.00"\n', "account.overdraft",
     "overdraft:", "unknown field; expected mode, low_balance, top_up or credit_limit"),
    ('  top_up: "30000.00"\n', "", "account", "account:", "low_balance and top_up go together"),
    ('  low_balance: "5000.00"\n', "", "account", "account:", "low_balance and top_up go together"),
    ("  mode: prepaid\n", "  mode: credit\n", "account.mode", "mode: credit", "must be prepaid or postpaid"),
    ('  low_balance: "5000.00"\n', "  low_balance: 5000.0\n", "account.low_balance", "low_balance: 5000.0",
     "decimal string"),
    ("  start: 50\n", "  start: 50.5\n", "karma.start", "start: 50.5",
     "must be a whole number from -1,000,000 to 1,000,000, got 50.5"),
    ("  start: 50\n", "  start: fifty\n", "karma.start", "start: fifty", "must be a whole number"),
    ("  clean_booking: 1\n", "  clean_booking: -1\n", "karma.clean_booking", "clean_booking: -1",
     "must be a whole number from 0"),
    ("  clean_booking: 1\n", "  clean_booking: 1\n  clean_bookings: 2\n", "karma.clean_bookings",
     "clean_bookings: 2", "unknown field"),
    ("    major: 15\n", "    major: lots\n", "karma.incident.major", "major: lots", "must be a whole number"),
    ('  bonus_per_clean_booking: "100.00"\n', "  bonus_per_clean_booking: 100.5\n",
     "karma.bonus_per_clean_booking", "bonus_per_clean_booking: 100.5", "decimal string"),
    ("  prior_mean: 4.0\n", "  prior_mean: 6\n", "reviews.prior_mean", "prior_mean: 6",
     "must be a number from 1 to 5, got 6"),
    ("  prior_mean: 4.0\n", "  prior_mean: 0.5\n", "reviews.prior_mean", "prior_mean: 0.5",
     "must be a number from 1 to 5"),
    ("  prior_weight: 5\n", "  prior_weight: -1\n", "reviews.prior_weight", "prior_weight: -1",
     "must be a number from 0"),
    ("    severity: fatal\n", "    vendor: acme\n", "scorecard.drop_if.vendor", "vendor: acme",
     "an incident is matched by severity or category"),
    ("    weighted_at_least: 6\n", "    weighted_more_than: 6\n", "scorecard.replace_if.weighted_more_than",
     "weighted_more_than: 6", "unknown field; expected incidents_at_least, late_at_least, weighted_at_least"),
    ("    weighted_at_least: 6\n", "    weighted_at_least: 2.5\n", "scorecard.replace_if.weighted_at_least",
     "weighted_at_least: 2.5", "must be a whole number from 0"),
    ("  window: 365d\n  weights", "  window: a year\n  weights", "scorecard.window", "window: a year", ""),
    ("  window: 365d\n  weights", "  window: 365\n  weights", "scorecard.window", "window: 365", ""),
    ("    late_delivery: 1\n", "    late_delivery: 1.5\n", "scorecard.weights.late_delivery", "late_delivery: 1.5",
     "must be a whole number"),
    ("  replace_if:\n", "  keep_if:\n    weighted_below: 6\n  replace_if:\n", "scorecard.keep_if", "keep_if:",
     "unknown field; expected window, weights, drop_if or replace_if"),
    ("  period: 90d\n", "  period: quarterly\n", "cost_to_serve.period", "period: quarterly", ""),
    ("  flag_ratio: 3\n", "  flag_ratio: 0\n", "cost_to_serve.flag_ratio", "flag_ratio: 0",
     "must be a number from 0.01"),
])
def test_a_bad_score_setting_is_named_with_its_file_line_and_field(original: str, broken: str, field: str,
                                                                   needle: str, says: str) -> None:
    assert SECTIONS.count(original) == 1, original
    text = SECTIONS.replace(original, broken)
    problem = only(problems(text, "network.yaml"), field)
    assert_reported(problem, text, needle, "network.yaml")
    assert str(problem).startswith(f"network.yaml:{line_of(text, needle)}: {field}: ")
    assert says in problem.message


def test_a_section_that_is_not_a_mapping_is_named() -> None:
    text = SECTIONS.replace("reviews:\n  prior_mean: 4.0\n  prior_weight: 5\n", "reviews: lots\n")
    assert_reported(only(problems(text), "reviews"), text, "reviews: lots")


def test_problems_in_several_score_sections_are_reported_at_once() -> None:
    text = (SECTIONS.replace("  start: 50\n", "  start: 50.5\n")
            .replace("  prior_mean: 4.0\n", "  prior_mean: 9\n")
            .replace("    weighted_at_least: 6\n", "    weighted_more_than: 6\n")
            .replace('  top_up: "30000.00"\n', ""))
    found = problems(text)
    assert [p.field for p in found] == ["account", "karma.start", "reviews.prior_mean",
                                        "scorecard.replace_if.weighted_more_than"]
    lines = [p.line or 0 for p in found]
    assert lines == sorted(lines)


# -- the contract appendix ----------------------------------------------------------------------------

def sections_book(locale: str) -> Rulebook:
    return book(SECTIONS.replace("locale: en", f"locale: {locale}"))


YAML_WORDS = ("low_balance", "top_up", "credit_limit", "flag_ratio", "clean_booking", "bonus_per_clean_booking",
              "prior_mean", "prior_weight", "weighted_at_least", "late_at_least", "incidents_at_least", "drop_if",
              "replace_if", "late_delivery", "365d", "90d")


def test_the_english_appendix_states_the_account_karma_reviews_and_scorecard_in_plain_words() -> None:
    text = render_markdown(sections_book("en"), "en")
    for line in (
        "## Prepaid account",
        "Services are paid in advance",
        "When the balance falls below RUB5,000.00, we send one invoice to top up RUB30,000.00",
        "A service that would take the balance below −RUB1,000.00 is not rendered on credit",
        "what the balance cannot cover is due",
        "## Cost to serve",
        "over 90 days; at 3 times the usual or more",
        "## Partner rating (karma)",
        "Karma starts at 50; each clean booking (the patient was seen, no incident) adds 1",
        "minor −5, major −15, critical −50",
        "Each clean booking earns a bonus of RUB100.00; if an incident is reported for that booking later, "
        "its bonus is taken back.",
        "as if 5 reviews of 4 were added to them. Unpublished reviews do not count.",
        "## Supplier scorecard",
        "We assess the work over 365 days: minor — 1, major — 3, a late delivery — 1.",
        "Grounds to part at once: any incident with severity = critical.",
        "Grounds to look for a replacement: a total of 6 points or more.",
    ):
        assert line in text, line
    for word in YAML_WORDS:
        assert word not in text, f"{word!r} is the rulebook's name for it, not a reader's"


def test_the_russian_appendix_states_the_account_karma_reviews_and_scorecard_in_plain_words() -> None:
    text = render_markdown(sections_book("ru"), "ru")
    for line in (
        "## Предоплаченный счёт",
        "Когда баланс опускается ниже 5\xa0000,00\xa0₽, мы выставляем счёт на пополнение на 30\xa0000,00\xa0₽",
        "ниже −1\xa0000,00\xa0₽, не оказывается в долг",
        "## Стоимость обслуживания",
        "за 90 дней; если они в 3 раза",
        "## Рейтинг партнёра (карма)",
        "Карма начинается с 50; каждая чистая запись (пациент принят, инцидентов нет) добавляет 1",
        "За каждую чистую запись начисляется бонус 100,00\xa0₽; если по записи позже поступит инцидент, "
        "бонус за неё снимается.",
        "как будто к ним добавлено 5 отзывов с оценкой 4. Неопубликованные отзывы в рейтинг не входят.",
        "## Оценка поставщика",
        "Мы оцениваем работу за 365 дней: лёгкий — 1, серьёзный — 3, просрочка поставки — 1.",
        "Условие расставания: любой инцидент с признаком тяжесть = критический.",
        "Повод искать замену: сумма баллов не меньше 6.",
    ):
        assert line in text, line
    for word in YAML_WORDS:
        assert word not in text, f"{word!r} is the rulebook's name for it, not a reader's"


def test_the_appendix_follows_the_requested_language_not_the_rulebooks() -> None:
    assert render_markdown(sections_book("ru"), "en") == render_markdown(sections_book("en"), "en")
    assert "## Оценка поставщика" in render_markdown(sections_book("en"), "ru")


@pytest.mark.parametrize(("lang", "expected"), [
    ("en", "a total of 6 points or more or 2 late deliveries or more or 4 incidents or more"),
    ("ru", "сумма баллов не меньше 6 или просрочек не меньше 2 или инцидентов не меньше 4"),
])
def test_every_replacement_test_is_spelled_out(lang: str, expected: str) -> None:
    text = SECTIONS.replace("    weighted_at_least: 6\n",
                            "    weighted_at_least: 6\n    late_at_least: 2\n    incidents_at_least: 4\n")
    assert expected in render_markdown(book(text), lang)


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_a_prepaid_account_without_a_credit_limit_is_never_on_credit(lang: str) -> None:
    text = SECTIONS.replace('  credit_limit: "1000.00"\n', "")
    heading = "## Предоплаченный счёт" if lang == "ru" else "## Prepaid account"
    section = render_markdown(book(text), lang).split(heading)[1].split("## ")[0]
    assert ("на которую не хватает средств" if lang == "ru" else "the balance cannot pay for") in section
    assert "−" not in section, "no limit below zero is promised"


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_a_postpaid_account_is_not_called_prepaid(lang: str) -> None:
    text = SECTIONS.replace("  mode: prepaid\n", "  mode: postpaid\n")
    rendered = render_markdown(book(text), lang)
    assert ("оплачиваются по счетам" if lang == "ru" else "paid by invoice") in rendered
    assert ("Предоплаченный" if lang == "ru" else "Prepaid") not in rendered


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_the_html_appendix_has_the_score_sections_as_headings(lang: str) -> None:
    html = render_html(sections_book(lang), lang)
    headings = {"ru": ["Предоплаченный счёт", "Стоимость обслуживания", "Рейтинг партнёра (карма)",
                       "Оценка поставщика"],
                "en": ["Prepaid account", "Cost to serve", "Partner rating (karma)", "Supplier scorecard"]}[lang]
    for heading in headings:
        assert f"<h2>{heading}</h2>" in html
    assert {"ru": "100,00\xa0₽", "en": "RUB100.00"}[lang] in html


def test_a_rulebook_without_score_sections_renders_none(clinic: Rulebook, partners: Rulebook) -> None:
    for lang in ("ru", "en"):
        text = render_markdown(clinic, lang)
        for heading in ("Prepaid account", "Cost to serve", "Partner rating", "Supplier scorecard",
                        "Предоплаченный счёт", "Стоимость обслуживания", "Рейтинг партнёра", "Оценка поставщика"):
            assert heading not in text
    assert "Karma starts at 50" in render_markdown(partners, "en")
