"""Fuzzing the rulebook loader and the `when:` compiler (fixed seed, small budget): whatever the text, the
answer is a value or a problem naming its line and field — never a traceback, never a hang; and a rulebook
that passes folds events without failing. The doors are fuzzed in tests/integration/test_rulebook_limits.py."""

from __future__ import annotations

import contextlib

import zen
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.unit.conftest import CLINIC, fold, raw

from firmly.domain.errors import InvalidInput
from firmly.domain.expressions import ExpressionCost, affordable, cost
from firmly.domain.rulebook import parse_rulebook
from firmly.domain.yamlmap import YamlProblem, load_with_lines

FUZZ = settings(max_examples=150, deadline=None, derandomize=True)
YAML_BITS = st.sampled_from([
    "a", ": ", "- ", "\n", "  ", "&x ", "*x", "[", "]", "{", "}", ", ", "<<: ", "!!int ", "!!float ", "!!timestamp ",
    "!!python/object ", "!x ", "'", '"', "?", "---\n", "...\n", ".nan", ".inf", "1e309", "0001-01-01", "2026-02-30",
    "#", "|\n", ">\n", "\t", "\u202e", "\U0001f600", "\\", "%YAML 1.2\n", "@", "`", "\x00", "\ufeff",
])
EXPRESSION_BITS = st.sampled_from([
    "data.a", "#", "map(", "filter(", "some(", "all(", "count(", "flatMap(", "len(", ")", ", ", "[", "]", "(", "..",
    "0", "1", "1e9", "-5", "100000000", "==", " and ", " in ", '"x"', "'y'", "`", "${", "}", "true", " > ",
    "data.n", "..", ".",
])


@FUZZ
@given(st.lists(YAML_BITS, max_size=40).map("".join))
def test_any_text_is_a_value_or_a_problem_at_a_line(text: str) -> None:
    try:
        load_with_lines(text)
    except YamlProblem as exc:
        assert 1 <= exc.line <= text.count("\n") + 2
        assert exc.message
    try:
        parse_rulebook(text, "fuzz.yaml")
    except InvalidInput as exc:
        assert exc.problems and all(p.where == "fuzz.yaml" and p.line and p.message for p in exc.problems)


@FUZZ
@given(st.lists(EXPRESSION_BITS, min_size=1, max_size=25).map("".join))
def test_any_expression_is_priced_or_refused_in_words(expression: str) -> None:
    try:
        expense = cost(expression)
    except ExpressionCost as exc:
        assert str(exc) and "Traceback" not in str(exc)
        return
    assert expense.static >= 1 and expense.dynamic >= 0
    assert affordable(expense, {"a": [1, 2, 3], "n": 3})
    if zen.validate_expression(expression) is None:  # what passes both checks runs on a small event at once
        with contextlib.suppress(Exception):  # a ZEN error on this data: the rule does not apply, as in the engine
            zen.evaluate_expression(expression, {"data": {"a": [1, 2, 3], "n": 3}})


@FUZZ
@given(st.sampled_from(["min_notice: 12h", "earn_back: 4", 'fee: "25.00"', "window: 120d", "at: [48h, 3h]"]),
       st.one_of(st.integers(), st.floats(), st.text(max_size=12), st.just("99999999999d")))
def test_a_rulebook_that_passes_folds_events_without_failing(slot: str, value: object) -> None:
    key = slot.split(":", 1)[0]
    text = CLINIC.replace(slot.replace("12h", "24h").replace("4", "3").replace("120d", "180d").replace(
        '"25.00"', '"1000.00"'), f"{key}: {value!r}" if isinstance(value, str) else f"{key}: {value}", 1)
    try:
        rules = parse_rulebook(text, "fuzz.yaml")
    except InvalidInput as exc:
        assert all(p.line for p in exc.problems)
        return
    result = fold(rules, [
        raw("b1", "appointment.booked", "ann", "2026-03-01T10:00:00+03:00", appointment="a1",
            starts_at="2026-03-10T10:00:00+03:00"),
        raw("c1", "appointment.cancelled", "ann", "2026-03-10T09:00:00+03:00", appointment="a1"),
        raw("n1", "appointment.no_show", "ann", "2026-03-11T09:00:00+03:00", appointment="a2"),
    ], until="2026-04-01T00:00:00+03:00")
    assert all(d.counterparty == "ann" for d in result.out)
