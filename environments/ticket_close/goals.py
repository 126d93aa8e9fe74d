"""What a TicketClose goal means: the priority rule, the categories, the reply's outcome.

Shared by the generator (to write goals), the verifier (to grade) and the expert (to act).
"""

from __future__ import annotations

from typing import TypedDict

from llmgym.environments.ticket_close.spec import TicketGoal

CATEGORY = {
    "password": "account_access",
    "refund": "billing",
    "licence": "licensing",
    "bug": "technical",
}
LEVELS = ("low", "normal", "high", "urgent")
SEVERITY_LEVEL = {"low": 0, "normal": 1, "high": 2, "critical": 3}
SLA_RUSH_HOURS = 4

OUTCOMES = (
    "refunded",
    "refund_declined",
    "password_reset",
    "licence_extended",
    "escalated",
    "workaround",
)
"""What a structured reply tells the customer was done (``reply_to_customer``'s ``outcome``)."""


def priority_for(severity: str, plan: str, sla_hours_left: int) -> str:
    """The priority policy: severity, one level up on the enterprise plan, one more near the SLA."""
    level = SEVERITY_LEVEL[severity]
    level += plan == "enterprise"
    level += sla_hours_left <= SLA_RUSH_HOURS
    return LEVELS[min(level, len(LEVELS) - 1)]


class ReplyFields(TypedDict):
    """A structured reply's fields (``reply_to_customer``'s arguments, less the ticket)."""

    outcome: str
    order_ids: list[str]
    article_id: str


def expected_reply(goal: TicketGoal) -> ReplyFields:
    """The one reply a target ticket's customer must receive: outcome and the ids it cites."""
    if goal.escalate:
        outcome = "escalated"
    elif goal.action:
        outcome = {
            "refund": "refunded",
            "reset_password": "password_reset",
            "extend_licence": "licence_extended",
        }[goal.action[0]]
    elif goal.kind == "refund":
        outcome = "refund_declined"
    else:
        outcome = "workaround"
    return {"outcome": outcome, "order_ids": list(goal.order_ids), "article_id": goal.article}
