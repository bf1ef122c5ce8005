"""A rule kind is one module and one registration (docs/adding-a-rule-kind.md): this file declares a kind of
its own — a typed spec, its validation, how it compiles and judges — registers it, and the rulebook, the
policy and the fold take it as they take the built-in ones, with nothing else changed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from tests.unit.conftest import book, events, fold, line_of, msk, raw, us

from firmly.domain.engine import Engine, Policy
from firmly.domain.engine.kinds import KINDS, register
from firmly.domain.engine.kinds.base import Context, RuleKind, applies
from firmly.domain.errors import InvalidInput
from firmly.domain.explain import explain
from firmly.domain.render import render_markdown

if TYPE_CHECKING:
    from firmly.domain.checker import Checker
    from firmly.domain.engine.decision import Decision
    from firmly.domain.engine.ladder import LadderFold as Engine_
    from firmly.domain.engine.policy import Compiled
    from firmly.domain.engine.state import CounterpartyState
    from firmly.domain.events import Event
    from firmly.domain.yamlmap import Path


# -- the kind: a message longer than `max_words` words breaks the rule, a shorter one keeps it ------------
@dataclass(frozen=True, slots=True)
class Brevity:
    max_words: int


def check(c: Checker, spec: dict[str, Any], path: Path, ctx: Context) -> dict[str, Any]:
    value = spec.get("max_words")
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        c.add((*path, "max_words"), "must be a whole number of words, got {value}", value=repr(value))
        return {}
    return {"spec": Brevity(value)}


def prepare(c: Compiled) -> None:
    c.spec = c.rule.spec.max_words


def judge(engine: Engine_, st: CounterpartyState, c: Compiled, ev: Event, role: str, out: list[Decision]) -> None:
    text = ev.data.get("text")
    if not isinstance(text, str) or not applies(c, ev):
        return
    words = len(text.split())
    if words > c.spec:
        engine._breach(st, c, ev.id, ev.at, out, params={"words": words})
    else:
        engine._kept(st, c, ev.id, ev.at, out)


BREVITY = RuleKind("brevity", frozenset({"max_words"}), check, judge, prepare=prepare,
                   default_event="message.received")


@pytest.fixture(autouse=True)
def brevity() -> Iterator[RuleKind]:
    register(BREVITY)
    yield BREVITY
    del KINDS["brevity"]


RULEBOOK = """\
rulebook: chat
version: "1"
title: Short messages
applies_to: [client]
ladders:
  soft:
    window: 30d
    steps: [feedback, warning]
rules:
  short:
    title: Write briefly
    kind: brevity
    max_words: 3
    ladder: soft
"""


def said(n: int, text: str) -> dict[str, Any]:
    return raw(f"m{n}", "message.received", "anna", msk(f"2026-03-0{n}T10:00"), text=text)


def test_the_rulebook_validates_the_new_kinds_field_with_its_line() -> None:
    text = RULEBOOK.replace("max_words: 3", "max_words: many")
    with pytest.raises(InvalidInput) as caught:
        book(text)
    (problem,) = caught.value.problems
    assert (problem.line, problem.field) == (line_of(text, "max_words"), "rules.short.max_words")
    assert problem.message == "must be a whole number of words, got 'many'"


def test_a_near_miss_of_the_new_kinds_field_is_named() -> None:
    with pytest.raises(InvalidInput) as caught:
        book(RULEBOOK.replace("max_words: 3", "max_words: 3\n    max_word: 4"))
    assert caught.value.problems[0].message == "unknown field for a rule; did you mean `max_words`?"


def test_the_new_kind_compiles_and_judges_through_the_ladder() -> None:
    chat = book(RULEBOOK)
    assert chat.rules["short"].spec == Brevity(3)
    f = fold(chat, [said(1, "hello there"), said(2, "this message is far too long"),
                    said(3, "and this one too, sadly"), said(4, "ok")], until=msk("2026-03-05T00:00"))
    assert [(d.action, d.event) for d in f.decisions("anna", "short")] == [
        ("feedback", "m2"), ("warning", "m3"), ("thanks", "m4")]
    assert f.decisions("anna", "short")[0].params == {"strikes": 1, "words": 6, "fatal": False}


def test_a_replay_in_chunks_gives_the_same_decisions() -> None:
    chat = book(RULEBOOK)
    raws = [said(n, "word " * n) for n in range(1, 10)]
    whole = Engine(Policy([chat])).run(events(raws), until=us(msk("2026-03-10T00:00")))[1]
    engine = Engine(Policy([chat]))
    evs = events(raws)
    states, first = engine.run(evs[:4])
    _, rest = engine.run(evs[4:], states, until=us(msk("2026-03-10T00:00")))
    assert [(d.id, d.action, d.status) for d in first + rest] == [(d.id, d.action, d.status) for d in whole]
    assert any(d.action == "warning" for d in whole)


def test_the_appendix_and_the_explanations_take_the_new_kind() -> None:
    chat = book(RULEBOOK)
    assert "## 1. Write briefly" in render_markdown(chat, "en")
    (d,) = fold(chat, [said(1, "far too many words here")], until=msk("2026-03-05T00:00")).decisions("anna")
    said_to_them = explain(d, title="Write briefly", why="", next_step=None, locale="en", timezone="UTC")
    assert said_to_them.startswith('The rule "Write briefly" was broken (m1).')
