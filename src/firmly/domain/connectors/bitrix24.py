"""Bitrix24 outbound webhooks: a deal added or updated (`ONCRMDEALADD`, `ONCRMDEALUPDATE`) mapped through the
connector's stage map (stages.py) by its `STAGE_ID`, and messages to the business's chat bot
(`ONIMBOTMESSAGEADD`) -> `message.received`. The `application_token` is the connector's secret.

Followed: Bitrix24 REST docs (apidocs.bitrix24.com, "Event handlers" and "Outbound webhooks"): deliveries are
`application/x-www-form-urlencoded` with PHP-style keys: `event`, `data[FIELDS][ID]`, `ts` (Unix seconds),
`auth[domain]`, `auth[member_id]`, `auth[application_token]` (the token Bitrix24 shows for the outbound
webhook: check it, or anyone could post); `ONIMBOTMESSAGEADD` carries `data[PARAMS][MESSAGE]`,
`[MESSAGE_ID]`, `[FROM_USER_ID]`, `[DIALOG_ID]` and `data[USER][EMAIL]` when known.

Bitrix24's own CRM events name only the deal's id; the stage and the custom fields (`UF_CRM_…`) must be in
`data[FIELDS]`, which is what the "Outbound webhook" automation rule on each stage sends when it is set to
pass `STAGE_ID` and the fields. A delivery without `STAGE_ID` is a dead letter saying so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from firmly.domain.clock import iso
from firmly.domain.connectors.common import (
    BadSignature,
    Context,
    Mapped,
    Unmappable,
    envelope,
    event_id,
    form,
    get,
    same,
)
from firmly.domain.connectors.stages import stage_events
from firmly.domain.connectors.telegram import language

SOURCE = "bitrix24"
DEALS = ("ONCRMDEALADD", "ONCRMDEALUPDATE")


def verify(secret: str, body: bytes, headers: Mapping[str, str], now: int, url: str) -> None:
    try:
        fields = form(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadSignature("the body is not UTF-8 form data, so it carries no application_token") from None
    if not same(secret, get(fields, "auth.application_token")):
        raise BadSignature("auth[application_token] is not this connector's token (the one Bitrix24 shows for "
                           "the outbound webhook)")


def vendor_ids(body: Mapping[str, Any]) -> list[str]:
    return []


def translate(body: Mapping[str, Any], ctx: Context) -> Mapped:
    kind = str(body.get("event") or "").upper()
    ts = str(body.get("ts") or "")
    if not ts.isdigit():
        raise Unmappable("ts", f"must be Unix seconds, got {body.get('ts')!r}")
    at = iso(int(ts) * 1_000_000)
    if kind in DEALS:
        fields = body.get("data", {}).get("FIELDS") if isinstance(body.get("data"), Mapping) else None
        if not isinstance(fields, Mapping) or not fields.get("ID"):
            raise Unmappable("data.FIELDS.ID", "the deal's id is missing")
        if not fields.get("STAGE_ID"):
            raise Unmappable("data.FIELDS.STAGE_ID", "Bitrix24 sent only the deal's id: pass STAGE_ID (and the "
                                                     "mapped fields) from the stage's outbound webhook rule")
        crm_map = ctx.options.get("map")
        _, events = stage_events(crm_map if isinstance(crm_map, dict) else None, SOURCE, str(fields["ID"]),
                                 str(fields["STAGE_ID"]), {str(k): str(v) for k, v in fields.items()}, at, "ts",
                                 "data.FIELDS.STAGE_ID", f"{SOURCE}:deal:{fields['ID']}")
        return Mapped(events=events)
    if kind == "ONIMBOTMESSAGEADD":
        text = str(get(body, "data.PARAMS.MESSAGE") or "")
        if not text.strip():
            return Mapped(ignored="a message without text")
        email = get(body, "data.USER.EMAIL")
        sender = get(body, "data.PARAMS.FROM_USER_ID") or get(body, "data.USER.ID")
        key = email.strip().lower() if isinstance(email, str) and "@" in email else f"{SOURCE}:user:{sender}"
        mid = get(body, "data.PARAMS.MESSAGE_ID") or ts
        return Mapped(events=[envelope(event_id(SOURCE, "message", mid), "message.received", key, at,
                                       {"text": text, "channel": SOURCE, "lang": language(text)}, "ts")])
    return Mapped(ignored=f"{kind or 'an event'} is not one firmly follows")
