"""The conduct engine: rule kinds, the ladder, timers, reminders and thanks, as a pure fold."""

from firmly.domain.engine.decision import INACTIVE, Decision, decision_id
from firmly.domain.engine.fold import REVIEW_EVENT, Engine, attribute, route
from firmly.domain.engine.policy import Policy, Table
from firmly.domain.engine.state import CounterpartyState
from firmly.domain.engine.views import conduct

__all__ = ["INACTIVE", "REVIEW_EVENT", "CounterpartyState", "Decision", "Engine", "Policy", "Table", "attribute",
           "conduct", "decision_id", "route"]
