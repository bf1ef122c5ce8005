"""A rulebook's resources are bounded: hostile or careless YAML, costly `when:` expressions and numbers out of
range are refused by `check` at their line, so nothing that passes can later fail every event.
(README "Limits of a rulebook".)"""

from __future__ import annotations

import logging
import tracemalloc
from pathlib import Path

import pytest
from tests.unit.conftest import CLINIC, book, fold, line_of, raw

from firmly.domain.errors import InvalidInput, Problem
from firmly.domain.expressions import BUDGET, ExpressionCost, affordable, cost
from firmly.domain.messages import Fields, compose, template_problem
from firmly.domain.rulebook import parse_rulebook
from firmly.domain.yamlmap import MAX_BYTES, YamlProblem, load_with_lines

EXAMPLES = Path(__file__).resolve().parents[2] / "src" / "firmly" / "examples"
NETWORK = (EXAMPLES / "network-en" / "rulebook.yaml").read_text(encoding="utf-8")
AGENCY = (EXAMPLES / "agency-ru" / "rulebook.yaml").read_text(encoding="utf-8")


def refused(text: str) -> list[Problem]:
    with pytest.raises(InvalidInput) as caught:
        parse_rulebook(text, "rulebook.yaml")
    return caught.value.problems


def only(problems: list[Problem], field: str) -> Problem:
    found = [p for p in problems if p.field == field]
    assert len(found) == 1, problems
    return found[0]


def alias_bomb(levels: int) -> str:
    """The "billion laughs": each level is ten aliases of the one before, 10**levels strings in all."""
    lines = ["rulebook: bomb", 'version: "1"', "title: t", "applies_to: [client]",
             'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, levels)]
    return "\n".join(lines) + "\nrules: {}\n"


# -- defect 4: a 524-byte alias bomb took 1.8 GB and a 500 --------------------------------------------------
@pytest.mark.parametrize("levels", [6, 9])
def test_an_alias_bomb_is_refused_without_being_built(levels: int) -> None:
    text = alias_bomb(levels)
    tracemalloc.start()
    try:
        problems = refused(text)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    problem = only(problems, "yaml")
    assert "aliases" in problem.message and "10,000" in problem.message
    assert problem.line == line_of(text, "a3: &a3")  # where the aliases pass the budget
    assert peak < 2_000_000  # bytes: nothing near 10**levels values was made


def test_a_few_aliases_still_read_as_the_values_they_name() -> None:
    value, lines = load_with_lines("steps: &s [feedback, warning]\nother: *s\n")
    assert value == {"steps": ["feedback", "warning"], "other": ["feedback", "warning"]}
    assert lines[("other",)] == 2


# -- defect 6: rulebooks that crashed `check` ----------------------------------------------------------------
@pytest.mark.parametrize(("text", "line", "says"), [
    ("x: &x [*x]\n", 1, "refers to the value that contains it"),
    ("a: 1\nb: " + "[" * 5000 + "]" * 5000 + "\n", 2, "nests deeper than 32 levels"),
    ("b: &b {x: 1}\nc:\n  <<: *b\n", 3, "merge keys (<<) are not supported"),
    ("a: 1\nb: !!int 'abc'\n", 2, "'abc' is not a valid whole number"),
    ("a: 1\nb: !!float 'abc'\n", 2, "'abc' is not a valid number"),
    ("a: !!float ''\n", 1, "'' is not a valid number"),
    ("a: 1\nb: !!timestamp 'soon'\n", 2, "'soon' is not a valid date or time"),
    ("a: 2026-02-30\n", 1, "'2026-02-30' is not a valid date or time"),
    ("a: !!python/object/apply:os.system [ls]\n", 1, "uses the tag tag:yaml.org,2002:python/object/apply:os.system"),
    ("a: !custom x\n", 1, "uses the tag !custom"),
    ("a: !!binary aGk=\n", 1, "uses the tag tag:yaml.org,2002:binary"),
    ("a: *nowhere\n", 1, "names no anchor"),
    ("a: 1\n---\nb: 2\n", 2, "a second document"),
    ("? [a, b]\n: 1\n", 1, "a key must be a plain word"),
])
def test_hostile_yaml_is_an_error_at_its_line(text: str, line: int, says: str) -> None:
    with pytest.raises(YamlProblem) as caught:
        load_with_lines(text)
    assert caught.value.line == line
    assert says in caught.value.message
    problem = only(refused(text), "yaml")
    assert str(problem).startswith(f"rulebook.yaml:{line}: yaml: ")


def test_a_document_over_one_mebibyte_is_refused_before_it_is_read() -> None:
    text = "title: " + "x" * MAX_BYTES + "\n"
    problem = only(refused(text), "yaml")
    assert (problem.line, "at most 1,048,576 bytes (1 MiB)" in problem.message) == (1, True)


@pytest.mark.parametrize("value", ["10000000000d", "36526d", "5300w"])
def test_a_duration_over_a_hundred_years_is_refused_at_its_line(value: str) -> None:
    text = CLINIC.replace("min_notice: 24h", f"min_notice: {value}")
    problem = only(refused(text), "rules.late_cancellation.min_notice")
    assert problem.line == line_of(text, f"min_notice: {value}")
    assert "at most 100 years" in problem.message


def test_durations_in_steps_reminders_and_quota_periods_are_bounded_too() -> None:
    text = CLINIC.replace("at: [48h, 3h]", "at: [48h, 99999999999d]")
    assert "at most 100 years" in only(refused(text), "rules.late_cancellation.remind.at.1").message
    text = AGENCY.replace("per: order", "per: 99999999999d")
    assert only(refused(text), "rules.revisions.per").line == line_of(text, "per: 99999999999d")


# -- defect 7: rulebooks that passed `check` and `load`, after which every ingest crashed --------------------
@pytest.mark.parametrize(("source", "original", "broken", "field"), [
    (AGENCY, "max: 2", "max: .nan", "rules.revisions.max"),
    (AGENCY, "max: 2", "max: .inf", "rules.revisions.max"),
    (AGENCY, "max: 2", "max: 1.0e+300", "rules.revisions.max"),
    (NETWORK, "prior_weight: 3", "prior_weight: .inf", "reviews.prior_weight"),
    (NETWORK, "prior_mean: 4.0", "prior_mean: .nan", "reviews.prior_mean"),
    (NETWORK, "start: 60", "start: 100000000000000000000000000000", "karma.start"),
    (NETWORK, "minor: 5,", "minor: 1000000000000,", "karma.incident.minor"),
    (NETWORK, "weight: {minor: 1,", "weight: {minor: 1000000000000,", "rules.booking_handling.weight.minor"),
    (NETWORK, "earn_back: 20", "earn_back: 100000000000000", "ladders.partner.earn_back"),
])
def test_a_number_out_of_range_is_refused_at_its_line(source: str, original: str, broken: str, field: str) -> None:
    assert source.count(original) == 1, original
    text = source.replace(original, broken)
    problem = only(refused(text), field)
    assert problem.line == line_of(text, broken)
    assert "must be" in problem.message


@pytest.mark.parametrize("day", ["0001-01-01", "1969-12-31", "2201-01-01", "9999-12-31"])
def test_an_introduced_date_is_between_1970_and_2200(day: str) -> None:
    text = CLINIC.replace("    ladder: gentle\n", f"    ladder: gentle\n    introduced: {day}\n    thank_for: 30d\n", 1)
    problem = only(refused(text), "rules.late_cancellation.introduced")
    assert problem.line == line_of(text, f"introduced: {day}")
    assert "between 1970 and 2200" in problem.message


def test_an_effective_from_far_in_the_past_is_refused() -> None:
    text = CLINIC.replace("applies_to: [client]", "applies_to: [client]\neffective_from: 0001-01-01T00:00:00+14:00")
    assert "between 1970 and 2200" in only(refused(text), "effective_from").message


@pytest.mark.parametrize(("body", "says"), [
    ("Dear {0}", "uses the field {0}"),
    ("A single { brace", "opens or closes no field"),
    ("Hello {client}", "uses the field {client}"),
    ("{name.__class__}", "uses the field {name.__class__}"),
    ("{amount:>999999999}", "with a format after it"),
])
def test_a_message_template_names_only_known_fields(body: str, says: str) -> None:
    text = CLINIC + f"\nmessages:\n  warning:\n    en:\n      subject: Careful\n      body: \"{body}\"\n"
    problem = only(refused(text), "messages.warning.en.body")
    assert problem.line == line_of(text, "body:")
    assert says in problem.message
    assert template_problem("Dear {name}, {{literally}} {amount}") is None


def test_a_stored_template_that_cannot_be_filled_falls_back_to_the_shipped_one() -> None:
    letter = compose("warning", "en", Fields("Ann", "Cancel ahead", "", "You cancelled late."),
                     overrides={"warning": {"en": {"subject": "{0}", "body": "{"}}})
    assert letter.subject == "A warning: Cancel ahead"
    assert "You cancelled late." in letter.body


# -- defect 3: one `when:` aborted the server ------------------------------------------------------------------
@pytest.mark.parametrize(("expression", "says"), [
    ("len(map([0..100000000], #)) > 0", "a range of 100,000,000 values"),
    ("count([0..1e20], true) > 0", "a range of 100,000,000,000,000,000,000 values"),
    ("len(map([0..data.n], #)) > 0", "ends are not numbers written out"),
    ("len(map([0..5000], map([0..5000], #))) > 0", "iterates ranges inside one another over 25,010,001 values"),
    ("some(data.a, some(#.b, some(#.c, # == 1)))", "nests some(…) 3 deep"),
    ("`${len(map([0..1e9], #))}` == \"x\"", "a range of 1,000,000,000 values"),
    ("data.x == \"" + "a" * 2100 + "\"", "at most 2,000"),
])
def test_a_costly_when_is_refused_by_check_at_its_line(expression: str, says: str) -> None:
    text = CLINIC.replace("    min_notice: 24h\n", f"    min_notice: 24h\n    when: '{expression}'\n")
    problem = only(refused(text), "rules.late_cancellation.when")
    assert problem.line == line_of(text, "when:")
    assert says in problem.message


@pytest.mark.parametrize("expression", ['data.service == "surgery"', "data.minutes in [0..600]",
                                        "some(data.items, #.code in [1..31])", "x in ]0..10["])
def test_ordinary_expressions_pass(expression: str) -> None:
    cost(expression)
    text = CLINIC.replace("    min_notice: 24h\n", f"    min_notice: 24h\n    when: '{expression}'\n")
    assert book(text).rules["late_cancellation"].when == expression


def test_an_event_too_large_for_its_when_skips_the_rule_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    when = "some(data.items, some(data.items, # == 1))"
    expense = cost(when)
    assert expense.dynamic == 2
    assert affordable(expense, {"items": list(range(100))})
    assert not affordable(expense, {"items": list(range(int(BUDGET ** 0.5) + 10))})
    text = CLINIC.replace("    min_notice: 24h\n", f"    min_notice: 24h\n    when: '{when}'\n")
    rules = book(text)
    big = list(range(5000))
    start = "2026-03-10T10:00:00+03:00"
    with caplog.at_level(logging.WARNING, "firmly.engine"):
        result = fold(rules, [
            raw("b1", "appointment.booked", "ann", "2026-03-01T10:00:00+03:00", appointment="a1", starts_at=start,
                items=[1]),
            raw("c1", "appointment.cancelled", "ann", "2026-03-10T09:00:00+03:00", appointment="a1", items=[1]),
            raw("b2", "appointment.booked", "bob", "2026-03-01T10:00:00+03:00", appointment="a2", starts_at=start),
            raw("c2", "appointment.cancelled", "bob", "2026-03-10T09:00:00+03:00", appointment="a2", items=big),
        ])
    broken = {(d.counterparty, d.rule) for d in result.out if d.action == "feedback"}
    assert ("ann", "late_cancellation") in broken  # the small event is judged
    assert ("bob", "late_cancellation") not in broken  # the huge one is not, and the log says why
    assert any("late_cancellation skipped for event c2" in r.getMessage() for r in caplog.records)


def test_expression_cost_errors_are_plain_words() -> None:
    with pytest.raises(ExpressionCost, match="compare with >= and <="):
        cost("data.n in [data.low..data.high]")
