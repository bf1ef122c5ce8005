"""The fold split by counterparty (domain/engine/parts.py) leaves, part by part, exactly the whole fold's states,
decisions and postings: also for an attendance that names no partner, attributed to the partner its booking named
while the client is folded in another part."""

from __future__ import annotations

from typing import Any

import pytest
from tests.unit.conftest import events, us
from tests.unit.test_scores import booked, came, incident, partner_book, partner_cp, t

from firmly.domain.engine import Engine, Policy
from firmly.domain.engine.parts import PartFold, part_of
from firmly.domain.engine.state import encode_state

PATIENTS = [f"patient-{n}" for n in range(12)]
CLINICS = ["clinic-1", "clinic-2", "clinic-3"]


def _history() -> list[dict[str, Any]]:
    raws: list[dict[str, Any]] = [partner_cp(c) for c in CLINICS]
    for day in range(1, 30):
        for n, patient in enumerate(PATIENTS):
            if (day + n) % 4:
                continue
            clinic = CLINICS[(day + n) % len(CLINICS)]
            appointment = f"a-{day}-{n}"
            raws.append(booked(appointment, day, patient, clinic))
            raws.append(came(appointment, day, patient, partner=None if n % 2 else clinic))  # attributed
            if n % 5 == 0:
                raws.append(incident(f"inc-{appointment}", patient, day + 1, "major", hour=16,
                                     appointment=appointment, partner=clinic))
    return sorted(raws, key=lambda r: us(r["occurred_at"]))


@pytest.mark.parametrize("parts", [2, 3])
def test_the_parts_together_leave_what_the_whole_fold_leaves(parts: int) -> None:
    policy = Policy([partner_book()])
    until = us(t(40))
    whole = Engine(policy)
    states, out = whole.run(events(_history()), until=until, ordered=True)
    final = {d.id: d for d in out}
    across = [r for r in _history() if r["type"] == "appointment.attended" and "partner" not in r["data"]
              and part_of(r["counterparty"], parts) != part_of(CLINICS[0], parts)]
    assert across, "some attendances name no partner and are folded apart from their client"

    got_states: dict[str, bytes] = {}
    got_final: dict[str, Any] = {}
    got_postings = []
    for part in range(parts):
        engine = Engine(policy)
        folder = PartFold(engine, part, parts)
        # asked as the events come, as a store's reading does: a booking folded changes what is wanted next
        wanted = (ev for ev in events(_history()) if folder.wants(ev.counterparty, ev.partner))
        part_states, part_out = folder.run(wanted, until=until)
        assert all(part_of(key, parts) == part for key in part_states)
        got_states.update((key, encode_state(st)) for key, st in part_states.items())
        got_final.update((d.id, d) for d in part_out)
        got_postings += engine.take_postings()
    assert got_states == {key: encode_state(st) for key, st in states.items()}
    assert got_final == final
    assert sorted(got_postings, key=lambda p: p.id) == sorted(whole.take_postings(), key=lambda p: p.id)
    assert any(st.kind == "partner" and st.account is not None for st in states.values())
