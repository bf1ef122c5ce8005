"""The rule kinds, one module each; a new kind is a module and one line here."""

from __future__ import annotations

from firmly.domain.engine.kinds import (
    channel,
    courtesy,
    deadline,
    exceptions,
    forbidden,
    grace,
    incident,
    notice,
    quota,
)
from firmly.domain.engine.kinds.base import RuleKind

KINDS: dict[str, RuleKind] = {}


def register(kind: RuleKind) -> RuleKind:
    """Make a kind known to the rulebook, the policy and the fold."""
    KINDS[kind.name] = kind
    return kind


for _module in (notice, forbidden, deadline, channel, quota, courtesy, incident, grace, exceptions):
    register(_module.KIND)

__all__ = ["KINDS", "RuleKind", "register"]
