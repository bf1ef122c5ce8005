"""Login throttling for the web UI: per account and per address, a growing wait after a few failures.

The attempts live in the database, so every server process (`firmly serve --workers N`, several machines on
one PostgreSQL) counts the same ones. An attempt is counted *before* its password is checked, in one write
transaction with the check of the wait: a burst of parallel guesses cannot all slip in before the first
failure is written. A success takes its own count back.

The wait doubles with each failure past the free ones (1 s, 2 s, 4 s, … up to 15 minutes): a person who
mistypes a few times hardly notices, a guesser gets a few dozen tries a day per account. An address gets
more free failures than an account, since an office shares one; behind a reverse proxy, uvicorn takes the
client's address from X-Forwarded-For (FORWARDED_ALLOW_IPS names the trusted proxies).
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass

from firmly.domain.ports import AttemptRow, UserStore
from firmly.service.users import normal_email

SECOND = 1_000_000
FREE = {"account": 5, "address": 20}  # failures before any wait
MAX_WAIT = 15 * 60  # seconds
FORGET = 24 * 3600 * SECOND  # attempts this old (with no other since) are forgotten


@dataclass(frozen=True, slots=True)
class Turn:
    """`wait`: 0 when this attempt may check its password; otherwise the seconds until the next one may."""

    wait: int
    keys: tuple[str, ...]


def wait_after(failures: int, free: int) -> int:
    """Seconds a next attempt must wait after `failures` counted ones."""
    if failures < free:
        return 0
    return min(MAX_WAIT, 1 << min(failures - free, 20))


def _network(address: str) -> str:
    """The address as counted: an IPv6 visitor usually holds a whole /64, so the /64 is one address here."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:  # an IPv4 visitor on a dual-stack socket
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _keys(email: str, address: str) -> tuple[str, ...]:
    return f"account:{normal_email(email)}"[:400], f"address:{_network(address)}"[:400]


def _kind(key: str) -> str:
    return key.partition(":")[0]


def take_turn(store: UserStore, email: str, address: str, now: int) -> Turn:
    """Refuse the attempt while its account or address must wait; else count it (as a failure, until it
    succeeds) and let it check its password."""
    keys = _keys(email, address)
    with store.write():
        store.drop_login_attempts(before=now - FORGET)
        found = store.login_attempts(list(keys))
        locked = max((r.locked_until for r in found.values()), default=0)
        if locked > now:
            return Turn(math.ceil((locked - now) / SECOND), keys)
        for key in keys:
            failures = (found[key].failures if key in found else 0) + 1
            wait = wait_after(failures, FREE[_kind(key)])
            store.put_login_attempt(AttemptRow(key, failures, now, now + wait * SECOND))
    return Turn(0, keys)


def succeeded(store: UserStore, turn: Turn, now: int) -> None:
    """The password was right: the account starts afresh, the address takes back this attempt."""
    account, address = turn.keys
    with store.write():
        store.drop_login_attempts([account])
        row = store.login_attempts([address]).get(address)
        if row is not None:
            failures = max(0, row.failures - 1)
            store.put_login_attempt(AttemptRow(address, failures, row.last_at,
                                               now + wait_after(failures, FREE["address"]) * SECOND))
