"""amoCRM (Kommo abroad) webhooks: a lead's stage change (`leads[status]`, `leads[add]`) mapped through the
connector's stage map (stages.py), and incoming chat messages (`message[add]`) -> `message.received`.

Followed: amoCRM's developer docs, "Webhooks" (amocrm.ru/developers/content/crm_platform/webhooks-format):
deliveries are `application/x-www-form-urlencoded` with PHP-style keys: `leads[status][0][id]`,
`[status_id]`, `[old_status_id]`, `[pipeline_id]`, `[last_modified]` (Unix seconds),
`[custom_fields][N][id]` and `[custom_fields][N][values][0][value]`; `message[add][0][text]`, `[contact_id]`,
`[chat_id]`, `[created_at]`, `[type]` (incoming/outgoing); and `account[id]`, `account[subdomain]`.
amoCRM signs nothing: a connector with `account` in its map accepts only that account's subdomain, and its
id in the URL keeps strangers out.
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
    get,
    items,
)
from firmly.domain.connectors.stages import stage_events
from firmly.domain.connectors.telegram import language

SOURCE = "amocrm"


def verify(secret: str, body: bytes, headers: Mapping[str, str], now: int, url: str) -> None:
    """Nothing signed (see the module's docstring); the account is checked when mapping."""


def vendor_ids(body: Mapping[str, Any]) -> list[str]:
    return []


def _unix(value: object, path: str) -> str:
    text = str(value or "")
    if not text.isdigit():
        raise Unmappable(path, f"must be Unix seconds, got {value!r}")
    return iso(int(text) * 1_000_000)


def translate(body: Mapping[str, Any], ctx: Context) -> Mapped:
    crm_map = ctx.options.get("map")
    account = crm_map.get("account") if isinstance(crm_map, Mapping) else None
    if account and get(body, "account.subdomain") != account:
        raise BadSignature(f"the delivery is from amoCRM account {get(body, 'account.subdomain')!r}, "
                           f"not {account!r}")
    out = Mapped()
    leads = body.get("leads") if isinstance(body.get("leads"), Mapping) else {}
    assert isinstance(leads, Mapping)
    for action in ("add", "status"):
        for n, lead in enumerate(items(leads.get(action))):
            path = f"leads.{action}.{n}"
            if not isinstance(lead, Mapping) or not lead.get("id") or not lead.get("status_id"):
                raise Unmappable(f"{path}.status_id", "a lead without its id or stage")
            fields = {str(f.get("id")): str(get(f, "values.0.value") or "") for f in items(lead.get("custom_fields"))
                      if isinstance(f, Mapping)}
            changed = lead.get("last_modified") or lead.get("updated_at") or lead.get("date_create")
            at = _unix(changed, f"{path}.last_modified")
            _, events = stage_events(crm_map if isinstance(crm_map, dict) else None, SOURCE, str(lead["id"]),
                                     str(lead["status_id"]), fields, at, f"{path}.last_modified",
                                     f"{path}.status_id", f"{SOURCE}:lead:{lead['id']}")
            out.events.extend(events)
    messages = body.get("message") if isinstance(body.get("message"), Mapping) else {}
    assert isinstance(messages, Mapping)
    for n, m in enumerate(items(messages.get("add"))):
        if not isinstance(m, Mapping) or m.get("type") == "outgoing" or not str(m.get("text") or "").strip():
            continue
        path = f"message.add.{n}"
        key = f"{SOURCE}:contact:{m.get('contact_id') or m.get('element_id')}"
        text = str(m["text"])
        out.events.append(envelope(event_id(SOURCE, "message", m.get("id") or f"{m.get('chat_id')}-{n}"),
                                   "message.received", key, _unix(m.get("created_at"), f"{path}.created_at"),
                                   {"text": text, "channel": SOURCE, "lang": language(text)}, f"{path}.created_at"))
    if not out.events and not leads and not messages:
        out.ignored = "neither a lead's stage nor a message"
    return out
