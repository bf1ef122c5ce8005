"""Decisions pushed to a receiver as Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature),
so it can verify them with any Standard Webhooks library."""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime

import httpx
from standardwebhooks import Webhook

from firmly.domain.errors import Undelivered


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


class WebhookError(Undelivered):
    """A delivery the receiver did not accept; `permanent` when retrying cannot help."""


class WebhookSender:
    def __init__(self, timeout: float = 30.0) -> None:
        # `timeout` is the whole request's (the worker's claim must outlast it). httpx times each step on its
        # own, so they share it: a quarter to connect, a quarter to send, half for the receiver's answer
        self.client = httpx.Client(timeout=httpx.Timeout(timeout / 4, read=timeout / 2), follow_redirects=False)

    def send(self, url: str, secret: str, message_id: str, payload: str, now: datetime | None = None) -> None:
        moment = now or datetime.now(UTC)
        signature = Webhook(secret).sign(message_id, moment, payload)
        headers = {"webhook-id": message_id, "webhook-timestamp": str(int(moment.timestamp())),
                   "webhook-signature": signature, "content-type": "application/json"}
        try:
            response = self.client.post(url, content=payload.encode(), headers=headers)
        except httpx.HTTPError as exc:
            raise WebhookError(f"{type(exc).__name__}: {exc}") from None
        if response.status_code >= 300:
            # 4xx other than timeouts and rate limits will not get better by retrying
            permanent = 400 <= response.status_code < 500 and response.status_code not in (408, 409, 425, 429)
            raise WebhookError(f"HTTP {response.status_code}", permanent=permanent)

    def close(self) -> None:
        self.client.close()
