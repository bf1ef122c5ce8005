"""How far deciding has come: the workspace, and the poll behind an answer 202's `Location`. They tell,
and decide nothing themselves (every other read decides what waits first)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from firmly.domain.clock import iso
from firmly.doors.api.auth import Anyone
from firmly.doors.api.routes import ERRORS
from firmly.doors.api.shapes import DECIDED_THROUGH, WORKSPACE, answer
from firmly.service import settle, workspace

router = APIRouter(prefix="/v1", responses=ERRORS)


@router.get("/events/through/{through}", tags=["events"],
            summary="How far deciding has come: are the events of an answer 202 decided?",
            response_model=None, responses=answer(DECIDED_THROUGH))
def get_through(through: Annotated[int, Path(ge=0, description="an answer 202's `through`")],
                who: Anyone) -> dict[str, Any]:
    """`done` once every event up to the arrival number `through` (an answer 202's) is decided; until then
    `pending` events wait. It decides nothing itself: it tells."""
    found = settle.progress(workspace.info(who.store, count=True))
    return {"through": through, **found, "done": found["decided_through"] >= through}


@router.get("/workspace", tags=["events"], summary="The workspace: its language, zone, clock and deciding",
            response_model=None, responses=answer(WORKSPACE))
def get_workspace(who: Anyone) -> dict[str, Any]:
    """`events`: the arrival number of the last event taken; `decided_through`: every event up to it is
    decided; `pending`: how many wait to be decided (acknowledged with `Prefer: respond-async`)."""
    ws = workspace.info(who.store, count=True)
    return {"id": ws.id, "locale": ws.locale, "timezone": ws.timezone,
            "clock": iso(ws.clock) if ws.clock is not None else None, **settle.progress(ws)}
