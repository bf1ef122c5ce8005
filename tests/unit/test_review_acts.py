"""People's acts on the review queue beyond approve: softening replaces the proposed step, a dismissed
proposal can be reopened, and a terminated relationship reinstated (RULEBOOK.md "The ladder"). Each act is
an event, so a replay of the whole history gives what the acts gave live."""

from __future__ import annotations

from typing import Any

from tests.unit.conftest import Fold, fold, msk, review, us
from tests.unit.test_ladder import REVIEWED, THREE, day, ladder_book, no_show, proposal

from firmly.domain.rulebook import Rulebook

FIVE = [no_show(n, day(2 * n)) for n in range(1, 6)]  # step 4 (prepayment 90d) on day 8, a suspension on day 10


def restrictions(f: Fold, at: str) -> list[tuple[str, int]]:
    return [(r["type"], us(r["until"])) for r in f.show("ivan", msk(at))["restrictions"]]


def same_as_replay(f: Fold, book: Rulebook, history: list[dict[str, Any]], until: str) -> None:
    """Folding the history in one go gives the decisions and the view the acts gave one by one."""
    again = fold(book, history, until=msk(until))
    assert [d.key() for d in again.final.values()] == [d.key() for d in f.final.values()]
    assert again.show("ivan") == f.show("ivan")


def test_softening_a_suspension_to_prepayment_leaves_one_prepayment(clinic: Rulebook) -> None:
    """Softening a 30-day suspension to step 4 used to leave two "prepayment required" restrictions: the one
    step 4 set on day 8 and the softened one from the act. The softened step replaces it."""
    suspend = proposal(fold(clinic, FIVE, until=msk(day(11))))
    assert suspend.step == 5
    act = review(suspend, "soften", msk(day(20)), step=4)
    f = fold(clinic, [*FIVE, act], until=msk(day(21)))
    assert f.decisions("ivan", action="suspend")[0].status == "softened"
    assert restrictions(f, day(21)) == [("require_prepayment", us(msk(day(110))))], "one, 90 days from the act"
    assert f.status("ivan", msk(day(105))) == "restricted", "the softened step runs from the act"
    assert f.status("ivan", msk(day(111))) == "active"


def test_a_restriction_that_lasts_longer_is_not_cut_short_by_a_softer_repeat() -> None:
    b = ladder_book("      - feedback\n      - require_prepayment: 90d\n      - suspend: 30d\n        review: true\n")
    suspend = proposal(fold(b, THREE, until=msk(day(6))))
    # softened to a 90-day prepayment the day after step 2 set one: the later end wins, still one restriction
    f = fold(b, [*THREE, review(suspend, "soften", msk(day(6)), step=2)], until=msk(day(7)))
    assert [t for t, _ in restrictions(f, day(7))] == ["require_prepayment"]
    assert f.status("ivan", msk(day(95))) == "restricted"


def test_a_dismissed_proposal_reopens_and_can_then_be_approved() -> None:
    b = ladder_book(REVIEWED)
    suspend = proposal(fold(b, THREE, until=msk(day(9))))
    history = [*THREE, review(suspend, "dismiss", msk(day(10))), review(suspend, "reopen", msk(day(12)))]
    f = fold(b, history, until=msk(day(13)))
    assert proposal(f).id == suspend.id, "the same proposal is back, waiting for a person"
    assert f.status("ivan") == "active", "reopening changes nothing by itself"
    more = f.feed([review(suspend, "approve", msk(day(14)))], until=msk(day(15)))
    assert [(d.id, d.status) for d in more] == [(suspend.id, "approved")]
    assert f.status("ivan") == "suspended"
    same_as_replay(f, b, [*history, review(suspend, "approve", msk(day(14)))], day(15))


def test_reopening_what_was_not_dismissed_changes_nothing() -> None:
    b = ladder_book(REVIEWED)
    suspend = proposal(fold(b, THREE, until=msk(day(9))))
    f = fold(b, [*THREE, review(suspend, "approve", msk(day(10))), review(suspend, "reopen", msk(day(11)))],
             until=msk(day(12)))
    assert f.decisions("ivan", action="suspend")[0].status == "approved"
    assert f.status("ivan") == "suspended"


def test_a_person_reinstates_a_terminated_relationship() -> None:
    b = ladder_book(REVIEWED)
    history = [*THREE, no_show(4, day(7))]
    terminate = proposal(fold(b, history, until=msk(day(9))), "terminate")
    history += [review(terminate, "approve", msk(day(10)))]
    f = fold(b, history, until=msk(day(11)))
    assert f.status("ivan") == "terminated"
    more = f.feed([review(terminate, "reinstate", msk(day(20)), reason="paid and apologised")], until=msk(day(21)))
    (back,) = more
    assert (back.action, back.status) == ("reinstate", "applied")
    assert back.params == {"decision": terminate.id, "reason": "paid and apologised"}
    assert f.status("ivan") == "active"
    assert f.decisions("ivan", action="terminate")[0].status == "approved", "the termination stays in history"
    same_as_replay(f, b, [*history, review(terminate, "reinstate", msk(day(20)), reason="paid and apologised")],
                   day(21))


def test_reinstating_with_a_decision_that_did_not_end_the_relationship_changes_nothing() -> None:
    b = ladder_book(REVIEWED)
    history = [*THREE, no_show(4, day(7))]
    f0 = fold(b, history, until=msk(day(9)))
    terminate, suspend = proposal(f0, "terminate"), proposal(f0)
    f = fold(b, [*history, review(terminate, "approve", msk(day(10))), review(suspend, "reinstate", msk(day(11)))],
             until=msk(day(12)))
    assert f.status("ivan") == "terminated"
    assert f.decisions("ivan", action="reinstate") == []
