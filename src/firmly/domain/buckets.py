"""Buckets: how deciding is shared between processes without a lock on the whole workspace.

A counterparty's events are decided in the order they arrived, by one process at a time; different
counterparties' events need no order between them (a partner's record is kept in the order of its clients'
events by refolding it when one comes late, as for any late event). So counterparties are hashed into
`BUCKETS` buckets, and a decider takes a bucket of a workspace at a time, holding it while it decides that
bucket's waiting events (on PostgreSQL, an advisory lock per workspace and bucket).

256 buckets: enough for a fair share among up to about 30 deciders (eight buckets or more each, so that one
busy bucket is a small part of anyone's work), and few enough that a chunk of events, which touches most of
them, takes one lock per bucket well inside PostgreSQL's lock table (64 per connection by default, pooled).

Which deciders look at which buckets first: each bucket goes to the live decider that ranks highest for it
(rendezvous hashing), so a decider joining or leaving moves only its own share. The share is where a decider
looks first, not what it may decide: any process may decide any bucket it can take, so a bucket whose decider
died is decided by the others at once, and its lease only says who looks there first.
"""

from __future__ import annotations

from collections.abc import Iterable
from zlib import crc32

BUCKETS = 256


def bucket_of(counterparty: str) -> int:
    """The bucket of a counterparty: the same in every process and every release (not Python's `hash`)."""
    return crc32(counterparty.encode()) % BUCKETS


def share(holders: Iterable[str], me: str) -> list[int]:
    """The buckets `me` looks at first among the live `holders` (me among them or not)."""
    everyone = sorted({*holders, me})
    if len(everyone) == 1:
        return list(range(BUCKETS))
    return [b for b in range(BUCKETS)
            if max(everyone, key=lambda h: (crc32(f"{h}/{b}".encode()), h)) == me]
