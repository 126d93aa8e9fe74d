"""Grade a TicketClose episode on the canonical end state of the helpdesk.

It passes when every target ticket has exactly the fields, escalation, merges and final reply
that policy calls for, the account actions taken are exactly the required ones (each agreed by
the customer first), and every other ticket is as it was. What the agent *claimed* plays no
part: a reply counts only through the ids it cites, parsed strictly.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict
from typing import Any

from llmgym.env import Verdict
from llmgym.environments.ticket_close.goals import parse_reply
from llmgym.environments.ticket_close.world import HelpdeskWorld

FIELDS = ("status", "category", "priority", "assignee")


def expected_action(action: list[Any]) -> tuple[str, tuple[Any, ...]]:
    """A goal's action as (kind, target), the form ``ActionRecord`` stores."""
    return action[0], tuple(action[1:])


def verify_tickets(world: HelpdeskWorld, spec: dict[str, Any]) -> Verdict:
    goals = spec["goal"]["tickets"]
    problems: list[str] = []

    fields_ok = replies_ok = 0
    for goal in goals:
        ticket = world.tickets[goal["ticket_id"]]
        wrong = [f for f in FIELDS if getattr(ticket, f) != goal[f]]
        if ticket.linked_article != goal["article"]:
            wrong.append("linked_article")
        if wrong:
            problems.append(f"{ticket.ticket_id}: wrong {', '.join(wrong)}")
        else:
            fields_ok += 1
        facts = parse_reply(ticket.replies[-1]) if ticket.replies else None
        if facts is None:
            problems.append(f"{ticket.ticket_id}: no reply to the customer")
        elif facts.order_ids != set(goal["order_ids"]) or facts.article_ids != {goal["article"]}:
            problems.append(
                f"{ticket.ticket_id}: the final reply cites orders {sorted(facts.order_ids)} and "
                f"articles {sorted(facts.article_ids)}, not exactly the required ones"
            )
        else:
            replies_ok += 1

    wanted = Counter(expected_action(g["action"]) for g in goals if g["action"])
    done = Counter((a.kind, a.target) for a in world.actions)
    if done != wanted:
        problems.append(
            f"account actions {sorted(done.elements())} differ from those policy calls for"
        )
    unconfirmed = [a for a in world.actions if not a.confirmed]
    if unconfirmed:
        problems.append(f"{len(unconfirmed)} account action(s) taken before the customer agreed")
    escalations_wanted = sorted((g["ticket_id"], g["escalate"]) for g in goals if g["escalate"])
    if sorted(world.escalations) != escalations_wanted:
        problems.append(
            f"escalations {sorted(world.escalations)} differ from those policy calls for"
        )
    merges_wanted = sorted((d, g["ticket_id"]) for g in goals for d in g["duplicates"])
    if sorted(world.merges) != merges_wanted:
        problems.append(f"merges {sorted(world.merges)} differ from the duplicates in the queue")

    targets = {g["ticket_id"] for g in goals} | {d for g in goals for d in g["duplicates"]}
    touched = [
        t["ticket_id"]
        for t in spec["db"]["tickets"]
        if t["ticket_id"] not in targets and asdict(world.tickets[t["ticket_id"]]) != t
    ]
    if touched:
        problems.append(f"tickets outside the task were changed: {touched}")

    components = {
        "ticket_fields": fields_ok / len(goals),
        "final_replies": replies_ok / len(goals),
        "account_actions": float(done == wanted),
        "customer_agreed": float(not unconfirmed),
        "escalations": float(sorted(world.escalations) == escalations_wanted),
        "merges": float(sorted(world.merges) == merges_wanted),
        "other_tickets_untouched": float(not touched),
    }
    reward = 1.0 if all(v == 1.0 for v in components.values()) else 0.0
    return Verdict(reward, components, "; ".join(problems) or "every ticket is resolved by policy")
