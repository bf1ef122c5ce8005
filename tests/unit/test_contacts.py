"""The right recipient and sender (domain/contacts.py): contacts by role on a counterparty, a ladder step's
`to:`, the workspace's senders picked per thread, and how the appendix and the outbox say it."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from tests.unit.conftest import fold, line_of, raw
from tests.unit.test_ladder import ladder_book
from tests.unit.test_rulebook import assert_reported, only, problems

from firmly.domain import contacts
from firmly.domain.contacts import OWN, Person, Recipient
from firmly.domain.events import EventError, validate
from firmly.domain.render import render_markdown

BOSS = Person("Dr Helen Park", "director@north.example")
BOOKS = Person("Sam Lee", "accounts@north.example")
CONTACTS = {"management": BOSS, "accounting": BOOKS}


# -- where a message goes ----------------------------------------------------------------------------------
def test_no_to_means_the_counterparty_itself() -> None:
    assert contacts.recipients((), "desk@north.example", CONTACTS) == [Recipient("desk@north.example")]


def test_a_role_with_a_contact_gets_the_message_instead_of_the_counterparty() -> None:
    assert contacts.recipients(("management",), "desk@north.example", CONTACTS) == [
        Recipient("director@north.example", "Dr Helen Park", "management")]


def test_several_roles_and_the_counterparty_each_get_it_once() -> None:
    found = contacts.recipients(("management", "accounting", OWN, "management"), "desk@north.example", CONTACTS)
    assert [r.email for r in found] == ["director@north.example", "accounts@north.example", "desk@north.example"]
    assert all(r.note == "" for r in found)


def test_a_missing_role_falls_back_to_the_own_address_with_a_note() -> None:
    found = contacts.recipients(("management", "legal"), "desk@river.example", {})
    assert found == [Recipient("desk@river.example", "", "management", "management,legal")]
    assert contacts.fallback_note(found[0].note, "en") == ("no contact for your management, your legal team: "
                                                           "sent to the counterparty's own address")
    assert contacts.fallback_note(found[0].note, "ru") == ("нет контакта (руководство, юристы): отправлено на "
                                                           "основной адрес контрагента")
    assert contacts.fallback_note(None, "en") == ""


def test_a_missing_role_beside_one_that_has_a_contact_still_falls_back() -> None:
    found = contacts.recipients(("management", "legal"), "desk@north.example", CONTACTS)
    assert [(r.email, r.note) for r in found] == [("director@north.example", ""), ("desk@north.example", "legal")]


def test_nobody_to_write_to_is_no_message() -> None:
    assert contacts.recipients(("management",), None, {}) == []
    assert contacts.recipients((), "not an address", CONTACTS) == []


def test_a_contact_with_the_own_address_is_not_written_to_twice() -> None:
    same = {"management": Person("Boss", "Desk@North.example")}
    assert [r.email for r in contacts.recipients(("management", OWN), "desk@north.example", same)] == [
        "Desk@North.example"]


# -- contacts on counterparty.upserted -----------------------------------------------------------------------
def upsert(**data: Any) -> dict[str, Any]:
    return raw("cp", "counterparty.upserted", "north", "2026-06-01T09:00:00+01:00", kind="partner", **data)


@pytest.mark.parametrize(("given", "field", "says"), [
    ("boss@north.example", "data.contacts", "must be an object of roles"),
    ({"Management": {"email": "a@b.example"}}, "data.contacts", "Management: a role is a short name"),
    ({"management": {"email": "boss"}}, "data.contacts", "management.email: must be an email address"),
    ({"management": {"name": "Boss"}}, "data.contacts", "management.email: must be an email address"),
    ({"management": {"email": "a@b.example", "phone": "1"}}, "data.contacts", "management.phone: unknown field"),
    ({"management": {"email": "a@b.example", "name": ""}}, "data.contacts", "management.name: must be a non-empty"),
    ({"management": "a@b.example"}, "data.contacts", "management: must be an object with name and email"),
    ({OWN: {"email": "a@b.example"}}, "data.contacts", "counterparty is the counterparty's own address"),
    ({f"r{i}": {"email": f"r{i}@b.example"} for i in range(21)}, "data.contacts", "has 21 roles; at most 20"),
])
def test_bad_contacts_are_refused_naming_the_role_and_field(given: object, field: str, says: str) -> None:
    with pytest.raises(EventError) as caught:
        validate(upsert(contacts=given))
    assert caught.value.field == field
    assert says in caught.value.message


def test_contacts_are_kept_role_by_role_and_null_removes_one() -> None:
    book = ladder_book("      - feedback")
    first = upsert(contacts={"management": {"name": "Boss", "email": "boss@north.example"},
                             "accounting": {"email": "acc@north.example"}})
    later = {**upsert(contacts={"accounting": None, "owner": {"email": "owner@north.example"}}), "id": "cp2",
             "occurred_at": "2026-06-02T09:00:00+01:00"}
    done = fold(book, [first, later])
    stored = contacts.contacts_of(done.states["north"].info["contacts"])  # type: ignore[index]
    assert stored == {"management": Person("Boss", "boss@north.example"), "owner": Person("", "owner@north.example")}


# -- to: in a ladder step ------------------------------------------------------------------------------------
STEPS = """\
      - feedback
      - warning:
        to: management
      - fee: "500.00"
        to: [management, counterparty]
"""


def test_a_step_names_its_roles_and_the_appendix_says_so_in_words() -> None:
    book = ladder_book(STEPS)
    steps = book.ladders["test"].steps
    assert [s.to for s in steps] == [(), ("management",), ("management", OWN)]
    assert steps[2].amount is not None
    en = render_markdown(book, "en")
    assert "a warning about the next step; the message goes to your management" in en
    assert "the message goes to your management and you" in en
    ru = render_markdown(book, "ru")
    assert "предупреждение о следующем шаге; адресат сообщения — руководство" in ru
    assert "адресат сообщения — руководство и вы" in ru


def test_an_unknown_role_is_shown_as_written() -> None:
    assert contacts.goes_to(["head_nurse", "owner"], "en") == "the message goes to head nurse and the owner"


@pytest.mark.parametrize(("to", "needle", "says"), [
    ("Management", "to: Management", "a role is a short name"),
    ("[management, 5]", "to: [management, 5]", "a role is a short name"),
    ("[]", "to: []", "names the contacts' roles"),
    ("{management: yes}", "to: {management", "names the contacts' roles"),
])
def test_a_bad_to_is_reported_at_its_line(to: str, needle: str, says: str) -> None:
    yaml_steps = f"      - feedback\n      - warning:\n        to: {to}\n"
    source = _ladder_source(yaml_steps)
    found = problems(source)
    problem = next(p for p in found if p.field.startswith("ladders.test.steps.1.to"))
    assert_reported(problem, source, needle)
    assert says in problem.message


def test_a_step_with_to_and_two_actions_is_still_one_action() -> None:
    source = _ladder_source("      - feedback\n      - warning: true\n        fee: \"5.00\"\n        to: management\n")
    problem = only(problems(source), "ladders.test.steps.1")
    assert problem.line == line_of(source, "- warning: true")
    assert "a step names one action" in problem.message


def _ladder_source(steps: str) -> str:
    return f"""\
rulebook: ladder
version: "1"
title: Ladder
locale: en
currency: RUB
timezone: Europe/Moscow
applies_to: [client]
ladders:
  test:
    window: 180d
    steps:
{steps}rules:
  no_show:
    title: Come or call
    kind: forbidden
    event: appointment.no_show
    ladder: test
"""


# -- senders -------------------------------------------------------------------------------------------------
VOICES = (Person("Anna", "anna@care.example"), Person("Tom", "tom@care.example"), Person("Ira", "ira@care.example"))


def test_one_thread_always_hears_the_same_sender() -> None:
    first = contacts.sender_for(VOICES, "north", "booking_handling")
    assert all(contacts.sender_for(VOICES, "north", "booking_handling") == first for _ in range(10))
    assert contacts.sender_for((), "north", "booking_handling") is None


def test_senders_rotate_across_threads_roughly_evenly() -> None:
    picked = Counter(contacts.sender_for(VOICES, f"client-{i}", rule)
                     for i in range(300) for rule in ("no_show", "late_payment"))
    assert set(picked) == set(VOICES)
    assert min(picked.values()) > 150  # 600 threads over 3 senders: about 200 each
    by_rule = {contacts.sender_for(VOICES, "client-1", f"rule-{n}") for n in range(20)}
    assert len(by_rule) > 1  # one counterparty hears different people about different rules


@pytest.mark.parametrize(("value", "says"), [
    ("not a list", "senders must be a list of {name, email}"),
    ([], "senders must be a list of {name, email}"),
    ([{"name": "Nobody"}], "sender 1.email: must be an email address"),
    ([{"email": "a@b.example"}, {"email": "A@b.example"}], "sender 2: A@b.example is listed twice"),
    ([{"email": "a@b.example", "title": "x"}], "sender 1.title: unknown field"),
    ([{"email": f"s{i}@b.example"} for i in range(51)], "senders lists 51; at most 50"),
])
def test_bad_senders_are_named_in_plain_words(value: object, says: str) -> None:
    problem = contacts.senders_problem(value)
    assert problem is not None and says in problem


def test_good_senders_are_read() -> None:
    value = [{"name": "Anna", "email": "anna@care.example"}, {"email": "tom@care.example"}]
    assert contacts.senders_problem(value) is None
    assert contacts.senders_of(value) == (Person("Anna", "anna@care.example"), Person("", "tom@care.example"))
