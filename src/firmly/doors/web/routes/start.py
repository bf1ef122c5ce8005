"""The start page: an empty workspace picks its business, answers a few questions, sees the rulebook's appendix
and the first messages a client would get, loads it, then learns how to send its events."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from firmly.domain.errors import InvalidInput, Problem
from firmly.domain.messages import Fields, Letter, compose
from firmly.domain.render import render_html
from firmly.domain.rulebook import Rulebook, parse_rulebook
from firmly.doors.web import i18n
from firmly.doors.web.routes._common import answer, answer_async, back, body_of, field, store_of, stored_version, web
from firmly.doors.web.security import ADMIN, check_form, now_us, signed_in
from firmly.service import rulebooks, starter, tokens

router = APIRouter()


def _answers(values: Any) -> starter.Answers:
    notice = str(values.get("notice_hours") or "12").strip()
    return starter.Answers(
        business=str(values.get("business") or ""), name=str(values.get("name") or "").strip(),
        preset=str(values.get("preset") or "moderate"), notice_hours=int(notice) if notice.isdigit() else 0,
        fee=str(values.get("fee") or "").strip().replace(",", "."), currency=str(values.get("currency") or ""))


def _field_errors(problems: list[Problem]) -> dict[str, str]:
    """The start form's problems by field, in the reader's language."""
    words = {
        "business": i18n.gettext("Pick the kind of business."),
        "name": i18n.gettext("Write the business's name (at most 120 characters)."),
        "preset": i18n.gettext("Pick how strict the rules are."),
        "notice_hours": i18n.gettext("A whole number of hours from 1 to 336."),
        "fee": i18n.gettext("An amount above zero, like 25 or 25.50."),
        "currency": i18n.gettext("Pick a currency."),
    }
    return {p.field: words.get(p.field, p.message) for p in problems}


def _draft(request: Request, answers: starter.Answers) -> tuple[str, Rulebook]:
    who = signed_in(request)
    assert who.user is not None
    source = starter.draft(answers, i18n.current(), web(request).timezone(who.user.workspace))
    return source, parse_rulebook(source, "start.yaml")


def _letters(book: Rulebook) -> list[tuple[str, Letter]]:
    """The first messages a client would get under the rulebook's first rule: a reminder if it sends one, then
    each step of its ladder up to the first that costs money."""
    rule = next(iter(book.rules.values()))
    ladder = book.ladders.get(rule.ladder or "")
    lang = book.locale
    name = i18n.gettext("Anna")
    sender = book.title.split(" — ")[0]
    shown: list[tuple[str, Letter]] = []
    explained = {
        "reminder": i18n.gettext("This is a reminder ahead of time, as the rule asks."),
        "feedback": i18n.gettext("This time the rule was not kept."),
        "warning": i18n.gettext("The rule was not kept again within the period it counts."),
        "fee": i18n.gettext("The rule was not kept a third time, so the fee applies."),
    }
    if rule.remind is not None:
        shown.append(("reminder", compose("reminder", lang, Fields(name, rule.title, rule.why, explained["reminder"],
                                                                  sender=sender))))
    for step in ladder.steps if ladder else ():
        if step.action not in explained:
            break
        amount = i18n.money(step.amount, book.currency) if step.amount is not None else ""
        shown.append((step.action, compose(step.action, lang, Fields(
            name, rule.title, rule.why, explained[step.action], amount=amount, sender=sender))))
        if step.action == "fee":
            break
    return shown


@router.get("/start")
def start(request: Request, business: str = "", preview: str = "") -> HTMLResponse:
    who = signed_in(request)
    values = dict(request.query_params)
    values.setdefault("name", "")
    values.setdefault("preset", "moderate")
    values.setdefault("notice_hours", "12")
    values.setdefault("fee", "25")
    values.setdefault("currency", "RUB" if i18n.current() == "ru" else "EUR")
    context: dict[str, Any] = {"nav": "start", "values": values, "errors": {}, "book": None,
                               "businesses": starter.BUSINESSES, "presets": starter.PRESETS,
                               "currencies": starter.CURRENCIES, "loaded": answer(lambda: rulebooks.stored(
                                   store_of(request, who)))}
    if preview and business:
        try:
            source, book = _draft(request, _answers(values))
        except InvalidInput as exc:
            context["errors"] = _field_errors(exc.problems)
            return web(request).page(request, "start.html", http_status=422, **context)
        context.update(book=book, source=source, letters=_letters(book),
                       appendix=Markup(body_of(render_html(book, book.locale))))
    return web(request).page(request, "start.html", **context)


@router.post("/start/load")
async def load(request: Request) -> Response:
    who = signed_in(request, ADMIN)
    form = await request.form()
    check_form(request, form)
    try:
        _, book = await run_in_threadpool(_draft, request, _answers(form))
    except InvalidInput as exc:
        values = {k: field(form, k) for k in ("business", "name", "preset", "notice_hours", "fee", "currency")}
        return web(request).page(request, "start.html", http_status=422, nav="start", values=values,
                                 errors=_field_errors(exc.problems), book=None, businesses=starter.BUSINESSES,
                                 presets=starter.PRESETS, currencies=starter.CURRENCIES, loaded=[])
    loaded = await stored_version(request, who, book)
    return back(f"/start/events?loaded={loaded.id}")


@router.get("/start/events")
def events(request: Request, loaded: str = "") -> HTMLResponse:
    signed_in(request)
    return web(request).page(request, "start_events.html", nav="start", loaded=loaded, token=None)


@router.post("/start/token")
async def token(request: Request) -> HTMLResponse:
    """An ingest token for the API, shown once on the page that made it."""
    who = signed_in(request, ADMIN)
    form = await request.form()
    check_form(request, form)
    name = field(form, "name")[:80] or i18n.gettext("events")
    issued = await answer_async(lambda: tokens.create(store_of(request, who), "ingest", name, now_us()))
    return web(request).page(request, "start_events.html", nav="start", loaded="", token=issued.token,
                             token_name=name)
