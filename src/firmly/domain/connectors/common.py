"""What every connector shares: the mapping rules of the README's "Connectors" section, as pure functions.

- the counterparty key is the booker's e-mail in lower case, else `SOURCE:ID` of the vendor's client (a
  connector option `key: phone` prefers the phone);
- `occurred_at` is the time the fact happened where the payload says it, else the vendor's change time, else
  the envelope's time; `data.time_from` names the payload field it came from;
- a reschedule keeps firmly's appointment id: the connector keeps the vendor's new id -> first id aliases;
- who cancelled maps to `by` (client, provider, partner), `unknown` when the payload does not say;
- event ids are derived from the vendor's ids, so a re-delivered webhook is a duplicate.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from firmly.domain.clock import TimeError, iso, parse_instant, to_us


class Unmappable(ValueError):
    """A signed payload that cannot become events: kept as a dead letter with this reason."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


class BadSignature(ValueError):
    """A delivery whose signature (or secret) does not match the connector's: refused, nothing stored."""


@dataclass(frozen=True, slots=True)
class Context:
    """What a mapping may know besides the payload: the connector and the aliases already kept."""

    connector: str
    source: str
    options: Mapping[str, Any]
    aliases: Mapping[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Mapped:
    events: list[dict[str, Any]] = field(default_factory=list)
    aliases: dict[str, str] = field(default_factory=dict)  # vendor id -> firmly's appointment id
    ignored: str | None = None  # why nothing was stored, for a payload firmly has no use for


def get(payload: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path, or None."""
    value: Any = payload
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def need(payload: Mapping[str, Any], path: str) -> Any:
    value = get(payload, path)
    if value is None or value == "":
        raise Unmappable(path, "is missing")
    return value


def when(value: object, path: str) -> str:
    """An RFC 3339 time as firmly stores it (UTC); a vendor's `Z`, `+0300` or a fraction of a second is fine."""
    if not isinstance(value, str):
        raise Unmappable(path, f"must be a time, got {value!r}")
    text = value.strip()
    if len(text) > 5 and text[-5] in "+-" and text[-4:].isdigit() and text[-3] != ":":  # +0300 -> +03:00
        text = f"{text[:-2]}:{text[-2:]}"
    try:
        return iso(parse_instant(text.replace("Z", "+00:00")))
    except TimeError:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise Unmappable(path, f"is not a time with an offset: {value!r}") from None
        if moment.tzinfo is None:
            raise Unmappable(path, f"has no time zone offset: {value!r}") from None
        return iso(to_us(moment))


def occurred(payload: Mapping[str, Any], *paths: str) -> tuple[str, str]:
    """The first of `paths` (the fact's time, the vendor's change time, the envelope's time) the payload has,
    and which one it was."""
    for path in paths:
        value = get(payload, path)
        if value:
            return when(value, path), path
    raise Unmappable(paths[-1], "is missing: no time to date the event by")


def counterparty(source: str, email: object, client_id: object, phone: object = None,
                 options: Mapping[str, Any] | None = None) -> str:
    if options and options.get("key") == "phone" and isinstance(phone, str) and phone.strip():
        return "".join(ch for ch in phone if ch.isdigit() or ch == "+")
    if isinstance(email, str) and "@" in email:
        return email.strip().lower()
    if client_id is not None and str(client_id).strip():
        return f"{source}:{client_id}"
    raise Unmappable("email", "the payload names no e-mail and no client id to know the client by")


def event_id(source: str, *parts: object) -> str:
    """`SOURCE:PART:...`, kept under the event id's 200 characters (a long vendor id is hashed)."""
    text = ":".join([source, *(str(p) for p in parts)])
    if len(text) <= 200:
        return text
    return f"{source}:{hashlib.sha256(text.encode()).hexdigest()}"


def appointment(ctx: Context, vendor_id: str) -> str:
    """firmly's appointment id for a vendor's booking id: the first id of a rescheduled booking."""
    return ctx.aliases.get(vendor_id) or f"{ctx.source}:{vendor_id}"


def envelope(eid: str, kind: str, key: str, at: str, data: dict[str, Any], time_from: str) -> dict[str, Any]:
    return {"id": eid, "type": kind, "counterparty": key, "occurred_at": at,
            "data": {**data, "time_from": time_from}}


def same(expected: str, presented: str | None) -> bool:
    return presented is not None and hmac.compare_digest(expected.strip().lower(), presented.strip().lower())


def hmac_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header whatever the case of its name."""
    lower = name.lower()
    for key, value in headers.items():
        if key.lower() == lower:
            return value
    return None


def form(text: str) -> dict[str, Any]:
    """An `application/x-www-form-urlencoded` body with PHP-style keys (`leads[status][0][id]=1`), as amoCRM and
    Bitrix24 send, as nested objects ({"leads": {"status": {"0": {"id": "1"}}}})."""
    out: dict[str, Any] = {}
    for key, value in _pairs(text):
        head, _, rest = key.partition("[")
        parts = [head, *(p.rstrip("]") for p in rest.split("[") if rest)] if rest else [head]
        node = out
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[parts[-1]] = value
    return out


def items(value: object) -> list[Any]:
    """The entries of a form's numbered object ({"0": …, "1": …}) or of a JSON list, in order."""
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return [value[k] for k in sorted(value, key=lambda k: (len(k), k))]
    return []


def _pairs(text: str) -> list[tuple[str, str]]:
    """The name=value pairs of a form body, percent- and plus-decoded as UTF-8 (what urllib.parse.parse_qsl does;
    written out here because the core imports no I/O package)."""
    pairs = []
    for part in text.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        pairs.append((_unquote(name), _unquote(value)))
    return pairs


def _unquote(text: str) -> str:
    raw = bytearray()
    chars = text.replace("+", " ")
    i = 0
    while i < len(chars):
        ch = chars[i]
        if ch == "%" and _hex(chars[i + 1:i + 3]):
            raw.append(int(chars[i + 1:i + 3], 16))
            i += 3
        else:
            raw.extend(ch.encode("utf-8"))
            i += 1
    return raw.decode("utf-8", "replace")


def _hex(pair: str) -> bool:
    return len(pair) == 2 and all(c in "0123456789abcdefABCDEF" for c in pair)
