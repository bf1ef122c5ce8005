"""The review queue: approve, soften or dismiss a proposal, alone or several with one reason; reopen a
dismissed one; reinstate a terminated relationship. Every act keeps its reason; approving a suspension or
a termination asks again, naming what it does."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from firmly.doors.web import i18n
from firmly.doors.web.routes._common import answer, answer_async, back, field, store_of, web
from firmly.doors.web.security import ACT, Refused, Visitor, check_form, signed_in
from firmly.service import review, review_queue

router = APIRouter()


@router.get("/review")
def queue(request: Request, act: str = "", n: str = "", failed: str = "") -> HTMLResponse:
    who = signed_in(request)
    found = answer(lambda: review_queue.queue(store_of(request, who), i18n.current()))
    return web(request).page(request, "review.html", nav="review", q=found, act=act if act in review.ACTS else "",
                             n=int(n) if n.isdigit() else 0, failed=int(failed) if failed.isdigit() else 0)


@router.post("/review/bulk")
async def act_on_many(request: Request) -> Response:
    who = signed_in(request, ACT)
    form = await request.form()
    check_form(request, form)
    act, reason = field(form, "act"), field(form, "reason")
    chosen = [v for v in form.getlist("decision") if isinstance(v, str) and v]
    if act not in ("approve", "dismiss"):
        raise Refused(400, i18n.gettext("Choose approve or dismiss for the selected proposals."))
    _need_reason(reason)
    if not chosen:
        raise Refused(400, i18n.gettext("Select at least one proposal."))
    store = store_of(request, who)
    if act == "approve" and field(form, "confirmed") != "yes":
        grave = [p for p in answer(lambda: review_queue.queue(store, i18n.current())).proposals
                 if p.id in chosen and p.grave]
        if grave:
            return _confirm(request, grave, act, reason, "/review/bulk", chosen)
    author = _author(who)
    done = await answer_async(lambda: review.act_on_many(store, chosen, act, reason, author))
    failed = sum(1 for _, error in done if error)
    return back(f"/review?act={act}&n={len(done) - failed}&failed={failed}")


@router.post("/review/{decision}")
async def act_on(request: Request, decision: str) -> Response:
    who = signed_in(request, ACT)
    form = await request.form()
    check_form(request, form)
    act, reason, step_text = field(form, "act"), field(form, "reason"), field(form, "step")
    if act not in review.ACTS:
        raise Refused(400, i18n.gettext("Choose approve, soften or dismiss."))
    _need_reason(reason)
    step = int(step_text) if step_text.isdigit() else None
    if act == "soften" and step is None:
        raise Refused(400, i18n.gettext("To soften, choose the lower step to apply."))
    store = store_of(request, who)
    if act == "approve" and field(form, "confirmed") != "yes":
        grave = [p for p in answer(lambda: review_queue.queue(store, i18n.current())).proposals
                 if p.id == decision and p.grave]
        if grave:
            return _confirm(request, grave, act, reason, f"/review/{decision}", [decision])
    author = _author(who)
    await answer_async(lambda: review.act(store, decision, act, reason, author, step))
    return back(f"/review?act={act}&n=1")


def _need_reason(reason: str) -> None:
    if not reason:
        raise Refused(400, i18n.gettext("A reason is required: every act on the review queue keeps its reason."))


def _author(who: Visitor) -> str:
    assert who.user is not None
    return who.user.email


def _confirm(request: Request, grave: list[Any], act: str, reason: str, action: str, chosen: list[str]
             ) -> HTMLResponse:
    """Before a suspension or a termination applies: what it does, to whom, until when; nothing changed yet."""
    return web(request).page(request, "review_confirm.html", nav="review", grave=grave, act=act, reason=reason,
                             action=action, chosen=chosen)
