"""The review queue: approve, soften or dismiss a proposal, always with a reason."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from firmly.domain.clock import parse_instant
from firmly.doors.web import i18n
from firmly.doors.web.routes._common import answer, answer_async, back, field, store_of, web
from firmly.doors.web.security import ACT, Refused, check_form, signed_in
from firmly.service import queries, review

router = APIRouter()


@router.get("/review")
def queue(request: Request, done: str = "", act: str = "") -> HTMLResponse:
    who = signed_in(request)
    store = store_of(request, who)
    pending = answer(lambda: [{**queries.public(r), "rule_title": r["rule_title"]}
                              for r in review.pending_for(store, i18n.current())])
    acts = [{**a, "at": parse_instant(a["at"])} for a in answer(lambda: review.log(store))[::-1][:50]]
    return web(request).page(request, "review.html", nav="review", pending=pending, acts=acts, done=done, act=act)


@router.post("/review/{decision}")
async def act_on(request: Request, decision: str) -> Response:
    who = signed_in(request, ACT)
    form = await request.form()
    check_form(request, form)
    act, reason, step_text = field(form, "act"), field(form, "reason"), field(form, "step")
    if act not in review.ACTS:
        raise Refused(400, i18n.gettext("Choose approve, soften or dismiss."))
    if not reason:
        raise Refused(400, i18n.gettext("A reason is required: every act on the review queue keeps its reason."))
    step = int(step_text) if step_text.isdigit() else None
    if act == "soften" and step is None:
        raise Refused(400, i18n.gettext("To soften, choose the lower step to apply."))
    assert who.user is not None
    author = who.user.email
    await answer_async(lambda: review.act(store_of(request, who), decision, act, reason, author, step))
    return back(f"/review?done={decision}&act={act}")
