"""A counterparty's own page: the signed link every message carries, and what the page behind it shows.

The link is `PAGE_URL/my/WORKSPACE/TOKEN`. The token is signed (itsdangerous, HMAC-SHA256) with a secret of
the workspace's own, kept in its settings and never listed; it carries the counterparty's key, its link
generation and the moment it expires. Nothing is stored per link: `counterparty link revoke KEY` raises the
counterparty's generation, and every link made before no longer opens. A token from another workspace, a
changed character or an old generation opens nothing, and says only that the link does not work.

The page shows the counterparty's standing per rule (strikes, what comes next, how to earn one back), its
restrictions, the rules' appendix and its account, and takes one thing from it: a request for leniency about
one of its own decisions, recorded as an `exception.requested` (or, for a late payment, `grace.requested`)
event through the normal ingest path, so its tone is read as any message's is.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from itsdangerous import BadData, URLSafeSerializer

from firmly import config
from firmly.domain import limits, seller
from firmly.domain.clock import iso
from firmly.domain.errors import FirmlyError, NotFound
from firmly.domain.ledger import statement
from firmly.domain.messages import COMMUNICATED
from firmly.domain.ports import AttemptRow, Store, UserStore
from firmly.domain.rulebook import Rulebook
from firmly.domain.vocabulary import N_
from firmly.service import throttle, workspace
from firmly.service.policy import explanation, row_to_decision
from firmly.service.queries import present, public

SECRET = "page_secret"  # the workspace's signing secret: made on first use, never listed
GENERATION = "page_generation:"  # + a counterparty's key: its links' generation, raised by a revocation
SETTINGS = {
    "page_url": N_("where clients open their own page: the start of the link in every message "
                   "(default http://HOST:PORT of `firmly serve`)"),
    "page_link_days": N_("for how many days a link in a message opens the client's page (default 30)"),
}
DEFAULT_DAYS = 30
SALT = "firmly.own-page"
DAY_US = 86_400_000_000
ASKS = ("waive_fee", "forgive_strike", "change_booking", "grace")  # grace: a late payment (grace.requested)
ASKED = ("applied", "approved", "softened")  # decisions that happened: the ones leniency can be asked about
NOT_ASKED = frozenset({"reminder", "thanks", "earn_back", "grace_approved"})  # nothing to be lenient about
REQUESTS_PER_DAY = 5  # requests one counterparty may send from its page in a day
LINK_WORDS = {"ru": "Ваша страница: правила, ваше положение, счёт и просьба о снисхождении —",
              "en": "Your own page: the rules, your standing, your account and a request for leniency —"}


# How often one address may (what: (times, in so many µs)): open pages, send requests, bring a broken link
LIMITS = {"view": (120, 60_000_000), "plea": (10, 3_600_000_000), "broken": (20, 3_600_000_000)}


def _key(what: str, address: str) -> str:
    return f"page-{what}:{throttle._network(address)}"[:400]  # an IPv6 /64 is one address, as for logins


def take_turn(store: UserStore, what: str, address: str, now: int, held_by: tuple[str, ...] = ()) -> int:
    """0 when this address may go on (the turn is counted), else the seconds until it may: while its own count
    or one of `held_by`'s (an address that brought too many broken links opens no page for a while) is full.
    Counted in the database, as login attempts are, so every server process counts the same turns."""
    times, window = LIMITS[what]
    key = _key(what, address)
    with store.write():
        found = store.login_attempts([key, *(_key(other, address) for other in held_by)])
        locked = max((r.locked_until for r in found.values()), default=0)
        if locked > now:
            return max(1, -(-(locked - now) // 1_000_000))
        row = found.get(key)
        count, start = (1, now) if row is None or row.last_at <= now - window else (row.failures + 1, row.last_at)
        store.put_login_attempt(AttemptRow(key, count, start, start + window if count >= times else 0))
    return 0


def hidden(name: str) -> bool:
    """A setting never shown in a listing (the signing secret, the links' generations)."""
    return name == SECRET or name.startswith(GENERATION)


def check_setting(name: str, value: str) -> None:
    if name == "page_link_days" and not (value.isdigit() and 0 < int(value) <= 3650):
        raise FirmlyError(f"page_link_days must be a whole number of days from 1 to 3650, got {value!r}")
    if name == "page_url" and not _web_address(value):
        raise FirmlyError(f"page_url must be an http(s) URL, like https://clinic.example.org, got {value!r}")


def _web_address(value: str) -> bool:
    """An http(s) URL with a host, no query or fragment, and nothing a mail client would cut a link at."""
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return (parts.scheme in ("http", "https") and bool(parts.hostname) and not parts.query and not parts.fragment
            and len(value) <= 500 and all(c.isprintable() and not c.isspace() for c in value))


class Refusal(Exception):
    """The link opens nothing: `why` is "broken" (tampered, unknown, another workspace's), "expired" or
    "revoked"."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


def _serializer(secret: str, ws: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=f"{SALT}:{ws}", signer_kwargs={"digest_method": hashlib.sha256})


def _generation(settings: dict[str, str], key: str) -> int:
    value = settings.get(GENERATION + key, "0")
    return int(value) if value.isdigit() else 0


def _days(settings: dict[str, str]) -> int:
    value = settings.get("page_link_days", "")
    return int(value) if value.isdigit() and int(value) > 0 else DEFAULT_DAYS


def base_url(settings: dict[str, str]) -> str:
    found = settings.get("page_url") or f"http://{config.HOST.value()}:{config.PORT.value()}"
    return found.rstrip("/")


def secret_of(store: Store, settings: dict[str, str]) -> str:
    """The workspace's signing secret, made now if it has none (the caller holds a write transaction)."""
    found = settings.get(SECRET)
    if not found:
        found = secrets.token_urlsafe(32)
        store.set_setting(SECRET, found)
        settings[SECRET] = found
    return found


def link(store: Store, settings: dict[str, str], key: str, now: int) -> str:
    """The link for `key`, valid `page_link_days` from the wall clock `now` (µs), in the caller's write
    transaction (the first link of a workspace makes its secret)."""
    return link_until(store, settings, key, now)[0]


def link_until(store: Store, settings: dict[str, str], key: str, now: int) -> tuple[str, int]:
    """The link for `key` and the moment (µs) it stops opening the page, as `link`."""
    secret = secret_of(store, settings)
    expires = (now + _days(settings) * DAY_US) // 1_000_000
    token = _serializer(secret, store.workspace).dumps([key, _generation(settings, key), expires])
    return f"{base_url(settings)}/my/{quote(store.workspace, safe='')}/{token}", expires * 1_000_000


def link_line(lang: str, url: str) -> str:
    """The lines a message ends with: a sentence saying what the link is, then the link alone."""
    return f"\n{LINK_WORDS.get(lang, LINK_WORDS['en'])}\n{url}\n"


def show_link(store: Store, key: str, now: int) -> str:
    """`counterparty link show KEY`: a fresh link to the counterparty's page."""
    return fresh_link(store, key, now)[0]


def fresh_link(store: Store, key: str, now: int) -> tuple[str, int]:
    """A fresh link to the counterparty's page and the moment (µs) it expires (read only once the workspace has
    its secret: a staff page showing the link writes nothing)."""
    with store.read():
        workspace.current(store)
        if key not in store.load_states([key]):
            raise NotFound(f"no counterparty {key!r} in workspace {store.workspace!r}")
        settings = store.settings()
        if settings.get(SECRET):
            return link_until(store, settings, key, now)
    with store.write():
        workspace.current(store)
        if key not in store.load_states([key]):
            raise NotFound(f"no counterparty {key!r} in workspace {store.workspace!r}")
        return link_until(store, store.settings(), key, now)


def revoke(store: Store, key: str) -> int:
    """`counterparty link revoke KEY`: every link made so far stops opening; returns the new generation."""
    with store.write():
        workspace.current(store)
        if key not in store.load_states([key]):
            raise NotFound(f"no counterparty {key!r} in workspace {store.workspace!r}")
        generation = _generation(store.settings(), key) + 1
        store.set_setting(GENERATION + key, str(generation))
    return generation


def holder(store: Store, token: str, now: int) -> str:
    """The key of the counterparty `token` opens the page of, or Refusal."""
    if not token or len(token) > 600:
        raise Refusal("broken")
    with store.read():
        settings = store.settings() if store.workspace_info() is not None else {}
    secret = settings.get(SECRET)
    if not secret:
        raise Refusal("broken")
    try:
        payload = _serializer(secret, store.workspace).loads(token)
    except (BadData, ValueError):
        raise Refusal("broken") from None
    if not (isinstance(payload, list) and len(payload) == 3 and isinstance(payload[0], str)
            and all(isinstance(v, int) and not isinstance(v, bool) for v in payload[1:])):
        raise Refusal("broken")
    key: str = payload[0]
    generation, expires = payload[1], payload[2]
    if generation != _generation(settings, key):
        raise Refusal("revoked")
    if expires * 1_000_000 <= now:
        raise Refusal("expired")
    return key


@dataclass(frozen=True, slots=True)
class Standing:
    """One rule as the counterparty sees it."""

    title: str
    why: str
    strikes: int
    window_days: int | None
    earn_back: int | None
    kept_streak: int
    next_action: str | None  # the ladder's step a next breach brings
    next_amount: str | None
    next_days: int | None
    currency: str


@dataclass(frozen=True, slots=True)
class Page:
    key: str
    name: str
    lang: str
    timezone: str
    status: str
    rules: list[Standing]
    restrictions: list[dict[str, Any]]
    account: dict[str, Any] | None
    decisions: list[dict[str, Any]]  # what happened, newest first: the ones a request can be about
    books: list[Rulebook]
    requests_today: int


def page(store: Store, key: str, now: int, lang: str | None = None) -> Page:
    """What the counterparty's page shows, in `lang` or its own language (the rulebook's, else the
    workspace's)."""
    with store.read():
        found = present(store, key)
        ws, st, engine, clock, table, shown = found.ws, found.st, found.engine, found.now, found.table, found.conduct
        account: dict[str, Any] | None = None
        if st.account is not None:
            balance, due, _ = statement(store.postings(key))
            own = {k: v for k, v in store.settings().items() if k in seller.SETTINGS and v}
            ready = not seller.missing(own) and not seller.mismatches(own)
            account = {"balance": balance, "due": due, "currency": st.account.currency,
                       "invoice": bool(st.account.invoiced) and ready}
        rows = [d for d in store.decisions(counterparty=key) if d["status"] in ASKED
                and d["action"] in COMMUNICATED and d["action"] not in NOT_ASKED]
        asked = [ev for ev in store.events_about([key]) if ev.counterparty == key
                 and ev.type in ("exception.requested", "grace.requested") and ev.at > now - DAY_US]
    lang = lang or st.locale or (table.books[0].locale if table.books else ws.locale)
    rules = []
    for rule_id, c in table.rules.items():
        figures = shown["rules"][rule_id]
        ladder = c.ladder
        step = None
        if ladder is not None and ladder.steps:
            step = ladder.steps[min(figures["strikes"], len(ladder.steps) - 1)]
        rules.append(Standing(c.rule.title, c.rule.why or "", figures["strikes"],
                              ladder.window.days if ladder else None, ladder.earn_back if ladder else None,
                              figures["kept_streak"], step.action if step else None,
                              None if step is None or step.amount is None else str(step.amount),
                              None if step is None or step.duration is None else step.duration.days,
                              c.book.currency))
    rules.sort(key=lambda r: -r.strikes)  # the rules the reader has strikes under first
    titles = {rule_id: c.rule.title for rule_id, c in table.rules.items()}
    restrictions = [{"type": r.type, "until": r.until, "rule_title": titles.get(r.rule, "")}
                    for r in st.restrictions or () if r.until > clock]
    rows.sort(key=lambda d: (d["at"], d["id"]), reverse=True)
    decisions = [{**public(d), "at_us": d["at"], "rule_title": titles.get(d["rule"] or "", ""),
                  "explanation": explanation(engine, row_to_decision(d), st, ws, lang)} for d in rows[:50]]
    return Page(st.key, st.name, lang, ws.timezone, shown["status"], rules, restrictions, account, decisions,
                list(table.books), len(asked))


@dataclass(frozen=True, slots=True)
class Plea:
    """A request for leniency as the form sent it, checked."""

    about: str
    ask: str
    text: str


def checked(found: Page, about: str, ask: str, text: str) -> Plea | str:
    """The request, or what is wrong with it (a short code the page words: "about", "ask", "text", "many")."""
    if found.requests_today >= REQUESTS_PER_DAY:
        return "many"
    if ask not in ASKS:
        return "ask"
    if about not in {d["id"] for d in found.decisions}:
        return "about"
    text = text.strip()
    if not text or len(text) > min(limits.TEXT, 4000):
        return "text"
    return Plea(about, ask, text)


def envelope(key: str, lang: str, request: Plea, now: int) -> dict[str, Any]:
    """The event the request becomes: `grace.requested` for a late payment, else `exception.requested`."""
    unique = secrets.token_hex(6)
    named = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()
    if request.ask == "grace":
        return {"id": f"page-grace-{named}-{unique}", "type": "grace.requested", "counterparty": key,
                "occurred_at": iso(now), "data": {"text": request.text}}
    return {"id": f"page-exception-{named}-{unique}", "type": "exception.requested", "counterparty": key,
            "occurred_at": iso(now), "data": {"text": request.text, "about": request.about, "ask": request.ask,
                                               "lang": lang}}
