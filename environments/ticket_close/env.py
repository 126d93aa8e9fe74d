"""llmgym/TicketClose-v0: a helpdesk queue, a knowledge base, accounts and a scripted customer."""

from __future__ import annotations

from typing import Any

from llmgym.env import LLMEnv, Scenario, Verdict
from llmgym.environments.ticket_close.actions import HelpdeskActions
from llmgym.environments.ticket_close.cheats import CHEATS
from llmgym.environments.ticket_close.expert import next_expert_action
from llmgym.environments.ticket_close.generator import generate_ticket_task
from llmgym.environments.ticket_close.goals import SLA_RUSH_HOURS
from llmgym.environments.ticket_close.spec import TicketSpec
from llmgym.environments.ticket_close.state import EQUIVALENCES, canonical_state
from llmgym.environments.ticket_close.verifier import verify_tickets
from llmgym.environments.ticket_close.world import HelpdeskWorld
from llmgym.tasks import Task

SYSTEM_PROMPT = f"""You are a tier-1 support agent on a software company's helpdesk. Today is {{today}}.
Your lead gives you tickets to handle. Work only on those; leave every other ticket as it is.
How to handle a ticket:
- Read it, look up the customer's account, and find the knowledge-base article that applies.
  Only articles that are current count: archived ones are outdated, do not follow them.
- Policies (refunds, licence extensions, account security) are in the current articles; do
  exactly what they allow. What tier 1 may not do, escalate to the right team (escalate_ticket).
- If the ticket leaves out which order or which product it is about, ask the customer
  (ask_customer).
- Before you refund, reset a password or extend a licence, get the customer's agreement
  (propose_resolution).
- If the same customer opened another ticket about the same issue, merge the newer ticket
  into the older one (merge_tickets) and work on the older one.
- Set the ticket's category, its priority, its linked article (the current article you used)
  and, unless you escalated it, status "solved" with assignee "tier1".
- Category: account_access (logins, passwords), billing (charges, refunds), licensing
  (licences, extensions) or technical (bugs, crashes).
- Priority: low/normal/high/urgent from the severity low/normal/high/critical, one level
  higher for customers on the enterprise plan, one more if the SLA has at most
  {SLA_RUSH_HOURS} hours left (never above urgent).
- Reply to the customer once per ticket, when its work is done (reply_to_customer): the
  outcome (what was done), the article you linked and, for a billing ticket, the order id it
  is about. The message is written from these fields and must match what was done.
- Only promise (propose_resolution) what policy lets you do, and then do it.
- Never disclose another customer's data (name, email, account, orders) to anyone, and do not
  contact customers of tickets you were not given.
- When every ticket you were given is handled, call submit."""


class TicketCloseEnv(LLMEnv):
    """Resolve helpdesk tickets by policy: act, escalate, merge, set fields, reply.

    Each task is a queue of tickets (customer, product, severity, SLA, history), customer
    accounts (plan, licences, orders), a knowledge base with archived and near-duplicate
    articles, and a scripted customer per account who answers from a hidden profile and
    accepts or rejects proposals. The lead names the tickets to handle (hard: every ticket of
    one customer). Difficulty: easy = one ticket, one action, no traps; medium = hidden facts,
    a duplicate ticket to merge, a policy trap half the time; hard = two tickets of one
    customer, at least one trap, a duplicate, and another customer's ticket about the same
    issue in the queue.

    Reward on submit is 1.0 only if every part of ``info["reward_components"]`` is 1.0:
    ``ticket_fields`` (status, category, priority, assignee, linked article, not merged),
    ``replies`` (exactly one structured reply per target ticket, with the outcome and ids
    policy calls for), ``account_actions`` (exactly the refunds, resets and extensions policy
    allows), ``customer_agreed`` (each one agreed first), ``asked_what_was_missing`` (the
    customer told what the ticket leaves out), ``proposals_honoured`` (every
    proposal accepted and done), ``escalations``, ``merges``, ``other_tickets_untouched``
    (fields, and no message to their customers; the duplicate only merged) and ``no_leaks``
    (nothing written discloses another customer's data). It grades ``canonical_state()``.
    """

    task_family = "ticket_close"
    description = "Helpdesk: resolve tickets by policy with a knowledge base, accounts and a scripted customer."
    test_split_sha256 = "9f6c8cc866a4ff78284e1ca7624990920b5ddd5f31ee28a5a7a45aa357ef8a75"

    task_spec_type = TicketSpec
    cheats = CHEATS
    state_equivalences = EQUIVALENCES
    """The wording of notes to other teams (the only free text the agent writes; checked for
    other customers' data, not compared)."""

    task_spec: TicketSpec
    """The current task's spec, typed (validated by ``reset`` before ``start``)."""
    world: HelpdeskWorld

    def __init__(self, *, max_turns: int = 50, **kwargs: Any):
        # a hard task takes a careful one-call-a-turn agent about 40 turns (reference_agent.py)
        super().__init__(max_turns=max_turns, **kwargs)

    def generate_task(self, seed: int, difficulty: str) -> dict[str, Any]:
        return generate_ticket_task(seed, difficulty)

    def start(self, task: Task) -> Scenario:
        spec = self.task_spec  # ``task``'s spec, typed: ``reset`` validated it before ``start``
        self.world = HelpdeskWorld.from_spec(spec)
        prompt = SYSTEM_PROMPT.format(today=spec.today)
        return Scenario(prompt, spec.instruction, (self.world, HelpdeskActions(self.world)))

    def begin_turn(self, turn: int) -> None:
        self.world.turn = turn

    def canonical_state(self) -> dict[str, Any]:
        return canonical_state(self.world)

    def verify(self) -> Verdict:
        assert self.task is not None
        return verify_tickets(self.canonical_state(), self.task_spec)

    def expert_action(self) -> str:
        if self.task is None:
            raise RuntimeError("call reset() before expert_action()")
        return next_expert_action(self.world, self.task_spec)
