"""Telegram Bot API webhooks: `message` and `edited_message` updates become `message.received` (channel
`telegram`, language from the text), so tone and courtesy rules hear what clients write to the business's bot.

Followed: core.telegram.org/bots/api ("setWebhook": with `secret_token` set, every update carries the header
`X-Telegram-Bot-Api-Secret-Token` with that value; "Update" and "Message": `update_id`, `message` /
`edited_message` with `message_id`, `from` (`id`, `is_bot`, `first_name`, `last_name`, `username`,
`language_code`), `chat`, `date` and `edit_date` in Unix seconds, `text`).

A Telegram user has no e-mail: the client is `telegram:USER-ID`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from firmly.domain.clock import iso
from firmly.domain.connectors.common import BadSignature, Context, Mapped, Unmappable, envelope, event_id, header, same

SOURCE = "telegram"
SECRET = "X-Telegram-Bot-Api-Secret-Token"


def verify(secret: str, body: bytes, headers: Mapping[str, str], now: int, url: str) -> None:
    if not same(secret, header(headers, SECRET)):
        raise BadSignature(f"the {SECRET} header is not this connector's secret (the secret_token of setWebhook)")


def vendor_ids(body: Mapping[str, Any]) -> list[str]:
    return []


def language(text: str) -> str:
    """ru when the letters are mostly Cyrillic, else en."""
    cyrillic = sum(1 for ch in text if "\u0400" <= ch <= "\u04ff")
    latin = sum(1 for ch in text if ch.isascii() and ch.isalpha())
    return "ru" if cyrillic >= latin and cyrillic else "en"


def _unix(value: object, path: str) -> str:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise Unmappable(path, f"must be Unix seconds, got {value!r}")
    return iso(value * 1_000_000)


def translate(body: Mapping[str, Any], ctx: Context) -> Mapped:
    edited = "edited_message" in body
    m = body.get("edited_message" if edited else "message")
    if not isinstance(m, Mapping):
        return Mapped(ignored="an update without a message (a callback, a channel post, a member change)")
    sender = m.get("from")
    text = m.get("text") or m.get("caption")
    if not isinstance(sender, Mapping) or sender.get("is_bot") or not isinstance(text, str) or not text.strip():
        return Mapped(ignored="not a text message from a person")
    chat = (m.get("chat") or {}).get("id") if isinstance(m.get("chat"), Mapping) else None
    if sender.get("id") is None or m.get("message_id") is None:
        raise Unmappable("message.from.id", "is missing")
    key = f"{SOURCE}:{sender['id']}"
    where = "edited_message" if edited else "message"
    if edited:
        at, time_from = _unix(m.get("edit_date"), f"{where}.edit_date"), f"{where}.edit_date"
        eid = event_id(SOURCE, chat, m["message_id"], "edited", m.get("edit_date"))
    else:
        at, time_from = _unix(m.get("date"), f"{where}.date"), f"{where}.date"
        eid = event_id(SOURCE, chat, m["message_id"])
    data: dict[str, Any] = {"text": text, "channel": SOURCE, "lang": language(text)}
    if edited:
        data["edited"] = True
    return Mapped(events=[envelope(eid, "message.received", key, at, data, time_from)])
