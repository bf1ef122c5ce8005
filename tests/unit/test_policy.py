"""Which rules govern whom, and under which version (RULEBOOK.md "Which rulebook governs whom"),
and strikes shared by rules that name one `ladder_group`."""

from __future__ import annotations

from decimal import Decimal

import pytest
from tests.unit.conftest import CLINIC, book, fold, msk, raw

from firmly.domain.rulebook import Rulebook


def no_show(n: int, at: str, cp: str = "ivan") -> dict[str, object]:
    return raw(f"ns-{cp}-{n}", "appointment.no_show", cp, msk(at), appointment=f"{cp}-a{n}")


@pytest.fixture(scope="module")
def april() -> Rulebook:
    """A second version of the clinic rulebook, in force from 1 April, with a higher fee."""
    return book(CLINIC.replace('version: "2026-03"\n',
                               'version: "2026-04"\neffective_from: "2026-04-01T00:00:00+03:00"\n')
                .replace('fee: "1000.00"', 'fee: "2000.00"'))


def test_a_decision_is_made_under_the_version_in_force_when_its_event_happened(
        clinic: Rulebook, april: Rulebook) -> None:
    history = [no_show(1, "2026-03-10T10:00"), no_show(2, "2026-03-20T10:00"), no_show(3, "2026-03-31T20:59")]
    f = fold([clinic, april], history, until=msk("2026-04-10T00:00"))
    (fee,) = f.decisions("ivan", action="fee")
    assert (fee.amount, fee.version) == (Decimal("1000.00"), "clinic@2026-03")

    history[-1] = no_show(3, "2026-04-01T00:00")
    f = fold([clinic, april], history, until=msk("2026-04-10T00:00"))
    (fee,) = f.decisions("ivan", action="fee")
    assert (fee.amount, fee.version) == (Decimal("2000.00"), "clinic@2026-04")
    assert [d.version for d in f.decisions("ivan")][:2] == ["clinic@2026-03", "clinic@2026-03"], \
        "earlier decisions keep the version they were made under"


def test_the_first_version_applies_to_all_events_even_before_its_effective_from(april: Rulebook) -> None:
    f = fold([april], [no_show(n, f"2026-01-0{n}T10:00") for n in (1, 2, 3)], until=msk("2026-01-10T00:00"))
    assert [d.action for d in f.decisions("ivan")] == ["feedback", "warning", "fee"]


def test_a_rulebook_governs_only_the_kinds_it_applies_to(clinic: Rulebook) -> None:
    supplier = raw("cp-acme", "counterparty.upserted", "acme", msk("2026-03-01T00:00"), kind="supplier")
    f = fold(clinic, [supplier, no_show(1, "2026-03-02T10:00", cp="acme")], until=msk("2026-03-03T00:00"))
    assert f.decisions("acme") == []
    assert f.show("acme")["rules"] == {}


def test_a_counterparty_may_name_its_rulebooks(clinic: Rulebook) -> None:
    listed = raw("cp-acme", "counterparty.upserted", "acme", msk("2026-03-01T00:00"), kind="supplier",
                 rulebooks=["clinic"])
    f = fold(clinic, [listed, no_show(1, "2026-03-02T10:00", cp="acme")], until=msk("2026-03-03T00:00"))
    assert [d.action for d in f.decisions("acme")] == ["feedback"]


SHARED = """\
rulebook: attendance
version: "1"
title: Attendance
locale: en
currency: RUB
timezone: Europe/Moscow
applies_to: [client]
ladders:
  gentle:
    window: 180d
    steps:
      - feedback
      - warning
      - suspend: 30d
        review: true
rules:
  no_show:
    title: Come or call
    kind: forbidden
    event: appointment.no_show
    ladder: gentle
    ladder_group: attendance
  late_arrival:
    title: Arrive on time
    kind: forbidden
    event: appointment.late_arrival
    ladder: gentle
    ladder_group: attendance
"""


def late(n: int, at: str) -> dict[str, object]:
    return raw(f"late-{n}", "appointment.late_arrival", "ivan", msk(at), appointment=f"b{n}")


def test_rules_in_one_ladder_group_share_their_strikes() -> None:
    f = fold(book(SHARED), [no_show(1, "2026-03-01T10:00"), late(2, "2026-03-02T10:00")],
             until=msk("2026-03-03T00:00"))
    assert [(d.rule, d.action) for d in f.decisions("ivan")] == [("no_show", "feedback"),
                                                                 ("late_arrival", "warning")]


def test_a_shared_ladder_adds_evidence_to_its_open_proposal_whichever_rule_was_broken() -> None:
    history = [no_show(1, "2026-03-01T10:00"), no_show(2, "2026-03-02T10:00"), no_show(3, "2026-03-03T10:00"),
               late(4, "2026-03-04T10:00")]
    f = fold(book(SHARED), history, until=msk("2026-03-05T00:00"))
    proposals = f.decisions("ivan", status="proposed")
    assert len(proposals) == 1
    assert "late-4" in proposals[0].evidence
