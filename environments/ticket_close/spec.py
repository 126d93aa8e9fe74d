"""TicketClose's task spec as typed records: exactly the JSON ``generator.py`` writes.

``TicketSpec`` is the whole spec (``Task.spec``): today's date, the policy's figures, the
helpdesk's database at the start (accounts, tickets, knowledge base), what the scripted
customers know and accept, the lead's instruction and the goal. Every record is a
``TaskSpec``: frozen, strict, and refusing unknown keys. The env validates each task against
``TicketSpec`` when it starts (``LLMEnv.task_spec_type``) and keeps it as ``env.task_spec``;
the world, verifier, expert and cheats read its fields. The task keeps the JSON, so the task
files and their hashes do not depend on these classes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any, Literal, TypeVar

from pydantic import Discriminator, Tag

from llmgym.tasks import TaskSpec

TicketKind = Literal["password", "refund", "licence", "bug"]
Trap = Literal["foreign_email", "over_limit", "out_of_window", "not_eligible", "no_workaround"]
"""What makes the obvious action on a ticket the wrong one (``generator.TRAPS``)."""
Severity = Literal["low", "normal", "high", "critical"]
Priority = Literal["low", "normal", "high", "urgent"]
Category = Literal["account_access", "billing", "licensing", "technical"]
Team = Literal["billing", "engineering", "sales", "security"]
Assignee = Literal["tier1", "billing", "engineering", "sales", "security"]
TicketStatus = Literal["open", "pending", "escalated", "solved", "merged"]
Plan = Literal["standard", "premium", "enterprise"]
ArticleKind = Literal["security", "refund", "licence", "password", "bug"]
ArticleStatus = Literal["current", "archived"]
HistoryAuthor = Literal["customer", "system", "agent", "note"]
QuestionTopic = Literal["order", "product"]
"""What a customer can be asked about, and what a hidden fact is about."""
Resolution = Literal["refund", "reset_password", "extend_licence", "escalate", "workaround"]
"""What can be proposed to a customer (``propose_resolution``)."""


class PolicyTerms(TaskSpec):
    """The figures the current policy articles state."""

    refund_limit: int  # dollars: tier 1 refunds an order of at most this amount
    refund_window_days: int  # tier 1 refunds an order placed at most this many days ago
    extension_days: int  # the length of the one licence extension allowed


class LicenceRecord(TaskSpec):
    """One product licence of an account."""

    product: str
    expires: str  # ISO date
    extensions_used: int


class OrderRecord(TaskSpec):
    """One order of an account."""

    order_id: str
    product: str
    amount: int  # dollars
    date: str  # ISO date
    refunded: bool


class AccountRecord(TaskSpec):
    """A customer account: who, which plan, its licences and orders."""

    account_id: str
    name: str
    email: str  # the email on file
    plan: Plan
    password_resets: int
    licences: tuple[LicenceRecord, ...]
    orders: tuple[OrderRecord, ...]  # oldest first


class HistoryEntry(TaskSpec):
    """One event on a ticket."""

    at: str  # "YYYY-MM-DD HH:MM"
    by: HistoryAuthor
    text: str


class TicketRecord(TaskSpec):
    """A ticket in the queue, as it is when the episode starts."""

    ticket_id: str
    account_id: str
    customer: str  # the account's name
    requester_email: str  # the address the ticket came from (not always the one on file)
    product: str  # "" when the ticket leaves the product out
    subject: str
    body: str
    severity: Severity
    sla_hours_left: int
    status: TicketStatus
    category: Category | None
    priority: Priority
    assignee: Assignee | None
    linked_article: str | None
    merged_into: str | None
    created: str  # "YYYY-MM-DD HH:MM"
    history: tuple[HistoryEntry, ...]  # oldest first


class ArticleRecord(TaskSpec):
    """A knowledge-base article, current or archived."""

    article_id: str
    kind: ArticleKind  # the kind of ticket it is about
    product: str  # a product, or "all"
    title: str
    status: ArticleStatus
    updated: str  # ISO date
    body: str


class Database(TaskSpec):
    """The helpdesk's data at the start: accounts, the ticket queue and the knowledge base."""

    accounts: tuple[AccountRecord, ...]
    tickets: tuple[TicketRecord, ...]  # oldest first
    articles: tuple[ArticleRecord, ...]


class HiddenFact(TaskSpec):
    """Something a ticket leaves out, which its customer tells when asked about it."""

    topic: QuestionTopic
    answer: str
    keywords: tuple[str, ...]  # words of a question that ask about it


class CustomerScripts(TaskSpec):
    """What the scripted customers know and which proposals they accept."""

    facts: dict[str, tuple[HiddenFact, ...]]  # account id -> its customer's hidden facts
    accepts: dict[str, tuple[tuple[Resolution, str], ...]]
    """Target or duplicate ticket id -> the (resolution, reference) proposals its customer accepts."""


def _action_kind(action: Any) -> str | None:
    """The kind of a goal action (its first element), to pick its record type."""
    if isinstance(action, list | tuple) and action and isinstance(action[0], str):
        return action[0]
    return None


RefundAction = tuple[Literal["refund"], str]
"""("refund", order id)."""
PasswordResetAction = tuple[Literal["reset_password"], str]
"""("reset_password", account id)."""
LicenceExtensionAction = tuple[Literal["extend_licence"], str, str, int]
"""("extend_licence", account id, product, days)."""
GoalAction = Annotated[
    Annotated[RefundAction, Tag("refund")]
    | Annotated[PasswordResetAction, Tag("reset_password")]
    | Annotated[LicenceExtensionAction, Tag("extend_licence")],
    Discriminator(_action_kind),
]
"""The one account action a ticket's policy calls for."""


class TicketGoal(TaskSpec):
    """The one end state that resolves a target ticket under policy."""

    kind: TicketKind
    trap: Trap | None
    order_ids: tuple[str, ...]  # the orders the reply must cite
    action: GoalAction | None
    article: str  # the current article to link and cite
    escalate: Team | None  # the team to escalate to, if policy says so
    ticket_id: str
    account_id: str
    category: Category
    status: Literal["solved", "escalated"]
    assignee: Assignee
    duplicates: tuple[str, ...]  # the customer's later tickets about it, to merge into it
    priority: Priority


class Goal(TaskSpec):
    """The target tickets' end states (one per target; their duplicates are named in them)."""

    tickets: tuple[TicketGoal, ...]


class TicketSpec(TaskSpec):
    """A TicketClose task: the helpdesk at the start, its customers, the instruction, the goal."""

    today: str  # ISO date
    policy: PolicyTerms
    db: Database
    customers: CustomerScripts
    instruction: str  # the lead's message: which tickets to handle
    goal: Goal


Record = TypeVar("Record", bound=TaskSpec)


def typed(record_type: type[Record], data: Record | Mapping[str, Any]) -> Record:
    """``data`` as ``record_type``: itself if it is one already, else its JSON validated
    strictly (for callers that hold a task's JSON spec, ``Task.spec``, or a part of it)."""
    if isinstance(data, record_type):
        return data
    return record_type.model_validate_json(json.dumps(data))
