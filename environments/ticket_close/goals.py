"""What a TicketClose goal means: the priority rule, the categories, and the strict reply parser.

Shared by the generator (to write goals), the verifier (to grade) and the expert (to act).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CATEGORY = {
    "password": "account_access",
    "refund": "billing",
    "licence": "licensing",
    "bug": "technical",
}
LEVELS = ("low", "normal", "high", "urgent")
SEVERITY_LEVEL = {"low": 0, "normal": 1, "high": 2, "critical": 3}
SLA_RUSH_HOURS = 4

ORDER_ID = re.compile(r"(?<![A-Za-z0-9-])ORD-\d{5}(?![A-Za-z0-9])")
ARTICLE_ID = re.compile(r"(?<![A-Za-z0-9-])KB-\d{4}(?![A-Za-z0-9])")


def priority_for(severity: str, plan: str, sla_hours_left: int) -> str:
    """The priority policy: severity, one level up on the enterprise plan, one more near the SLA."""
    level = SEVERITY_LEVEL[severity]
    level += plan == "enterprise"
    level += sla_hours_left <= SLA_RUSH_HOURS
    return LEVELS[min(level, len(LEVELS) - 1)]


@dataclass(frozen=True)
class ReplyFacts:
    """The canonical ids a reply mentions, parsed strictly (exact tokens, nothing inferred)."""

    order_ids: frozenset[str]
    article_ids: frozenset[str]


def parse_reply(text: str) -> ReplyFacts:
    return ReplyFacts(
        order_ids=frozenset(ORDER_ID.findall(text)),
        article_ids=frozenset(ARTICLE_ID.findall(text)),
    )
