"""Loading a rulebook: a valid one becomes a model; an invalid one is refused with every problem
named as FILE:LINE: field: message (RULEBOOK.md, "Rulebooks" and "Fine points: Validation")."""

from __future__ import annotations

import re
import textwrap
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from tests.unit.conftest import CLINIC, SCENARIOS, book, line_of

from firmly.domain.errors import InvalidInput, Problem
from firmly.domain.rulebook import parse_rulebook

BASE = """\
rulebook: test
version: "1"
title: Test rules
locale: en
currency: RUB
timezone: Europe/Moscow
applies_to: [client]

ladders:
  gentle:
    window: 180d
    earn_back: 3
    steps:
      - feedback
      - warning
      - fee: "1000.00"

tiers:
  vip:
    exempt: [no_show]
    surcharge:
      no_show: "500.00"

rules:
  no_show:
    title: Come or call
    why: The doctor keeps the hour for you.
    kind: forbidden
    event: appointment.no_show
    kept_by: [appointment.attended]
    ladder: gentle
  late_cancellation:
    title: Cancel a day ahead
    kind: notice
    event: appointment.cancelled
    min_notice: 24h
    ladder: gentle
"""

PROBLEM = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): (?P<field>[^:]+): (?P<message>.+)$", re.S)


def problems(text: str, where: str = "rulebook.yaml") -> list[Problem]:
    """The problems a refused rulebook is reported with (fails if it loads)."""
    with pytest.raises(InvalidInput) as caught:
        parse_rulebook(textwrap.dedent(text), where)
    assert caught.value.problems, "a refused rulebook names at least one problem"
    return caught.value.problems


def only(found: list[Problem], field: str) -> Problem:
    matching = [p for p in found if p.field == field]
    assert len(matching) == 1, f"expected one problem at {field}, got {[str(p) for p in found]}"
    return matching[0]


def assert_reported(problem: Problem, text: str, needle: str, where: str = "rulebook.yaml") -> None:
    """The problem reads FILE:LINE: field: message, and LINE is the line that holds `needle`."""
    expected_line = line_of(text, needle)
    assert problem.line == expected_line, f"{problem} should point at line {expected_line} ({needle!r})"
    match = PROBLEM.match(str(problem))
    assert match is not None, f"not FILE:LINE: field: message: {problem}"
    assert match["file"] == where
    assert int(match["line"]) == expected_line
    assert match["field"] == problem.field
    assert match["message"].strip()


# -- a valid rulebook ----------------------------------------------------------------------------

def test_a_valid_rulebook_loads_into_its_model() -> None:
    b = book(BASE)
    assert (b.id, b.version, b.locale, b.currency, b.timezone) == ("test", "1", "en", "RUB", "Europe/Moscow")
    assert b.applies_to == ("client",)
    ladder = b.ladders["gentle"]
    assert ladder.window == timedelta(days=180)
    assert ladder.earn_back == 3
    assert [s.action for s in ladder.steps] == ["feedback", "warning", "fee"]
    assert ladder.steps[2].amount == Decimal("1000.00")
    assert b.rules["late_cancellation"].min_notice == timedelta(hours=24)
    assert b.rules["no_show"].kept_by == ("appointment.attended",)
    assert b.tiers["vip"].exempt == frozenset({"no_show"})
    assert b.tiers["vip"].surcharge == {"no_show": Decimal("500.00")}
    assert b.warnings == ()


def test_the_clinic_rulebook_of_the_spec_loads() -> None:
    b = book(CLINIC)
    steps = b.ladders["gentle"].steps
    assert [s.action for s in steps] == ["feedback", "warning", "fee", "require_prepayment", "suspend",
                                         "terminate"]
    assert steps[3].duration == timedelta(days=90)
    assert (steps[4].duration, steps[4].review) == (timedelta(days=30), True)
    assert steps[5].review is True
    remind = b.rules["late_cancellation"].remind
    assert remind is not None
    assert (remind.entity, remind.field) == ("appointment", "starts_at")
    assert sorted(remind.at) == [timedelta(hours=3), timedelta(hours=48)]


def test_the_same_text_has_the_same_hash_and_another_text_another() -> None:
    assert book(BASE).hash == book(BASE).hash
    assert book(BASE).hash != book(BASE.replace('title: Test rules', 'title: Other rules')).hash


# -- each problem, with its line and field -------------------------------------------------------

def test_an_unknown_rule_kind_is_named_with_its_line() -> None:
    text = BASE.replace("kind: forbidden", "kind: forbiden")
    problem = only(problems(text), "rules.no_show.kind")
    assert_reported(problem, text, "kind: forbiden")
    assert "forbiden" in problem.message


@pytest.mark.parametrize(("original", "broken", "field"), [
    ("window: 180d", "window: soon", "ladders.gentle.window"),
    ("window: 180d", "window: 180 days", "ladders.gentle.window"),
    ("min_notice: 24h", "min_notice: 24", "rules.late_cancellation.min_notice"),
    ("min_notice: 24h", "min_notice: a day", "rules.late_cancellation.min_notice"),
])
def test_a_bad_duration_is_named_with_its_line(original: str, broken: str, field: str) -> None:
    text = BASE.replace(original, broken)
    assert_reported(only(problems(text), field), text, broken)


@pytest.mark.parametrize("first", ['fee: "1000.00"', "require_prepayment: 90d", "suspend: 30d",
                                   "terminate: true"])
def test_a_ladder_that_starts_with_a_sanction_is_refused(first: str) -> None:
    text = BASE.replace("      - feedback\n", f"      - {first}\n")
    problem = only(problems(text), "ladders.gentle.steps.0")
    assert_reported(problem, text, f"- {first}")
    assert "first_step_may_sanction" in problem.message


@pytest.mark.parametrize("first", ['fee: "1000.00"', "require_prepayment: 90d"])
def test_a_ladder_may_start_with_a_sanction_when_it_says_so(first: str) -> None:
    text = BASE.replace("      - feedback\n", f"      - {first}\n").replace(
        "    earn_back: 3\n", "    earn_back: 3\n    first_step_may_sanction: true\n")
    b = book(text)
    assert b.ladders["gentle"].steps[0].action == first.split(":", maxsplit=1)[0]


def test_a_reviewed_sanction_first_is_still_a_sanction() -> None:
    text = BASE.replace("      - feedback\n", "      - suspend: 30d\n        review: true\n")
    assert_reported(only(problems(text), "ladders.gentle.steps.0"), text, "- suspend: 30d")


def test_a_reference_to_a_missing_ladder_is_named() -> None:
    text = BASE.replace("    ladder: gentle\n  late", "    ladder: missing_ladder\n  late")
    problem = only(problems(text), "rules.no_show.ladder")
    assert_reported(problem, text, "ladder: missing_ladder")
    assert "missing_ladder" in problem.message


def test_a_tier_exempting_a_missing_rule_is_named() -> None:
    text = BASE.replace("exempt: [no_show]", "exempt: [no_show, late_arrival]")
    problem = only(problems(text), "tiers.vip.exempt.1")
    assert_reported(problem, text, "exempt: [no_show, late_arrival]")
    assert "late_arrival" in problem.message


def test_a_surcharge_for_a_missing_rule_is_named() -> None:
    text = BASE.replace('      no_show: "500.00"', '      no_show: "500.00"\n      late_arrival: "100.00"')
    assert_reported(only(problems(text), "tiers.vip.surcharge.late_arrival"), text, "late_arrival:")


@pytest.mark.parametrize(("original", "broken", "field"), [
    ('fee: "1000.00"', "fee: 1000.0", "ladders.gentle.steps.2.fee"),
    ('no_show: "500.00"', "no_show: 500.5", "tiers.vip.surcharge.no_show"),
    ('fee: "1000.00"', 'fee: "1000,00"', "ladders.gentle.steps.2.fee"),
    ('fee: "1000.00"', 'fee: "a lot"', "ladders.gentle.steps.2.fee"),
])
def test_bad_money_is_named_with_its_line(original: str, broken: str, field: str) -> None:
    text = BASE.replace(original, broken)
    problem = only(problems(text), field)
    assert_reported(problem, text, broken)
    assert "decimal string" in problem.message


def test_a_price_written_as_a_float_is_refused() -> None:
    text = BASE + "prices:\n  quote: {title: Quote, price: 800.0}\n"
    assert_reported(only(problems(text), "prices.quote.price"), text, "quote: {title")


@pytest.mark.parametrize("expression", ['data.service ==', '(data.service == "x"', 'data.service === "x" )'])
def test_an_invalid_when_expression_is_named(expression: str) -> None:
    text = BASE.replace("    kind: forbidden\n", f"    kind: forbidden\n    when: '{expression}'\n")
    assert_reported(only(problems(text), "rules.no_show.when"), text, "when:")


def test_a_valid_when_expression_is_kept() -> None:
    text = BASE.replace("    kind: forbidden\n", '    kind: forbidden\n    when: data.service == "surgery"\n')
    assert book(text).rules["no_show"].when == 'data.service == "surgery"'


def test_several_problems_are_reported_at_once_each_on_its_line() -> None:
    text = textwrap.dedent("""\
        rulebook: broken
        version: "1"
        title: A broken rulebook
        locale: ru
        currency: RUB
        timezone: Europe/Moscow
        applies_to: [client]

        ladders:
          harsh:
            window: soon
            steps:
              - fee: "5000.00"
              - terminate: true

        rules:
          late_cancellation:
            title: Cancel a day ahead
            kind: notise
            event: appointment.cancelled
            min_notice: 24h
            ladder: harsh
          no_show:
            title: Come or call
            kind: forbidden
            event: appointment.no_show
            ladder: missing_ladder
        """)
    where = "broken-rulebook.yaml"
    found = problems(text, where)
    assert_reported(only(found, "ladders.harsh.window"), text, "window: soon", where)
    assert_reported(only(found, "ladders.harsh.steps.0"), text, '- fee: "5000.00"', where)
    assert_reported(only(found, "rules.late_cancellation.kind"), text, "kind: notise", where)
    assert_reported(only(found, "rules.no_show.ladder"), text, "ladder: missing_ladder", where)
    message = str(InvalidInput(found))
    assert all(line.startswith("broken-rulebook.yaml:") for line in message.splitlines())


def test_an_unknown_field_is_named() -> None:
    text = BASE.replace("    min_notice: 24h\n", "    min_notice: 24h\n    min_notise: 12h\n")
    assert_reported(only(problems(text), "rules.late_cancellation.min_notise"), text, "min_notise")


def test_a_missing_required_field_is_named() -> None:
    text = BASE.replace("    min_notice: 24h\n", "")
    problem = only(problems(text), "rules.late_cancellation.min_notice")
    assert problem.line == line_of(text, "  late_cancellation:")


def test_a_yaml_syntax_error_names_its_line() -> None:
    text = BASE.replace("      - warning\n", "      - warning\n     bad: [indent\n")
    (problem,) = problems(text)
    assert problem.field == "yaml"
    assert problem.line is not None and line_of(text, "bad: [indent") <= problem.line


def test_a_key_written_twice_is_named_with_the_second_line() -> None:
    text = BASE.replace("    min_notice: 24h\n", "    min_notice: 24h\n    min_notice: 12h\n")
    (problem,) = problems(text)
    assert problem.line == line_of(text, "min_notice: 12h")


# -- warnings ------------------------------------------------------------------------------------

def test_terminate_without_review_is_a_warning_not_an_error() -> None:
    text = BASE.replace('      - fee: "1000.00"\n', '      - fee: "1000.00"\n      - terminate: true\n')
    b = book(text)
    assert [s.action for s in b.ladders["gentle"].steps][-1] == "terminate"
    (warning,) = b.warnings
    assert warning.field == "ladders.gentle.steps.3"
    assert warning.line == line_of(text, "- terminate: true")
    assert "review" in warning.message


def test_terminate_with_review_gives_no_warning() -> None:
    text = BASE.replace('      - fee: "1000.00"\n',
                        '      - fee: "1000.00"\n      - terminate: true\n        review: true\n')
    assert book(text).warnings == ()


def test_the_thanks_window_fields_load() -> None:
    text = BASE.replace("    ladder: gentle\n  late",
                        "    ladder: gentle\n    introduced: 2026-03-01\n    thank_for: 30d\n  late")
    rule = book(text).rules["no_show"]
    assert (rule.introduced, rule.thank_for) == (date(2026, 3, 1), timedelta(days=30))


# -- the reference rulebooks ---------------------------------------------------------------------

def _reference_rulebooks() -> list[Path]:
    if not SCENARIOS.is_dir():
        return []
    return sorted([*SCENARIOS.glob("*/rulebook.yaml"), *SCENARIOS.glob("*/good-rulebook.yaml")])


_SHARED_ABSENT = pytest.mark.skipif(not SCENARIOS.is_dir(),
                                    reason=f"{SCENARIOS} is absent: no reference rulebooks to load")


@_SHARED_ABSENT
def test_there_are_reference_rulebooks() -> None:
    assert len(_reference_rulebooks()) >= 6


@_SHARED_ABSENT
@pytest.mark.parametrize("path", _reference_rulebooks(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_reference_rulebook_loads_unchanged(path: Path) -> None:
    b = parse_rulebook(path.read_text(encoding="utf-8"), path.name)
    assert b.rules
    assert b.applies_to


@_SHARED_ABSENT
def test_the_broken_reference_rulebook_is_refused_with_all_its_problems() -> None:
    path = SCENARIOS / "bad-input" / "broken-rulebook.yaml"
    text = path.read_text(encoding="utf-8")
    found = problems(text, "broken-rulebook.yaml")
    fields = {p.field for p in found}
    assert {"ladders.harsh.window", "ladders.harsh.steps.0", "rules.late_cancellation.kind",
            "rules.no_show.ladder"} <= fields
    for p in found:
        assert p.line is not None
        assert str(p).startswith(f"broken-rulebook.yaml:{p.line}: {p.field}: ")
