"""The sentence of each action, word for word, in both languages: what a client reads must stay true and
natural when the templates change. Among them the facts that used to go wrong: a first strike under a
ladder that starts with a warning is not "again", a step a person softened keeps its strike's number,
and counts agree with their nouns."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from firmly.domain.engine import Decision
from firmly.domain.explain import explain
from firmly.domain.vocabulary import Words
from firmly.doors.catalogues import translations

AT = 1_780_000_000_000_000  # 2026-05-28 20:26 UTC
DAY = 86_400_000_000


def _d(action: str, status: str = "applied", params: dict[str, Any] | None = None, amount: str | None = None,
       evidence: tuple[str, ...] = ("e1",)) -> Decision:
    money = amount is not None or action in ("refused", "top_up_invoice")
    return Decision("d-1", "anna", "late", AT, action, status, evidence[-1], evidence, 1,
                    amount=Decimal(amount) if amount is not None else None, currency="RUB" if money else None,
                    params=params)


CASES: dict[str, tuple[Decision, str | None, timedelta | None]] = {
    "reminder": (_d("reminder", "scheduled", {"due": AT}), None, None),
    "feedback": (_d("feedback", params={"strikes": 1}), "warning", None),
    "warning on a first strike": (_d("warning", params={"strikes": 1}), "fee", None),
    "warning": (_d("warning", params={"strikes": 2}, evidence=("e1", "e2")), "fee", None),
    "fee": (_d("fee", params={"strikes": 3}, amount="3000.00", evidence=("e1", "e2", "e3")), None, None),
    "fee softened from a suspension": (_d("fee", params={"softened_from": "suspend"}, amount="3000.00",
                                          evidence=("e1", "e2", "e3", "e4", "e5")), None, None),
    "require_prepayment": (_d("require_prepayment", params={"strikes": 4}, evidence=("e1", "e2", "e3", "e4")),
                           None, timedelta(days=60)),
    "suspend, proposed": (_d("suspend", "proposed", {"strikes": 5}, evidence=("e1", "e2", "e3", "e4", "e5")),
                          None, timedelta(days=30)),
    "terminate, proposed": (_d("terminate", "proposed", {"strikes": 6}), None, None),
    "surcharge": (_d("surcharge", params={"tier": "vip"}, amount="500.00"), None, None),
    "thanks": (_d("thanks", params={"after_breach": True}), None, None),
    "earn_back, one left": (_d("earn_back", params={"strikes": 1}, evidence=("e1", "e9")), None, None),
    "earn_back, two left": (_d("earn_back", params={"strikes": 2}, evidence=("e1", "e9")), None, None),
    "bill": (_d("bill", params={"used": "3", "max": "2", "service": "revision"}, amount="1200.00"), None, None),
    "refused": (_d("refused", params={"service": "revision", "balance": "100.00", "limit": "0.00"},
                   amount="110.00"), None, None),
    "top_up_invoice": (_d("top_up_invoice", params={"balance": "900.00", "low": "1000.00"}, amount="3000.00"),
                       None, None),
    "grace_approved": (_d("grace_approved", params={"late_by": 2 * DAY, "max_late": 3 * DAY}), None, None),
    "grace for a person": (_d("grace_approved", "proposed", {"late_by": 5 * DAY, "max_late": 3 * DAY}), None, None),
    "grace_denied": (_d("grace_denied", params={"phrases": ["суд"]}), None, None),
    "reinstate": (_d("reinstate", params={"decision": "d-0", "reason": "долг погашен"}), None, None),
    "exception_granted": (_d("exception_granted", params={"ask": "waive_fee", "waived": "1500.00", "strikes": 1},
                             amount="1500.00", evidence=("r1", "e1")), None, None),
    "exception for a person": (_d("exception_granted", "proposed", {
        "ask": "waive_fee", "reason": "unmet", "unmet": ["kept_streak_at_least", "amount_at_most"], "streak": 1,
        "need_streak": 3, "fee": "3000.00", "most": "2000.00", "currency": "RUB"}, evidence=("r1", "e1")), None, None),
    "exception, a booking": (_d("exception_granted", "proposed", {"ask": "change_booking", "reason": "booking"},
                                evidence=("r1",)), None, None),
    "exception_denied": (_d("exception_denied", params={"reason": "hostile", "phrases": ["засужу"]},
                            evidence=("r1", "e1")), None, None),
    "exception declined, once a year": (_d("exception_denied", params={"reason": "unmet", "unmet": ["first_in"]},
                                           evidence=("r1", "e1")), None, None),
    "exempt": (_d("exempt", params={"exception": "x1", "reason": "форс-мажор", "till": AT + 10 * DAY}), None, None),
}
LABELS = {"ru": {"revision": "правка макета", "vip": "особый"}, "en": {"revision": "layout revision", "vip": "premier"}}


def sentence(name: str, lang: str) -> str:
    d, next_step, duration = CASES[name]
    return explain(d, title="Отмена за сутки" if lang == "ru" else "Cancel a day ahead", why="Врач ждёт."
                   if lang == "ru" else "The doctor waits.", next_step=next_step, locale=lang,
                   timezone="Europe/Moscow", duration=duration, words=Words(lang, translations(lang), LABELS[lang]))


# Written out by hand and read by a native speaker of each language; a change to a template changes this file
EXPECTED = json.loads((Path(__file__).resolve().parents[1] / "data" / "sentences.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(("name", "lang"), [(n, lang) for lang in ("ru", "en") for n in CASES])
def test_each_action_reads_as_expected(name: str, lang: str) -> None:
    assert sentence(name, lang) == EXPECTED[lang][name]


def test_every_action_has_its_sentence() -> None:
    from firmly.domain.engine.decision import ACTIONS  # noqa: PLC0415 - only this test needs the list

    assert {d.action for d, _, _ in CASES.values()} == set(ACTIONS)
