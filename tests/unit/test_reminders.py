"""Reminders (RULEBOOK.md "Reminders and thanks" and "Fine points: Reminders"): scheduled from
`remind`, not created once past, moved with the appointment, cancelled with it."""

from __future__ import annotations

from typing import Any

from tests.unit.conftest import Fold, fold, msk, raw, us

from firmly.domain.rulebook import Rulebook

START = "2026-03-10T10:00"
AT_48H = us(msk("2026-03-08T10:00"))
AT_3H = us(msk("2026-03-10T07:00"))


def booked(at: str = "2026-03-01T10:00", starts: str = START, appointment: str = "a1", cp: str = "anna"
           ) -> dict[str, Any]:
    return raw(f"{appointment}-book", "appointment.booked", cp, msk(at), appointment=appointment,
               starts_at=msk(starts))


def moved(at: str, starts: str, appointment: str = "a1") -> dict[str, Any]:
    return raw(f"{appointment}-move-{at}", "appointment.rescheduled", "anna", msk(at), appointment=appointment,
               starts_at=msk(starts), by="client")


def reminders(f: Fold, cp: str = "anna") -> list[tuple[int, str, str]]:
    return sorted((d.at, d.status, d.event) for d in f.decisions(cp, action="reminder"))


def test_reminders_are_scheduled_48h_and_3h_before_the_start(clinic: Rulebook) -> None:
    f = fold(clinic, [booked()], until=msk("2026-03-02T00:00"))
    assert reminders(f) == [(AT_48H, "scheduled", "a1-book"), (AT_3H, "scheduled", "a1-book")]
    for d in f.decisions("anna", action="reminder"):
        assert d.rule == "late_cancellation"


def test_reminders_go_out_when_the_clock_reaches_them(clinic: Rulebook) -> None:
    f = fold(clinic, [booked()], until=msk("2026-03-09T00:00"))
    assert reminders(f) == [(AT_48H, "applied", "a1-book"), (AT_3H, "scheduled", "a1-book")]
    f = fold(clinic, [booked()], until=msk("2026-03-11T00:00"))
    assert reminders(f) == [(AT_48H, "applied", "a1-book"), (AT_3H, "applied", "a1-book")]


def test_advancing_the_clock_in_steps_sends_the_same_reminders(clinic: Rulebook) -> None:
    once = fold(clinic, [booked()], until=msk("2026-03-11T00:00"))
    stepwise = fold(clinic, [booked()], until=msk("2026-03-05T00:00"))
    for moment in ("2026-03-08T09:59", "2026-03-08T10:00", "2026-03-10T06:00", "2026-03-11T00:00"):
        stepwise.feed([], until=msk(moment))
    assert [d.key() for d in once.final.values()] == [d.key() for d in stepwise.final.values()]


def test_a_reminder_already_past_when_scheduled_is_not_created(clinic: Rulebook) -> None:
    f = fold(clinic, [booked(at="2026-03-09T10:00")], until=msk("2026-03-11T00:00"))
    assert reminders(f) == [(AT_3H, "applied", "a1-book")]
    f = fold(clinic, [booked(at="2026-03-10T08:00")], until=msk("2026-03-11T00:00"))
    assert reminders(f) == []


def test_a_rescheduled_appointment_moves_its_reminders(clinic: Rulebook) -> None:
    before = fold(clinic, [booked()], until=msk("2026-03-02T00:00"))
    f = fold(clinic, [booked(), moved("2026-03-05T10:00", "2026-03-20T10:00")], until=msk("2026-03-06T00:00"))
    assert {d.id for d in f.decisions("anna", action="reminder")} == \
        {d.id for d in before.decisions("anna", action="reminder")}, "the same decisions, at new times"
    assert reminders(f) == [(us(msk("2026-03-18T10:00")), "scheduled", "a1-book"),
                            (us(msk("2026-03-20T07:00")), "scheduled", "a1-book")]


def test_moved_reminders_go_out_at_the_new_times_only(clinic: Rulebook) -> None:
    f = fold(clinic, [booked(), moved("2026-03-05T10:00", "2026-03-20T10:00")], until=msk("2026-03-15T00:00"))
    assert [status for _, status, _ in reminders(f)] == ["scheduled", "scheduled"], \
        "nothing goes out at the old times"
    f = fold(clinic, [booked(), moved("2026-03-05T10:00", "2026-03-20T10:00")], until=msk("2026-03-21T00:00"))
    assert reminders(f) == [(us(msk("2026-03-18T10:00")), "applied", "a1-book"),
                            (us(msk("2026-03-20T07:00")), "applied", "a1-book")]


def test_a_reminder_already_sent_is_not_moved_or_sent_again(clinic: Rulebook) -> None:
    f = fold(clinic, [booked(), moved("2026-03-09T10:00", "2026-03-20T10:00")], until=msk("2026-03-21T00:00"))
    assert reminders(f) == [(AT_48H, "applied", "a1-book"), (us(msk("2026-03-20T07:00")), "applied", "a1-book")]


def test_a_cancelled_appointment_cancels_its_pending_reminders(clinic: Rulebook) -> None:
    cancel = raw("a1-cancel", "appointment.cancelled", "anna", msk("2026-03-05T10:00"), appointment="a1")
    f = fold(clinic, [booked(), cancel], until=msk("2026-03-11T00:00"))
    assert reminders(f) == [(AT_48H, "cancelled", "a1-book"), (AT_3H, "cancelled", "a1-book")]


def test_a_late_cancellation_cancels_only_what_was_not_sent(clinic: Rulebook) -> None:
    cancel = raw("a1-cancel", "appointment.cancelled", "anna", msk("2026-03-09T20:00"), appointment="a1")
    f = fold(clinic, [booked(), cancel], until=msk("2026-03-11T00:00"))
    assert reminders(f) == [(AT_48H, "applied", "a1-book"), (AT_3H, "cancelled", "a1-book")]


def test_cancelling_one_appointment_leaves_the_others_reminders(clinic: Rulebook) -> None:
    other = booked(appointment="a2", starts="2026-03-12T10:00")
    cancel = raw("a1-cancel", "appointment.cancelled", "anna", msk("2026-03-05T10:00"), appointment="a1")
    f = fold(clinic, [booked(), other, cancel], until=msk("2026-03-13T00:00"))
    assert [(status, event) for _, status, event in reminders(f) if event == "a2-book"] == [
        ("applied", "a2-book"), ("applied", "a2-book")]


def test_a_no_show_does_not_cancel_the_reminders_of_later_bookings(clinic: Rulebook) -> None:
    history = [booked(appointment="g1", starts="2026-03-05T10:00", cp="gleb"),
               booked(at="2026-03-01T10:01", appointment="g2", starts="2026-03-12T10:00", cp="gleb"),
               raw("g1-noshow", "appointment.no_show", "gleb", msk("2026-03-05T10:30"), appointment="g1")]
    f = fold(clinic, history, until=msk("2026-03-20T00:00"))
    assert [d for d in f.decisions("gleb", action="reminder") if d.status == "cancelled"] == []
    assert len(f.decisions("gleb", action="reminder", status="applied")) == 4


def test_reminder_ids_are_deterministic_and_distinct(clinic: Rulebook) -> None:
    history = [booked(), booked(appointment="a2", starts="2026-03-12T10:00"),
               booked(appointment="b1", starts="2026-03-12T10:00", cp="boris")]
    a = fold(clinic, history, until=msk("2026-03-13T00:00"))
    b = fold(clinic, history[::-1], until=msk("2026-03-13T00:00"))
    ids = [d.id for d in a.decisions(action="reminder")]
    assert len(ids) == len(set(ids)) == 6
    assert sorted(ids) == sorted(d.id for d in b.decisions(action="reminder"))
