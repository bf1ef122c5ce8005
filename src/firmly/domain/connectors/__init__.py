"""Connectors: the payloads of the tools a business already uses, turned into firmly's events.

Pure: each source verifies a delivery's signature and maps its payload; storage and HTTP are elsewhere
(service/connectors.py, doors/api/hooks.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from firmly.domain.connectors import (
    amocrm,
    bitrix24,
    calcom,
    calendly,
    csvfile,
    ical,
    square,
    stages,
    telegram,
    yclients,
)
from firmly.domain.connectors.common import BadSignature, Context, Mapped, Unmappable


@dataclass(frozen=True, slots=True)
class Source:
    name: str
    title: str
    verify: Callable[[str, bytes, Mapping[str, str], int, str], None]  # secret, body, headers, now, URL
    vendor_ids: Callable[[Mapping[str, Any]], list[str]]
    translate: Callable[[Mapping[str, Any], Context], Mapped]
    forms: bool = False  # deliveries come as form data (PHP-style keys), not JSON
    files: bool = False  # imported from files (`firmly import`), never posted


SOURCES: dict[str, Source] = {
    "calcom": Source("calcom", "Cal.com", calcom.verify, calcom.vendor_ids, calcom.translate),
    "calendly": Source("calendly", "Calendly", calendly.verify, calendly.vendor_ids, calendly.translate),
    "square": Source("square", "Square Appointments", square.verify, square.vendor_ids, square.translate),
    "yclients": Source("yclients", "YCLIENTS", yclients.verify, yclients.vendor_ids, yclients.translate),
    "telegram": Source("telegram", "Telegram", telegram.verify, telegram.vendor_ids, telegram.translate),
    "amocrm": Source("amocrm", "amoCRM", amocrm.verify, amocrm.vendor_ids, amocrm.translate, forms=True),
    "bitrix24": Source("bitrix24", "Bitrix24", bitrix24.verify, bitrix24.vendor_ids, bitrix24.translate, forms=True),
    "ical": Source("ical", "iCalendar files", ical.verify, ical.vendor_ids, ical.translate, files=True),
    "csv": Source("csv", "CSV exports", csvfile.verify, csvfile.vendor_ids, csvfile.translate, files=True),
}

__all__ = ["SOURCES", "BadSignature", "Context", "Mapped", "Source", "Unmappable", "stages"]
