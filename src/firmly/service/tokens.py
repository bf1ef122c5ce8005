"""API tokens: a public id to find the token and a secret of which only a hash is stored.

The secret is 256 random bits, so a fast hash (SHA-256) is as safe as a slow one here and keeps each
request's check to microseconds; passwords, which people choose, get argon2 in the web UI instead.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from firmly.domain.errors import FirmlyError, NotFound
from firmly.domain.ports import Store, TokenRow
from firmly.service import workspace

ROLES = ("admin", "operator", "viewer", "ingest")
PREFIX = "fy"


@dataclass(frozen=True, slots=True)
class Issued:
    token: str  # shown once: only its hash is kept
    row: TokenRow


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create(store: Store, role: str, name: str, now: int) -> Issued:
    if role not in ROLES:
        raise FirmlyError(f"--role must be one of {', '.join(ROLES)}, got {role!r}")
    token_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    row = TokenRow(token_id, store.workspace, role, name, _hash(secret), now, None)
    with store.write():
        workspace.current(store)
        store.add_token(row)
    return Issued(f"{PREFIX}_{token_id}_{secret}", row)


def listed(store: Store) -> list[TokenRow]:
    with store.read():
        workspace.current(store)
        return store.tokens()


def revoke(store: Store, token_id: str, now: int) -> None:
    with store.write():
        if not store.revoke_token(token_id, now):
            raise NotFound(f"no active token {token_id!r} in workspace {store.workspace!r}")


def verify(store: Store, presented: str) -> TokenRow | None:
    """The token's row if `presented` is a live token, else None (whatever was wrong with it)."""
    prefix, _, rest = presented.partition("_")
    token_id, _, secret = rest.partition("_")
    if prefix != PREFIX or not token_id or not secret:
        return None
    with store.read():
        row = store.find_token(token_id)
    if row is None or row.revoked_at is not None or not hmac.compare_digest(row.hash, _hash(secret)):
        return None
    return row
