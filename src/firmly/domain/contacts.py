"""Who hears a message and who writes it: a counterparty's contacts by role, and the workspace's senders.

A counterparty may carry contacts by role (`contacts: {management: {name, email}}` on `counterparty.upserted`);
a ladder step may name `to: management` (or several roles), and its message goes to those people. A role the
counterparty has no contact for falls back to its own address, with a note that says so.

The workspace may list several senders (`senders: [{name, email}]`). Messages rotate among them, but one
thread (a counterparty and a rule) always hears the same voice: a stable hash of the two picks the sender,
and replies go back to that sender (Reply-To).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from firmly.domain.limits import shown
from firmly.domain.said import N_, Said

OWN = "counterparty"  # in `to:`, the counterparty's own address
ROLE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_CONTACTS = 20  # roles on one counterparty
MAX_SENDERS = 50
MAX_NAME = 200  # characters of a contact's or a sender's name
MAX_EMAIL = 254  # RFC 5321's path limit
_EMAIL = re.compile(r"^[^@\s<>\",;()\[\]]+@[^@\s<>\",;()\[\]]+\.[^@\s<>\",;()\[\].]+$")


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    email: str


@dataclass(frozen=True, slots=True)
class Recipient:
    """One address a message goes to: the role it was meant for, and a note when it fell back to another."""

    email: str
    name: str = ""
    role: str = OWN
    note: str = ""  # the roles (comma-separated) this address stands in for, having no contact; or ""


# Roles as the appendix names them (a role not listed here is shown as written, "_" read as a space)
ROLE_WORDS = {
    "ru": {OWN: "вы", "management": "руководство", "owner": "владелец", "director": "директор",
           "accounting": "бухгалтерия", "billing": "бухгалтерия", "reception": "администратор",
           "manager": "ваш менеджер", "legal": "юристы", "quality": "служба качества"},
    "en": {OWN: "you", "management": "your management", "owner": "the owner", "director": "the director",
           "accounting": "your accounts department", "billing": "your billing department",
           "reception": "your reception", "manager": "your account manager", "legal": "your legal team",
           "quality": "your quality team"},
}
GOES_TO = {"ru": "адресат сообщения — {whom}", "en": "the message goes to {whom}"}


def role_words(role: str, lang: str) -> str:
    words = ROLE_WORDS.get(lang, ROLE_WORDS["en"])
    return words.get(role) or role.replace("_", " ")


def goes_to(roles: Iterable[str], lang: str) -> str:
    """`to: [management, owner]` in plain words: "the message goes to your management and the owner"."""
    names = [role_words(r, lang) for r in roles]
    joined = names[0] if len(names) < 2 else ", ".join(names[:-1]) + (" и " if lang == "ru" else " and ") + names[-1]
    return GOES_TO.get(lang, GOES_TO["en"]).format(whom=joined)


def is_email(value: object) -> bool:
    return isinstance(value, str) and len(value) <= MAX_EMAIL and _EMAIL.match(value) is not None


def role_problem(value: object) -> str | None:
    """Why a role name cannot be used, or None."""
    if isinstance(value, str) and ROLE.match(value):
        return None
    return Said(N_("a role is a short name in lowercase latin letters, digits and _ (like management), "
                   "got {value}"), value=shown(value))


def _person_problem(value: object) -> tuple[str, str] | None:
    """(where inside the person, why) or None."""
    if not isinstance(value, dict):
        return "", Said(N_("must be an object with name and email, got {value}"), value=shown(value))
    for key in value:
        if key not in ("name", "email"):
            return f".{key}", Said(N_("unknown field; a contact has name and email"))
    email = value.get("email")
    if not is_email(email):
        return ".email", Said(N_("must be an email address like boss@example.org, got {value}"), value=shown(email))
    name = value.get("name")
    if name is not None and (not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME):
        return ".name", Said(N_("must be a non-empty text of at most {longest} characters, got {value}"),
                             longest=MAX_NAME, value=shown(name))
    return None


def contacts_problem(value: object) -> tuple[str, str] | None:
    """Where in a `contacts` object a problem is (like ".management.email") and what it is, or None."""
    if not isinstance(value, dict):
        return "", Said(N_("must be an object of roles, like {example}, got {value}"),
                        example='{"management": {"name": "…", "email": "…"}}', value=shown(value))
    if len(value) > MAX_CONTACTS:
        return "", Said(N_("has {count} roles; at most {most}"), count=len(value), most=MAX_CONTACTS)
    for role, person in value.items():
        if role == OWN:
            return f".{role}", Said(N_("{role} is the counterparty's own address (its email); name another role"),
                                    role=OWN)
        problem = role_problem(role)
        if problem is not None:
            return f".{role}", problem
        if person is None:  # removes the role's contact
            continue
        found = _person_problem(person)
        if found is not None:
            return f".{role}{found[0]}", found[1]
    return None


def contacts_of(raw: object) -> dict[str, Person]:
    """The contacts as stored on a counterparty (already checked when the event arrived)."""
    out: dict[str, Person] = {}
    if isinstance(raw, dict):
        for role, person in raw.items():
            if isinstance(person, dict) and is_email(person.get("email")):
                out[str(role)] = Person(str(person.get("name") or ""), str(person["email"]))
    return out


def merge(old: object, new: Mapping[str, object]) -> dict[str, object]:
    """A later upsert's contacts over the earlier ones, role by role; a role set to null is removed."""
    merged = dict(old) if isinstance(old, dict) else {}
    for role, person in new.items():
        if person is None:
            merged.pop(role, None)
        else:
            merged[role] = person
    return merged


def recipients(to: Iterable[str], own: str | None, contacts: Mapping[str, Person]) -> list[Recipient]:
    """Where a message goes: each role's contact; a role without one falls back to the counterparty's own
    address (once), noting the roles it stands in for. No own address and no contact: nobody."""
    roles = tuple(dict.fromkeys(to)) or (OWN,)
    out: dict[str, Recipient] = {}
    missing: list[str] = []
    for role in roles:
        person = contacts.get(role) if role != OWN else None
        if person is not None:
            out.setdefault(person.email.lower(), Recipient(person.email, person.name, role))
        elif role != OWN:
            missing.append(role)
    if own is not None and is_email(own) and (OWN in roles or missing) and own.lower() not in out:
        out[own.lower()] = Recipient(own, "", OWN if OWN in roles else missing[0], ",".join(missing))
    return list(out.values())


FALLBACK = {"ru": "нет контакта ({whom}): отправлено на основной адрес контрагента",
            "en": "no contact for {whom}: sent to the counterparty's own address"}


def fallback_note(missing: str | None, lang: str) -> str:
    """The outbox's note on a message that went to the counterparty's own address instead of a role's contact."""
    if not missing:
        return ""
    lang = lang if lang in FALLBACK else "en"
    whom = ", ".join(role_words(r, lang) for r in missing.split(",") if r)
    return FALLBACK[lang].format(whom=whom)


# -- senders -----------------------------------------------------------------------------------------------
def senders_problem(value: object) -> str | None:
    """Why a `senders` setting cannot be used (in plain words), or None."""
    if not isinstance(value, list) or not value:
        return Said(N_("senders must be a list of {{name, email}}, like {example}"),
                    example='[{"name": "Anna, Smile Clinic", "email": "anna@smile.example"}]')
    if len(value) > MAX_SENDERS:
        return Said(N_("senders lists {count}; at most {most}"), count=len(value), most=MAX_SENDERS)
    seen: set[str] = set()
    for i, person in enumerate(value, 1):
        found = _person_problem(person)
        if found is not None:
            return Said(N_("sender {number}{where}: {problem}"), number=i, where=found[0], problem=found[1])
        email = str(person["email"]).lower()
        if email in seen:
            return Said(N_("sender {number}: {email} is listed twice"), number=i, email=person["email"])
        seen.add(email)
    return None


def senders_of(raw: object) -> tuple[Person, ...]:
    if not isinstance(raw, list):
        return ()
    return tuple(Person(str(p.get("name") or ""), str(p["email"])) for p in raw
                 if isinstance(p, dict) and is_email(p.get("email")))


def thread(counterparty: str, rule: str | None) -> str:
    """The thread a message belongs to: one counterparty hearing about one rule (or about its account)."""
    return f"{counterparty}\x1f{rule or ''}"


def sender_for(senders: tuple[Person, ...], counterparty: str, rule: str | None) -> Person | None:
    """The sender of a thread: the same one every time for the same thread, spread evenly across threads."""
    if not senders:
        return None
    digest = hashlib.blake2b(thread(counterparty, rule).encode(), digest_size=8).digest()
    return senders[int.from_bytes(digest, "big") % len(senders)]
