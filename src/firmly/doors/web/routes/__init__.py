"""The web UI's pages, one module per area; none of them is part of the API's OpenAPI document."""

from __future__ import annotations

from fastapi import APIRouter

from firmly.doors.web.routes import (
    agenda,
    auth,
    connectors,
    counterparties,
    home,
    messages,
    outbox,
    own,
    public,
    record,
    reports,
    review,
    rule_editor,
    rulebooks,
    start,
)

router = APIRouter(include_in_schema=False)
for module in (auth, home, start, agenda, counterparties, record, review, outbox, messages, rule_editor, rulebooks,
               reports, connectors, public, own):
    router.include_router(module.router)
