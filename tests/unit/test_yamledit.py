"""The rule editor's core: forms read out of the YAML and written back into it, comments and order kept."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from firmly.domain import yamledit, yamlentries
from firmly.domain.engine.kinds import KINDS
from firmly.domain.errors import InvalidInput
from firmly.domain.rulebook import Rule, parse_rulebook

# One rule of every kind, with comments where people write them
BOOK = """\
# The studio's rules: read by the team every spring
rulebook: all_kinds
version: "1"
title: Every kind of rule
locale: en
currency: EUR
timezone: Europe/Berlin
applies_to: [client]  # clients only; partners have their own

ladders:
  firm:
    window: 90d   # a quarter
    earn_back: 5
    steps:
      - feedback
      - warning
      - fee: "150.00"
      - suspend: 30d
        review: true

tiers:
  key:
    exempt: [late_change]
    surcharge:
      one_channel: "10.00"

# A price list: consultation first
prices:
  consultation: {title: Consultation, price: "120.00"}
  workshop: {title: Workshop, price: "900.00"}

account:
  mode: prepaid
  low_balance: "500.00"
  top_up: "3000.00"

rules:
  # Notice first: it is the one clients ask about
  late_change:
    title: Cancel at least 12 hours before
    why: A late cancellation leaves the time empty.
    kind: notice
    event: appointment.cancelled
    min_notice: 12h
    remind:
      before: appointment.starts_at
      at: [24h, 2h]
    ladder: firm

  no_show:
    title: Tell us if you cannot come
    kind: forbidden
    event: appointment.no_show
    ladder: firm

  one_channel:
    title: Requests go to the shared inbox
    kind: channel
    allowed: [email, portal]

  changes:
    title: Two changes are included
    kind: quota
    event: request.received
    max: 2
    per: project

  on_time:
    title: Invoices are paid when due
    kind: deadline
    expect: payment.received
    due: invoice.due_at
    grace: 3d

  quality:
    title: The work is done without errors
    kind: incident
    weight: {minor: 1, major: 2, fatal: terminate}

  restore_grace:
    title: A late payment keeps its grace if asked politely
    kind: grace
    max_late: 24h
    polite_only: true

  courtesy:
    title: Polite conversation
    kind: courtesy

  forgive:
    title: A polite request is heard
    kind: exceptions
    event: exception.requested
    approve_if: {first_in: 365d, kept_streak_at_least: 3}
    hostile: deny
    otherwise: review
"""

# Per kind: a field of its own, a new value, and how the loaded rulebook reads it back
OWN: dict[str, tuple[str, str, str, Callable[[Rule], bool]]] = {
    "notice": ("late_change", "min_notice", "24h", lambda r: r.min_notice == timedelta(hours=24)),
    "forbidden": ("no_show", "event", "appointment.cancelled", lambda r: r.event == "appointment.cancelled"),
    "channel": ("one_channel", "allowed", "email, phone, chat", lambda r: r.allowed == ("email", "phone", "chat")),
    "quota": ("changes", "max", "3", lambda r: r.max == 3),
    "deadline": ("on_time", "grace", "5d", lambda r: r.grace == timedelta(days=5)),
    "incident": ("quality", "weight/major", "3", lambda r: r.weight["major"] == 3),
    "grace": ("restore_grace", "polite_only", "false", lambda r: r.polite_only is False),
    "courtesy": ("courtesy", "undirected_profanity", "civil", lambda r: r.undirected_profanity == "civil"),
    "exceptions": ("forgive", "otherwise", "deny", lambda r: getattr(r.spec, "otherwise", None) == "deny"),
}


def _examples() -> list[str]:
    root = resources.files("firmly").joinpath("examples")
    return sorted(str(p) for d in root.iterdir() if d.is_dir() for p in d.iterdir()
                  if str(p).endswith(".yaml") and "\nrules:" in p.read_text(encoding="utf-8"))  # rulebooks only


def test_the_sample_has_every_rule_kind() -> None:
    assert set(OWN) == set(KINDS)
    assert {r.kind for r in parse_rulebook(BOOK).rules.values()} == set(KINDS)


@pytest.mark.parametrize("path", _examples(), ids=lambda p: p.rsplit("/", 2)[-2] + "/" + p.rsplit("/", 1)[-1])
def test_a_form_sent_back_unchanged_changes_not_a_byte(path: str) -> None:
    text = Path(path).read_text(encoding="utf-8")
    form = {f.name: f.value for s in yamledit.sections(text) for f in s.fields}
    assert yamledit.apply(text, form) == text
    assert yamledit.apply(text, {}) == text


@pytest.mark.parametrize("kind", sorted(OWN))
def test_every_rule_kind_is_edited_in_its_own_field(kind: str) -> None:
    rule_id, name, value, reads = OWN[kind]
    after = yamledit.apply(BOOK, {f"y/rules/{rule_id}/{name}": value,
                                  f"y/rules/{rule_id}/title": "A new title"})
    book = parse_rulebook(after)
    assert reads(book.rules[rule_id])
    assert book.rules[rule_id].title == "A new title"
    changed = [d for d in yamlentries.diff(BOOK, after) if d.sign in "+-"]
    assert len(changed) == (3 if kind == "courtesy" else 4)  # the lines changed (courtesy: one added), no other


def test_comments_order_and_quotes_are_kept() -> None:
    after = yamledit.apply(BOOK, {"y/ladders/firm/steps/2/fee": "175.00", "y/rules/late_change/remind/at": "48h, 3h",
                                  "y/prices/workshop/price": "950.00", "y/account/top_up": "2500.00",
                                  "y/tiers/key/surcharge/one_channel": "12.50", "y/ladders/firm/window": "120d"})
    for comment in ("# The studio's rules: read by the team every spring", "# clients only; partners have their own",
                    "# a quarter", "# A price list: consultation first",
                    "# Notice first: it is the one clients ask about"):
        assert comment in after
    assert '      - fee: "175.00"\n' in after
    assert "      at: [48h, 3h]\n" in after
    assert 'workshop: {title: Workshop, price: "950.00"}' in after
    assert re.search(r"\n    window: 120d +# a quarter\n", after)  # the comment stays on its line
    assert [line.split(":")[0] for line in after.splitlines()] == [line.split(":")[0] for line in BOOK.splitlines()]
    book = parse_rulebook(after)
    assert book.prices["workshop"].price == Decimal("950.00")
    assert book.tiers["key"].surcharge["one_channel"] == Decimal("12.50")
    assert book.sections.account is not None and book.sections.account.top_up == Decimal("2500.00")


def test_a_blank_field_is_removed_and_an_unwritten_one_added() -> None:
    sections = {(s.group, s.name): s for s in yamledit.sections(BOOK)}
    offered = {f.key: f for f in sections["rules", "no_show"].fields if not f.written}
    assert {"thank_for", "when", "introduced", "kept_by"} <= set(offered)
    assert "min_notice" not in offered  # a forbidden rule has no notice
    after = yamledit.apply(BOOK, {"y/rules/no_show/ladder": "", "y/rules/no_show/thank_for": "30d",
                                  "y/rules/no_show/kept_by": "appointment.attended",
                                  "y/rules/no_show/remind/before": "appointment.starts_at",
                                  "y/rules/no_show/remind/at": "24h",
                                  "y/ladders/firm/steps/1": ""})
    rule = parse_rulebook(after).rules["no_show"]
    assert rule.ladder is None and rule.thank_for is not None and rule.thank_for.days == 30
    assert rule.kept_by == ("appointment.attended",)
    assert rule.remind is not None and rule.remind.entity == "appointment"
    steps = parse_rulebook(after).ladders["firm"].steps
    assert [s.action for s in steps] == ["feedback", "fee", "suspend"]


def test_an_account_term_not_written_is_offered_and_money_written_in_quotes() -> None:
    sections = {(s.group, s.name): s for s in yamledit.sections(BOOK)}
    assert [(f.key, f.written) for f in sections["account", "account"].fields] == [
        ("mode", True), ("low_balance", True), ("top_up", True), ("credit_limit", False)]
    after = yamledit.apply(BOOK, {"y/account/credit_limit": "100.00", "y/rules/changes/max": "3"})
    assert '  credit_limit: "100.00"\n' in after
    assert "    max: 3\n" in after
    account = parse_rulebook(after).sections.account
    assert account is not None and account.credit_limit == Decimal("100.00")


def test_fields_are_named_by_json_pointer_both_ways() -> None:
    path = ("rules", "a/b~c", "steps", 2, "fee")
    assert yamledit.pointer(path) == "y/rules/a~1b~0c/steps/2/fee"
    assert yamledit.unpointer(yamledit.pointer(path)) == path


def test_the_diff_shows_lines_out_and_in() -> None:
    after = yamledit.apply(BOOK, {"y/rules/changes/max": "4"})
    lines = yamlentries.diff(BOOK, after)
    assert [(d.sign, d.text) for d in lines if d.sign in "+-"] == [("-", "    max: 2"), ("+", "    max: 4")]
    assert lines[0].sign == "@"


def test_text_that_is_no_yaml_mapping_is_refused_plainly() -> None:
    with pytest.raises(yamledit.EditError):
        yamledit.sections("- just\n- a list\n")
    with pytest.raises(yamledit.EditError):
        yamledit.sections("a: [unclosed\n")


def test_entries_are_added_at_the_end_of_their_section_before_its_blank_line() -> None:
    after = yamlentries.add(BOOK, "steps", "firm", {"action": "terminate", "value": "true"})
    after = yamlentries.add(after, "prices", "cleaning", {"title": "Cleaning", "price": "80.00"})
    after = yamlentries.add(after, "tiers", "vip", {})
    after = yamlentries.add(after, "rules", "extra", {"title": "No smoking", "kind": "forbidden"})
    assert "        review: true\n      - terminate: true\n\ntiers:" in after
    assert '  workshop: {title: Workshop, price: "900.00"}\n  cleaning: {title: Cleaning, price: "80.00"}\n\n' \
        in after
    assert '      one_channel: "10.00"\n  vip:\n    exempt: []\n\n# A price list' in after
    assert after.endswith("    otherwise: review\n  extra:\n    title: No smoking\n    kind: forbidden\n")
    assert yamlentries.names(after, "tiers") == ["key", "vip"]
    with pytest.raises(yamledit.EditError):
        yamlentries.add(BOOK, "rules", "no_show", {"kind": "forbidden"})
    with pytest.raises(yamledit.EditError):
        yamlentries.add(BOOK, "steps", "nowhere", {"action": "fee"})
    problems = [p.field for p in _problems(after)]
    assert problems == ["rules.extra.event"]  # the new rule asks for what it needs; the rest is whole


def _problems(text: str) -> list[Any]:
    try:
        parse_rulebook(text)
    except InvalidInput as exc:
        return list(exc.problems)
    return []


def test_a_text_past_the_rulebooks_limits_is_refused_before_it_is_walked() -> None:
    laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8))
    with pytest.raises(yamledit.EditError, match="aliases"):
        yamledit.sections(laughs)
    with pytest.raises(yamledit.EditError):
        yamledit.apply(laughs, {"y/a": "y"})
