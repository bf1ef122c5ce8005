"""Each rule kind of RULEBOOK.md ("Rule kinds" and "Fine points"), folded through the engine."""

from __future__ import annotations

from decimal import Decimal

import pytest
from tests.unit.conftest import Fold, book, events, fold, msk, raw, us

from firmly.domain.engine import Decision
from firmly.domain.rulebook import Rulebook

# -- notice --------------------------------------------------------------------------------------


def booked(cp: str, appointment: str, at: str, starts: str, **extra: str) -> dict[str, object]:
    return raw(f"{appointment}-book", "appointment.booked", cp, msk(at), appointment=appointment,
               starts_at=msk(starts), **extra)


def cancelled(cp: str, appointment: str, at: str, **extra: str) -> dict[str, object]:
    return raw(f"{appointment}-cancel", "appointment.cancelled", cp, msk(at), appointment=appointment,
               **extra)


def rule_view(f: Fold, cp: str, rule: str, now: str) -> dict[str, object]:
    view: dict[str, object] = f.show(cp, msk(now))["rules"][rule]
    return view


def test_a_cancellation_with_less_notice_than_required_is_a_breach(clinic: Rulebook) -> None:
    f = fold(clinic, [booked("anna", "a1", "2026-03-01T10:00", "2026-03-10T10:00"),
                      cancelled("anna", "a1", "2026-03-09T20:00")], until=msk("2026-03-11T00:00"))
    (d,) = f.decisions("anna", "late_cancellation", action="feedback")
    assert (d.status, d.event, d.evidence, d.step) == ("applied", "a1-cancel", ("a1-cancel",), 1)
    assert d.at == us(msk("2026-03-09T20:00"))
    assert rule_view(f, "anna", "late_cancellation", "2026-03-11T00:00") | {"step": None} == {
        "strikes": 1, "step": None, "kept_streak": 0, "broken": 1, "kept": 0}


@pytest.mark.parametrize("cancel_at", ["2026-03-09T10:00", "2026-03-07T10:00", "2026-03-01T11:00"])
def test_a_cancellation_with_enough_notice_keeps_the_rule(clinic: Rulebook, cancel_at: str) -> None:
    f = fold(clinic, [booked("anna", "a1", "2026-03-01T10:00", "2026-03-10T10:00"),
                      cancelled("anna", "a1", cancel_at)], until=msk("2026-03-11T00:00"))
    assert f.actions("anna") == []
    view = rule_view(f, "anna", "late_cancellation", "2026-03-11T00:00")
    assert (view["strikes"], view["broken"], view["kept"]) == (0, 0, 1)


@pytest.mark.parametrize("by", ["provider", "partner"])
def test_a_cancellation_by_someone_else_is_not_the_clients_breach(clinic: Rulebook, by: str) -> None:
    f = fold(clinic, [booked("anna", "a1", "2026-03-01T10:00", "2026-03-10T10:00"),
                      cancelled("anna", "a1", "2026-03-10T09:00", by=by)], until=msk("2026-03-11T00:00"))
    assert f.actions("anna") == []
    assert rule_view(f, "anna", "late_cancellation", "2026-03-11T00:00")["broken"] == 0


def test_a_cancellation_by_the_client_is_judged_when_by_is_said(clinic: Rulebook) -> None:
    f = fold(clinic, [booked("anna", "a1", "2026-03-01T10:00", "2026-03-10T10:00"),
                      cancelled("anna", "a1", "2026-03-10T09:00", by="client")],
             until=msk("2026-03-11T00:00"))
    assert f.actions("anna", "late_cancellation") == ["feedback"]


def test_notice_counts_back_from_the_rescheduled_start(clinic: Rulebook) -> None:
    f = fold(clinic, [
        booked("anna", "a1", "2026-03-01T10:00", "2026-03-10T10:00"),
        raw("a1-move", "appointment.rescheduled", "anna", msk("2026-03-05T10:00"), appointment="a1",
            starts_at=msk("2026-03-20T10:00"), by="client"),
        cancelled("anna", "a1", "2026-03-15T10:00"),  # after the old start, five days before the new one
    ], until=msk("2026-03-21T00:00"))
    assert f.actions("anna", "late_cancellation") == []
    assert rule_view(f, "anna", "late_cancellation", "2026-03-21T00:00")["kept"] == 1


def test_a_cancellation_of_an_unknown_appointment_is_not_judged(clinic: Rulebook) -> None:
    f = fold(clinic, [cancelled("anna", "ghost", "2026-03-09T20:00")], until=msk("2026-03-11T00:00"))
    assert f.actions("anna") == []
    assert rule_view(f, "anna", "late_cancellation", "2026-03-11T00:00")["broken"] == 0


# -- forbidden -----------------------------------------------------------------------------------

def test_a_forbidden_event_is_a_breach_and_its_kept_by_keeps_the_rule(clinic: Rulebook) -> None:
    f = fold(clinic, [
        booked("gleb", "g1", "2026-03-01T10:00", "2026-03-05T10:00"),
        raw("g1-noshow", "appointment.no_show", "gleb", msk("2026-03-05T10:30"), appointment="g1"),
        booked("gleb", "g2", "2026-03-06T10:00", "2026-03-12T10:00"),
        raw("g2-came", "appointment.attended", "gleb", msk("2026-03-12T10:05"), appointment="g2"),
    ], until=msk("2026-03-13T00:00"))
    assert f.actions("gleb", "no_show") == ["feedback", "thanks"]
    (feedback,) = f.decisions("gleb", "no_show", action="feedback")
    assert feedback.event == "g1-noshow"
    view = rule_view(f, "gleb", "no_show", "2026-03-13T00:00")
    assert (view["strikes"], view["broken"], view["kept"], view["kept_streak"]) == (1, 1, 1, 1)
    assert f.status("gleb", msk("2026-03-13T00:00")) == "active", "one no-show is feedback, nothing harsher"


# -- deadline ------------------------------------------------------------------------------------

BILLING = """\
rulebook: billing
version: "1"
title: Billing
locale: en
currency: RUB
timezone: Europe/Moscow
applies_to: [client]
ladders:
  inform:
    window: 365d
    steps: [feedback, warning]
rules:
  pay_on_time:
    title: Pay by the due date
    kind: deadline
    expect: payment.received
    due: invoice.due_at
    grace: 2h
    remind:
      before: invoice.due_at
      at: [72h, 24h]
    ladder: inform
"""

DUE = "2026-03-10T18:00"  # + 2h of grace: broken from 20:00 Moscow time


def issued(invoice: str = "inv-1", due: str = DUE, **extra: str) -> dict[str, object]:
    return raw(f"{invoice}-issued", "invoice.issued", "kira", msk("2026-03-01T10:00"), invoice=invoice,
               amount="3000.00", due_at=msk(due), **extra)


def paid(at: str, invoice: str = "inv-1", **extra: str) -> dict[str, object]:
    return raw(f"{invoice}-paid", "payment.received", "kira", msk(at), invoice=invoice, amount="3000.00",
               **extra)


@pytest.fixture(scope="module")
def billing() -> Rulebook:
    return book(BILLING)


def test_a_deadline_is_not_broken_before_due_plus_grace(billing: Rulebook) -> None:
    f = fold(billing, [issued()], until=msk("2026-03-10T19:59"))
    assert f.actions("kira") == []


def test_the_deadline_timer_fires_past_due_plus_grace_and_cites_the_event_that_set_it(
        billing: Rulebook) -> None:
    f = fold(billing, [issued()], until=msk("2026-03-10T20:01"))
    (d,) = f.decisions("kira", "pay_on_time", action="feedback")
    assert d.event == "inv-1-issued"
    assert "inv-1-issued" in d.evidence
    assert d.at == us(msk("2026-03-10T20:00"))
    assert d.status == "applied"


@pytest.mark.parametrize("late_payment", ["2026-03-10T20:30", "2026-03-12T10:00", "2026-04-01T10:00"])
def test_a_late_payment_after_the_timer_adds_no_second_strike(billing: Rulebook, late_payment: str) -> None:
    f = fold(billing, [issued(), paid(late_payment)], until=msk("2026-04-02T00:00"))
    assert f.actions("kira", "pay_on_time") == ["feedback"]
    view = rule_view(f, "kira", "pay_on_time", "2026-04-02T00:00")
    assert (view["strikes"], view["broken"]) == (1, 1)


def test_a_late_payment_counts_once_also_when_the_clock_passed_the_deadline_first(billing: Rulebook) -> None:
    f = fold(billing, [issued()], until=msk("2026-03-11T00:00"))
    assert f.actions("kira", "pay_on_time") == ["feedback"]
    st = f.states["kira"]
    more: list[Decision] = []
    for ev in events([paid("2026-03-12T10:00")]):
        f.engine.apply(st, ev, more)
    f.engine.advance(st, us(msk("2026-04-01T00:00")), more)
    assert [d.action for d in more] == []
    assert rule_view(f, "kira", "pay_on_time", "2026-04-01T00:00")["broken"] == 1


@pytest.mark.parametrize("on_time", ["2026-03-05T10:00", "2026-03-10T18:00", "2026-03-10T19:30",
                                     "2026-03-10T20:00"])
def test_a_payment_by_due_plus_grace_keeps_the_deadline(billing: Rulebook, on_time: str) -> None:
    f = fold(billing, [issued(), paid(on_time)], until=msk("2026-04-01T00:00"))
    assert f.actions("kira", "pay_on_time") == []
    view = rule_view(f, "kira", "pay_on_time", "2026-04-01T00:00")
    assert (view["strikes"], view["broken"], view["kept"]) == (0, 0, 1)


def test_a_payment_cancels_the_pending_reminders_of_its_deadline(billing: Rulebook) -> None:
    f = fold(billing, [issued(), paid("2026-03-08T12:00")], until=msk("2026-04-01T00:00"))
    reminders = f.decisions("kira", "pay_on_time", action="reminder")
    assert {(d.at, d.status) for d in reminders} == {
        (us(msk("2026-03-07T18:00")), "applied"),  # 72h before: already sent
        (us(msk("2026-03-09T18:00")), "cancelled"),  # 24h before: no longer needed
    }


def test_a_reissued_invoice_moves_its_deadline(billing: Rulebook) -> None:
    moved = raw("inv-1-reissued", "invoice.issued", "kira", msk("2026-03-09T10:00"), invoice="inv-1",
                amount="3000.00", due_at=msk("2026-03-20T18:00"))
    f = fold(billing, [issued(), moved], until=msk("2026-03-15T00:00"))
    assert f.actions("kira", "pay_on_time") == []
    f = fold(billing, [issued(), moved], until=msk("2026-03-21T00:00"))
    assert f.actions("kira", "pay_on_time") == ["feedback"]


def test_a_deadline_filtered_by_when_is_kept_by_a_payment_in_time() -> None:
    filtered = book(BILLING.replace("    grace: 2h\n", '    grace: 2h\n    when: data.kind == "monthly"\n'))
    f = fold(filtered, [issued(kind="monthly"), paid("2026-03-05T10:00")], until=msk("2026-04-01T00:00"))
    assert f.actions("kira", "pay_on_time") == []
    assert rule_view(f, "kira", "pay_on_time", "2026-04-01T00:00")["broken"] == 0


def test_a_deadline_filtered_by_when_ignores_invoices_it_does_not_cover() -> None:
    filtered = book(BILLING.replace("    grace: 2h\n", '    grace: 2h\n    when: data.kind == "monthly"\n'))
    f = fold(filtered, [issued(kind="one-off")], until=msk("2026-04-01T00:00"))
    assert f.actions("kira", "pay_on_time") == []


VENDORS = """\
rulebook: vendors
version: "1"
title: Suppliers
locale: en
currency: RUB
timezone: Europe/Moscow
applies_to: [supplier]
ladders:
  supplier:
    window: 365d
    steps: [feedback, warning, {terminate: true, review: true}]
rules:
  on_time:
    title: Deliver on time
    kind: deadline
    expect: delivery.completed
    due: delivery.due_at
    ladder: supplier
"""


def delivered(n: int, at: str, due: str) -> dict[str, object]:
    return raw(f"dl-{n}", "delivery.completed", "acme", msk(at), order=f"o-{n}", due_at=msk(due))


def test_a_delivery_carrying_its_own_due_at_is_judged_by_it() -> None:
    vendor = raw("cp-acme", "counterparty.upserted", "acme", msk("2026-01-01T00:00"), kind="supplier")
    f = fold(book(VENDORS), [vendor,
                             delivered(1, "2026-03-01T10:00", "2026-03-01T12:00"),  # early
                             delivered(2, "2026-03-02T12:00", "2026-03-02T12:00"),  # just in time
                             delivered(3, "2026-03-04T09:00", "2026-03-03T18:00")],  # late
             until=msk("2026-03-05T00:00"))
    (d,) = f.decisions("acme", "on_time")
    assert (d.action, d.event) == ("feedback", "dl-3")
    view = rule_view(f, "acme", "on_time", "2026-03-05T00:00")
    assert (view["broken"], view["kept"]) == (1, 2)


CUTOFF = """\
rulebook: kitchen
version: "1"
title: Orders
locale: en
currency: RUB
timezone: Europe/Moscow
applies_to: [client]
ladders:
  inform:
    window: 365d
    steps: [feedback, warning]
rules:
  order_by_cutoff:
    title: Order by 14:00 the day before
    kind: deadline
    expect: order.submitted
    cutoff: "14:00"
    ladder: inform
"""


@pytest.mark.parametrize(("submitted", "late"), [
    ("2026-03-08T18:00:00+03:00", False),
    ("2026-03-09T13:59:00+03:00", False),
    ("2026-03-09T14:00:00+03:00", False),
    ("2026-03-09T10:59:00+00:00", False),  # 13:59 in Moscow
    ("2026-03-09T11:01:00+00:00", True),  # 14:01 in Moscow, though before 14:00 in UTC
    ("2026-03-09T14:01:00+03:00", True),
    ("2026-03-10T09:00:00+03:00", True),  # the day itself
])
def test_a_cutoff_is_that_time_on_the_day_before_in_the_rulebooks_zone(submitted: str, late: bool) -> None:
    order = raw("o-1", "order.submitted", "cafe", submitted, order="o-1", for_date="2026-03-10")
    f = fold(book(CUTOFF), [order], until=msk("2026-03-11T00:00"))
    assert f.actions("cafe", "order_by_cutoff") == (["feedback"] if late else [])
    view = rule_view(f, "cafe", "order_by_cutoff", "2026-03-11T00:00")
    assert (view["broken"], view["kept"]) == ((1, 0) if late else (0, 1))


# -- channel -------------------------------------------------------------------------------------

AGENCY = """\
rulebook: agency
version: "1"
title: Working with clients
locale: en
currency: RUB
timezone: Europe/Moscow
applies_to: [client]
ladders:
  firm:
    window: 90d
    earn_back: 5
    steps: [feedback, warning, {fee: "2000.00"}]
prices:
  quote: {title: Quote, price: "800.00"}
rules:
  single_channel:
    title: Requests through the shared mailbox or phone
    kind: channel
    allowed: ["email:orders", "phone:main"]
    ladder: firm
  quote_revisions:
    title: Two quotes per order are free
    kind: quota
    event: request.received
    when: data.topic == "quote"
    max: 2
    per: order
    bill: quote
"""


def request(n: int, at: str, channel: str = "email:orders", cp: str = "romashka", **data: object
            ) -> dict[str, object]:
    return raw(f"rq-{cp}-{n}", "request.received", cp, msk(at), request=f"r{n}", channel=channel, **data)


@pytest.fixture(scope="module")
def agency() -> Rulebook:
    return book(AGENCY)


def test_a_request_on_a_channel_not_allowed_is_a_breach(agency: Rulebook) -> None:
    f = fold(agency, [request(1, "2026-03-02T10:00", "whatsapp:personal"),
                      request(2, "2026-03-03T10:00", "phone:main"),
                      request(3, "2026-03-04T10:00", "telegram:boss")], until=msk("2026-03-05T00:00"))
    assert f.actions("romashka", "single_channel") == ["feedback", "thanks", "warning"]
    warning = f.decisions("romashka", "single_channel", action="warning")[0]
    assert warning.evidence == ("rq-romashka-1", "rq-romashka-3")
    view = rule_view(f, "romashka", "single_channel", "2026-03-05T00:00")
    assert (view["strikes"], view["broken"], view["kept"]) == (2, 2, 1)


def test_a_request_on_an_allowed_channel_keeps_the_rule(agency: Rulebook) -> None:
    f = fold(agency, [request(1, "2026-03-02T10:00", "email:orders"),
                      request(2, "2026-03-03T10:00", "phone:main")], until=msk("2026-03-05T00:00"))
    assert f.actions("romashka") == []
    assert rule_view(f, "romashka", "single_channel", "2026-03-05T00:00")["kept"] == 2


# -- quota ---------------------------------------------------------------------------------------

def test_the_request_over_the_quota_per_order_is_billed_at_the_price(agency: Rulebook) -> None:
    f = fold(agency, [request(1, "2026-03-02T10:00", topic="quote", order="o-1"),
                      request(2, "2026-03-03T10:00", topic="quote", order="o-1"),
                      request(3, "2026-03-04T10:00", topic="quote", order="o-1")],
             until=msk("2026-03-05T00:00"))
    (bill,) = f.decisions("romashka", "quote_revisions", action="bill")
    assert (bill.event, bill.amount, bill.currency) == ("rq-romashka-3", Decimal("800.00"), "RUB")
    assert bill.status == "applied"
    assert bill.rule == "quote_revisions", "a quota bill carries its rule"
    view = rule_view(f, "romashka", "quote_revisions", "2026-03-05T00:00")
    assert (view["broken"], view["kept"]) == (1, 2)


def test_each_order_has_its_own_quota(agency: Rulebook) -> None:
    f = fold(agency, [request(1, "2026-03-02T10:00", topic="quote", order="o-1"),
                      request(2, "2026-03-03T10:00", topic="quote", order="o-1"),
                      request(3, "2026-03-04T10:00", topic="quote", order="o-2"),
                      request(4, "2026-03-04T11:00", topic="quote", order="o-2"),
                      request(5, "2026-03-04T12:00", topic="quote", order="o-1"),
                      request(6, "2026-03-04T13:00", topic="quote", order="o-1")],
             until=msk("2026-03-05T00:00"))
    bills = f.decisions("romashka", "quote_revisions", action="bill")
    assert [b.event for b in bills] == ["rq-romashka-5", "rq-romashka-6"]


def test_requests_the_when_expression_leaves_out_are_not_counted(agency: Rulebook) -> None:
    f = fold(agency, [request(1, "2026-03-02T10:00", topic="quote", order="o-1"),
                      request(2, "2026-03-02T11:00", topic="question", order="o-1"),
                      request(3, "2026-03-02T12:00", topic="question", order="o-1"),
                      request(4, "2026-03-03T10:00", topic="quote", order="o-1")],
             until=msk("2026-03-05T00:00"))
    assert f.decisions("romashka", "quote_revisions", action="bill") == []
    assert rule_view(f, "romashka", "quote_revisions", "2026-03-05T00:00")["kept"] == 2


def test_a_counterpartys_own_price_overrides_the_rulebooks(agency: Rulebook) -> None:
    special = raw("cp-r", "counterparty.upserted", "romashka", msk("2026-03-01T00:00"), kind="client",
                  prices={"quote": "500.00"})
    f = fold(agency, [special, *(request(n, f"2026-03-0{n + 1}T10:00", topic="quote", order="o-1")
                                 for n in (1, 2, 3))], until=msk("2026-03-05T00:00"))
    (bill,) = f.decisions("romashka", "quote_revisions", action="bill")
    assert bill.amount == Decimal("500.00")


def test_a_quota_per_rolling_period_counts_only_the_period() -> None:
    rolling = book(AGENCY.replace("    per: order\n", "    per: 30d\n"))
    f = fold(rolling, [request(1, "2026-03-01T10:00", topic="quote"),
                       request(2, "2026-03-11T10:00", topic="quote"),
                       request(3, "2026-03-21T10:00", topic="quote"),  # 3 in 30 days: over
                       request(4, "2026-04-15T10:00", topic="quote")],  # 2 in the 30 days up to it
             until=msk("2026-05-01T00:00"))
    assert [b.event for b in f.decisions("romashka", "quote_revisions", action="bill")] == ["rq-romashka-3"]


# -- incident ------------------------------------------------------------------------------------

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
      - fee: "5000.00"
      - suspend: 30d
        review: true
      - terminate: true
        review: true
rules:
  booking_handling:
    title: Patients booked through us are seen on time
    kind: incident
    weight: {minor: 1, major: 3, fatal: terminate}
    kept_by: [appointment.attended]
    ladder: partner
"""

PARTNER = raw("cp-clinic", "counterparty.upserted", "clinic-7", msk("2026-01-01T00:00"), kind="partner")


def incident(n: int, at: str, severity: str) -> dict[str, object]:
    return raw(f"inc-{n}", "incident.reported", "clinic-7", msk(at), severity=severity, category="late")


@pytest.fixture(scope="module")
def partners() -> Rulebook:
    return book(PARTNERS)


def test_a_minor_incident_adds_one_strike(partners: Rulebook) -> None:
    f = fold(partners, [PARTNER, incident(1, "2026-03-01T10:00", "minor")], until=msk("2026-03-02T00:00"))
    assert f.actions("clinic-7") == ["feedback"]
    assert rule_view(f, "clinic-7", "booking_handling", "2026-03-02T00:00")["strikes"] == 1


def test_a_weighted_incident_adds_its_weight_at_once_with_one_decision(partners: Rulebook) -> None:
    f = fold(partners, [PARTNER, incident(1, "2026-03-01T10:00", "major")], until=msk("2026-03-02T00:00"))
    (d,) = f.decisions("clinic-7")
    assert (d.action, d.step, d.amount, d.event) == ("fee", 3, Decimal("5000.00"), "inc-1")
    assert rule_view(f, "clinic-7", "booking_handling", "2026-03-02T00:00")["strikes"] == 3


def test_a_fatal_incident_proposes_termination_at_once(partners: Rulebook) -> None:
    f = fold(partners, [PARTNER, incident(1, "2026-03-01T10:00", "fatal")], until=msk("2026-03-02T00:00"))
    (d,) = f.decisions("clinic-7")
    assert (d.action, d.status, d.event) == ("terminate", "proposed", "inc-1")
    assert f.status("clinic-7", msk("2026-03-02T00:00")) == "active", "a proposal changes nothing by itself"


def test_a_fatal_incident_is_proposed_for_review_even_if_the_ladder_says_no_review() -> None:
    text = PARTNERS.replace("      - terminate: true\n        review: true\n", "      - terminate: true\n")
    f = fold(book(text), [PARTNER, incident(1, "2026-03-01T10:00", "fatal")], until=msk("2026-03-02T00:00"))
    (d,) = f.decisions("clinic-7")
    assert (d.action, d.status) == ("terminate", "proposed")
    assert f.status("clinic-7", msk("2026-03-02T00:00")) == "active"


def test_an_incident_of_a_booking_through_a_partner_is_the_partners() -> None:
    both = book(PARTNERS)
    f = fold(both, [raw("b1", "appointment.booked", "patient-1", msk("2026-03-01T10:00"), appointment="a1",
                        starts_at=msk("2026-03-02T10:00"), partner="clinic-9"),
                    raw("c1", "appointment.attended", "patient-1", msk("2026-03-02T10:00"), appointment="a1",
                        partner="clinic-9")], until=msk("2026-03-03T00:00"))
    assert f.states["clinic-9"].kind == "partner", "a partner named only in data.partner is a partner"
    assert rule_view(f, "clinic-9", "booking_handling", "2026-03-03T00:00")["kept"] == 1


# -- when: ---------------------------------------------------------------------------------------

SURGERY = """\
rulebook: surgery
version: "1"
title: Surgery
locale: en
currency: RUB
timezone: Europe/Moscow
applies_to: [client]
ladders:
  strict:
    window: 365d
    steps: [warning, {fee: "3000.00"}]
rules:
  surgery_no_show:
    title: Surgery slots are precious
    kind: forbidden
    event: appointment.no_show
    when: data.service == "surgery"
    kept_by: [appointment.attended]
    ladder: strict
"""


def no_show(n: int, at: str, **data: object) -> dict[str, object]:
    return raw(f"ns-{n}", "appointment.no_show", "petr", msk(at), appointment=f"a{n}", **data)


def test_a_when_expression_limits_a_rule_to_the_events_it_holds_for() -> None:
    f = fold(book(SURGERY), [no_show(1, "2026-03-01T10:00", service="therapy"),
                             no_show(2, "2026-03-02T10:00"),
                             no_show(3, "2026-03-03T10:00", service="surgery"),
                             no_show(4, "2026-03-04T10:00", service="surgery")],
             until=msk("2026-03-05T00:00"))
    assert [(d.action, d.event) for d in f.decisions("petr")] == [("warning", "ns-3"), ("fee", "ns-4")]
    assert rule_view(f, "petr", "surgery_no_show", "2026-03-05T00:00")["broken"] == 2


def test_a_when_expression_also_filters_what_keeps_the_rule() -> None:
    f = fold(book(SURGERY), [
        raw("c1", "appointment.attended", "petr", msk("2026-03-01T10:00"), appointment="a1",
            service="therapy"),
        raw("c2", "appointment.attended", "petr", msk("2026-03-02T10:00"), appointment="a2",
            service="surgery"),
    ], until=msk("2026-03-05T00:00"))
    assert rule_view(f, "petr", "surgery_no_show", "2026-03-05T00:00")["kept"] == 1
