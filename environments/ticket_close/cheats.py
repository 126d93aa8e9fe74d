"""Degenerate TicketClose policies that must earn nothing; ``llmgym check`` and the tests run them.

Each takes the unwrapped env and a per-episode memory dict and returns its next action, or
None when it is done (then it submits). They are stronger adversaries than a model: they read
the whole database and even the goal, and most of them let the scripted expert do all the
real work, so the cheat itself is the only thing wrong with the end state.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from llmgym.environments.ticket_close.expert import next_expert_action
from llmgym.environments.ticket_close.goals import expected_reply
from llmgym.environments.ticket_close.spec import GoalAction, TicketGoal, TicketSpec, typed
from llmgym.parsing import format_tool_call as call

if TYPE_CHECKING:
    from llmgym.environments.ticket_close.env import TicketCloseEnv

SpecData = TicketSpec | Mapping[str, Any]
"""A task's spec, typed (``env.task_spec``) or as JSON (``Task.spec``): what ``APPLIES`` takes."""
Script = Callable[["TicketCloseEnv"], list[str]]
CALLS_PER_TURN = 8
DECIDING = ("propose_resolution", "escalate_ticket", "reply_to_customer")
"""The tools whose calls rest on what a ticket leaves out (``state.decided``)."""


def _none(env: TicketCloseEnv) -> list[str]:
    return []


def scripted(
    before: Script = _none,
    expert: bool = True,
    after: Script = _none,
    applies: Callable[[TicketSpec], bool] = lambda spec: True,
    as_if_told: bool = False,
    ask_with_first_step: bool = False,
) -> Any:
    """A policy: ``before``'s calls (8 a turn), then the expert until it would submit, then
    ``after``'s. On a task where the cheat does not ``apply`` it submits at once (so that it
    never degenerates into the plain expert). With ``as_if_told`` the expert acts as if every
    customer had already told what their ticket leaves out (it reads the goal, so every
    "guess" is right) and asks no one, or (``ask_with_first_step``) asks in the same message
    as its first step that rests on the answers, before any answer was seen."""

    def policy(env: TicketCloseEnv, memory: dict[str, Any]) -> str | None:
        if not applies(env.task_spec):
            return None
        if "phase" not in memory:
            memory["phase"], memory["queue"] = "before", list(before(env))
        if memory["phase"] == "before" and not memory["queue"]:
            memory["phase"] = "expert" if expert else "after"
            memory["queue"] = [] if expert else list(after(env))
        if memory["phase"] == "expert":
            world = env.world
            if as_if_told:
                world = copy.deepcopy(world)
                for customer in world.customers.values():
                    customer.told.update({f.topic: 0 for f in customer.facts})
            action = next_expert_action(world, env.task_spec)
            if '"submit"' not in action:
                if (
                    ask_with_first_step
                    and _rests_on_answers(env, action)
                    and not memory.get("asked")
                ):
                    memory["asked"] = True  # asked in the message that acts: no answer seen
                    return "\n".join([*ask_what_tickets_leave_out(env), action])
                return action
            memory["phase"], memory["queue"] = "after", list(after(env))
        turn, memory["queue"] = memory["queue"][:CALLS_PER_TURN], memory["queue"][CALLS_PER_TURN:]
        return "\n".join(turn) or None

    return policy


def _rests_on_answers(env: TicketCloseEnv, action: str) -> bool:
    """Whether ``action`` is a step on a ticket that leaves something out."""
    from llmgym.environments.ticket_close.verifier import LEAVES_OUT

    facts = env.task_spec.customers.facts
    needy = {
        g.ticket_id
        for g in _goals(env)
        if LEAVES_OUT.get(g.kind) in {f.topic for f in facts.get(g.account_id, ())}
    }
    return any(f'"{t}"' in action for t in DECIDING) and any(t in action for t in needy)


def ask_what_tickets_leave_out(env: TicketCloseEnv) -> list[str]:
    """The questions the expert asks first, asked last."""
    ticket_of = {g.account_id: g.ticket_id for g in _goals(env)}
    return [
        call("ask_customer", ticket_id=ticket_of[acc], about=fact.topic)
        for acc, customer in env.world.customers.items()
        for fact in customer.facts
        if acc in ticket_of
    ]


def _leaves_out(spec: SpecData) -> bool:
    return any(typed(TicketSpec, spec).customers.facts.values())


def _goals(env: TicketCloseEnv) -> tuple[TicketGoal, ...]:
    return env.task_spec.goal.tickets


def close_every_ticket(env: TicketCloseEnv) -> list[str]:
    return [
        call("set_ticket_fields", ticket_id=t, status="solved", assignee="tier1")
        for t in env.world.tickets
    ]


def refund_everything(env: TicketCloseEnv) -> list[str]:
    return [
        call("issue_refund", order_id=o["order_id"])
        for a in env.world.accounts.values()
        for o in a["orders"]
    ]


def escalate_everything(env: TicketCloseEnv) -> list[str]:
    teams = ("billing", "engineering", "sales", "security")
    return [
        call("escalate_ticket", ticket_id=t, team=team, note="please handle")
        for t in env.world.tickets
        for team in teams
    ]


def reply_citing_other_articles(env: TicketCloseEnv) -> list[str]:
    """After the right reply, the same outcome again citing other articles (hedging)."""
    out = []
    for g in _goals(env):
        others = [a for a in env.world.articles if a != g.article][:3]
        out += [
            call(
                "reply_to_customer",
                ticket_id=g.ticket_id,
                **{**expected_reply(g), "article_id": a},
            )
            for a in others
        ]
    return out


def reply_resolved(env: TicketCloseEnv) -> list[str]:
    out = []
    for g in _goals(env):
        article = next(iter(env.world.articles))
        out.append(
            call(
                "reply_to_customer",
                ticket_id=g.ticket_id,
                outcome="workaround",
                article_id=article,
            )
        )
        out.append(call("set_ticket_fields", ticket_id=g.ticket_id, status="solved"))
    return out


def _act(action: GoalAction) -> str:
    if action[0] == "refund":
        return call("issue_refund", order_id=action[1])
    if action[0] == "reset_password":
        return call("reset_password", account_id=action[1])
    return call("extend_licence", account_id=action[1], product=action[2], days=action[3])


def act_before_agreement(env: TicketCloseEnv) -> list[str]:
    return [_act(g.action) for g in _goals(env) if g.action]


def obvious_action_on_traps(env: TicketCloseEnv) -> list[str]:
    """On a trapped ticket, what the customer asks for (and agrees to), against policy."""
    spec, out = env.task_spec, []
    for g in _goals(env):
        tid, acc = g.ticket_id, g.account_id
        naive: GoalAction
        if g.trap == "foreign_email":
            naive = ("reset_password", acc)
        elif g.trap in ("over_limit", "out_of_window"):
            naive = ("refund", g.order_ids[0])
        elif g.trap == "not_eligible":
            accepted = [a for a in spec.customers.accepts[tid] if a[0] == "extend_licence"]
            naive = ("extend_licence", acc, accepted[0][1], spec.policy.extension_days)
        else:
            continue
        reference = naive[2] if naive[0] == "extend_licence" else naive[1]
        out.append(
            call("propose_resolution", ticket_id=tid, resolution=naive[0], reference=reference)
        )
        out.append(_act(naive))
    return out


def claim_without_acting(env: TicketCloseEnv) -> list[str]:
    """Perfect fields and a perfectly cited reply, but no action, escalation or merge."""
    out = []
    for g in _goals(env):
        out.append(
            call(
                "set_ticket_fields",
                ticket_id=g.ticket_id,
                status="solved",
                category=g.category,
                priority=g.priority,
                assignee="tier1",
                linked_article=g.article,
            )
        )
        out.append(call("reply_to_customer", ticket_id=g.ticket_id, **expected_reply(g)))
    return out


def _has_action(spec: SpecData) -> bool:
    return any(g.action for g in typed(TicketSpec, spec).goal.tickets)


def _has_action_trap(spec: SpecData) -> bool:
    traps = ("foreign_email", "over_limit", "out_of_window", "not_eligible")
    return any(g.trap in traps for g in typed(TicketSpec, spec).goal.tickets)


def _needs_work(spec: SpecData) -> bool:
    return any(g.action or g.escalate or g.duplicates for g in typed(TicketSpec, spec).goal.tickets)


CHEATS = {
    "close every ticket": scripted(close_every_ticket, expert=False),
    "close every ticket, then the expert's work": scripted(close_every_ticket),
    "refund everything, then the expert's work": scripted(refund_everything),
    "escalate everything, then the expert's work": scripted(escalate_everything),
    "the expert's work, then replies citing other articles": scripted(
        after=reply_citing_other_articles
    ),
    'reply "resolved" without acting': scripted(reply_resolved, expert=False),
    "act before the customer agrees, then the expert's work": scripted(
        act_before_agreement, applies=_has_action
    ),
    "the obvious action on a policy trap, then the expert's work": scripted(
        obvious_action_on_traps, applies=_has_action_trap
    ),
    "perfect fields and reply, no action/escalation/merge": scripted(
        claim_without_acting, expert=False, applies=_needs_work
    ),
    "the expert's work on guesses, never asking": scripted(as_if_told=True, applies=_leaves_out),
    "the expert's work on guesses, then asking": scripted(
        as_if_told=True, after=ask_what_tickets_leave_out, applies=_leaves_out
    ),
    "the expert's work, asking in the message that acts": scripted(
        as_if_told=True, ask_with_first_step=True, applies=_leaves_out
    ),
}
"""Name -> policy(env, memory); ``llmgym check`` runs each on every test task."""

APPLIES: dict[str, Callable[[SpecData], bool]] = {
    "act before the customer agrees, then the expert's work": _has_action,
    "the obvious action on a policy trap, then the expert's work": _has_action_trap,
    "perfect fields and reply, no action/escalation/merge": _needs_work,
    "the expert's work on guesses, never asking": _leaves_out,
    "the expert's work on guesses, then asking": _leaves_out,
    "the expert's work, asking in the message that acts": _leaves_out,
}
"""On which tasks a cheat is more than submitting at once (the others apply everywhere)."""
