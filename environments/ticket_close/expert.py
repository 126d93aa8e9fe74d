"""The scripted TicketClose expert: from the current state, the next action that makes progress.

It reads the goal (an expert may) but works like a careful agent: for each target ticket it
reads the ticket, the account and the applicable article, asks the customer what the ticket
leaves out, merges duplicates, gets the customer's agreement before changing an account, acts
or escalates, sets the fields, sends the structured reply (outcome and cited ids), and finally submits. Because
it looks at the state, not at a fixed script, it also finishes an episode another policy began
(unless that policy already did something irreversible).
"""

from __future__ import annotations

from llmgym.environments.ticket_close.actions import outcome_conflict
from llmgym.environments.ticket_close.goals import expected_reply
from llmgym.environments.ticket_close.spec import GoalAction, TicketGoal, TicketSpec
from llmgym.environments.ticket_close.verifier import FIELDS, expected_action
from llmgym.environments.ticket_close.world import HelpdeskWorld
from llmgym.parsing import format_tool_call

PROPOSAL = {"refund": 1, "reset_password": 1, "extend_licence": 2}
"""Which element of a goal action the customer is asked to agree to (order, account, product)."""


def article_query(goal: TicketGoal, product: str) -> str:
    """The knowledge-base search an agent would run for this kind of ticket."""
    if goal.kind == "password":
        return "account security" if goal.trap else f"password {product}"
    if goal.kind == "refund":
        return "refund policy"
    if goal.kind == "licence":
        return "licence extensions"
    return f"known issue {product}"


def next_expert_action(world: HelpdeskWorld, spec: TicketSpec) -> str:
    """The expert's next call in ``world`` towards ``spec``'s goal (``submit`` when done)."""
    for goal in spec.goal.tickets:
        action = _next_for_ticket(world, goal)
        if action is not None:
            return action
    return format_tool_call("submit")


def _next_for_ticket(world: HelpdeskWorld, goal: TicketGoal) -> str | None:
    tid, acc = goal.ticket_id, goal.account_id
    ticket = world.tickets[tid]
    if tid not in world.seen:
        return format_tool_call("read_ticket", ticket_id=tid)
    if acc not in world.seen:
        return format_tool_call("lookup_account", query=acc)
    customer = world.customers[acc]
    for fact in customer.facts:
        if fact.topic not in customer.revealed:
            return format_tool_call("ask_customer", ticket_id=tid, about=fact.topic)
    query = article_query(goal, ticket.product)
    if f"search-articles:{query.lower()}" not in world.seen:
        return format_tool_call("search_articles", query=query)
    if goal.article not in world.seen:
        return format_tool_call("read_article", article_id=goal.article)
    if goal.duplicates and f"search-tickets:{ticket.customer.lower()}" not in world.seen:
        return format_tool_call("search_tickets", query=ticket.customer)
    for duplicate in goal.duplicates:
        if world.tickets[duplicate].merged_into != tid:
            return format_tool_call("merge_tickets", duplicate_id=duplicate, into_id=tid)
    if goal.action:
        kind, target = expected_action(goal.action)
        if not any((a.kind, a.target) == (kind, target) for a in world.actions):
            reference = str(goal.action[PROPOSAL[kind]])
            if (acc, kind, reference) not in world.confirmed:
                return format_tool_call(
                    "propose_resolution", ticket_id=tid, resolution=kind, reference=reference
                )
            return _act(goal.action)
    if goal.escalate and (tid, goal.escalate) not in world.escalations:
        return format_tool_call(
            "escalate_ticket",
            ticket_id=tid,
            team=goal.escalate,
            note=f"Per {goal.article}: tier 1 may not resolve this ({goal.trap}).",
        )
    changes = {f: getattr(goal, f) for f in FIELDS if getattr(ticket, f) != getattr(goal, f)}
    if ticket.linked_article != goal.article:
        changes["linked_article"] = goal.article
    if changes:
        return format_tool_call("set_ticket_fields", ticket_id=tid, **changes)
    reply = expected_reply(goal)
    if not any(r.ticket_id == tid for r in world.replies) and not outcome_conflict(
        world, ticket, reply["outcome"], tuple(reply["order_ids"])
    ):  # (a conflict: another policy did what cannot be undone; nothing true to say)
        return format_tool_call("reply_to_customer", ticket_id=tid, **reply)
    return None


def _act(action: GoalAction) -> str:
    if action[0] == "refund":
        return format_tool_call("issue_refund", order_id=action[1])
    if action[0] == "reset_password":
        return format_tool_call("reset_password", account_id=action[1])
    return format_tool_call(
        "extend_licence", account_id=action[1], product=action[2], days=action[3]
    )
