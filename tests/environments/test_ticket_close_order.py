"""TicketClose-v0: what the agent knew when it acted.

A ticket may leave out what it is about (the order of a refund, the product of a licence);
policy says to ask the customer. A step that rests on the answer (a proposal, an escalation,
a reply) counts as informed only when the answer came in an earlier turn: one taken on a
guess and asked about afterwards, or in the same message, is still a guess (it earns
nothing, however right the guess). Steps that do not rest on it (linking the policy article,
merging the duplicate) may come first. Attacks go through the public interface only.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import pytest
from ticket_close_play import Episode

import llmgym  # noqa: F401
from llmgym.parsing import format_tool_call

ENV_ID = "llmgym/TicketClose-v0"


@pytest.fixture(scope="module")
def env():
    e = gym.make(ENV_ID)
    yield e
    e.close()


def test_asking_the_customer_only_after_acting_earns_nothing(env):
    """The expert's own episode with its questions to customers moved to the end: every
    proposal, escalation, linked article and reply rests on a guess of what the ticket
    leaves out (a right one: the expert reads the goal). Before the fix (``c2d1b13``) this
    earned 1.0 on all 50 test tasks with something left out (a red-team agent that guessed
    a licence's product: 3/120); now each such step records what the customer had told."""
    tasks = [
        t for t in env.unwrapped.split_tasks("test") if any(t.spec["customers"]["facts"].values())
    ]
    assert len(tasks) >= 10
    for task in tasks[::4]:
        expert = Episode(env, task.task_id)
        expert.expert()
        questions = [b for b in expert.calls if b["name"] == "ask_customer"]
        assert questions and expert.submit() == 1.0, expert.info["verdict"]
        late = Episode(env, task.task_id)
        for body in [*(b for b in expert.calls if b not in questions), *questions]:
            late.call(body["name"], **body["arguments"])
        assert late.submit() == 0.0, f"{task.task_id}: paid for asking after acting"
        assert late.info["reward_components"]["asked_what_was_missing"] == 0.0


def _replay(env: Any, task_id: str, calls: list[list[dict[str, Any]]]) -> Episode:
    """A new episode playing ``calls``, one message per inner list."""
    ep = Episode(env, task_id)
    for message in calls:
        ep.env.step("\n".join(format_tool_call(b["name"], **b["arguments"]) for b in message))
    return ep


def _facts_tasks(env: Any) -> list[Any]:
    tasks = env.unwrapped.split_tasks("test")
    return [t for t in tasks if any(t.spec["customers"]["facts"].values())]


def test_asking_in_the_message_that_acts_earns_nothing(env):
    """The expert's questions moved into the message of its first proposal, escalation or
    reply, ahead of it: the step was written before the answer was seen. Before the fix
    (``ff10874``) this earned 1.0 on 50/50 such test tasks (a fourth red team); now a
    turn's answers count from the next turn on."""
    for task in _facts_tasks(env)[::4]:
        expert = Episode(env, task.task_id)
        expert.expert()
        assert expert.submit() == 1.0, expert.info["verdict"]
        asks = [b for b in expert.calls if b["name"] == "ask_customer"]
        rest = [b for b in expert.calls if b not in asks]
        deciding = ("propose_resolution", "escalate_ticket", "reply_to_customer")
        facts = task.spec["customers"]["facts"]
        needy = {  # the tickets that leave out what was asked (a refund's order, a product)
            g["ticket_id"]
            for g in task.spec["goal"]["tickets"]
            if g["kind"] in ("refund", "licence") and facts.get(g["account_id"])
        }
        first = next(
            i
            for i, b in enumerate(rest)
            if b["name"] in deciding and b["arguments"]["ticket_id"] in needy
        )
        messages = [[*asks, b] if i == first else [b] for i, b in enumerate(rest)]
        same = _replay(env, task.task_id, messages)
        assert same.submit() == 0.0, f"{task.task_id}: paid for asking while acting"
        assert same.info["reward_components"]["asked_what_was_missing"] == 0.0


def test_acting_in_the_message_that_proposes_is_not_agreed_first(env):
    """A proposal and its account action in one message: the action was written before the
    customer's yes was seen, so it was not agreed first."""
    for task in env.unwrapped.split_tasks("test")[:40]:
        if not any(g["action"] for g in task.spec["goal"]["tickets"]):
            continue
        expert = Episode(env, task.task_id)
        expert.expert()
        expert.submit()
        acting = ("issue_refund", "extend_licence", "reset_password")
        i = next(i for i, b in enumerate(expert.calls) if b["name"] in acting)
        assert expert.calls[i - 1]["name"] == "propose_resolution"
        messages = [[b] for b in expert.calls[: i - 1]]
        messages += [[expert.calls[i - 1], expert.calls[i]], *([b] for b in expert.calls[i + 1 :])]
        same = _replay(env, task.task_id, messages)
        assert same.submit() == 0.0
        assert same.info["reward_components"]["customer_agreed"] == 0.0


def test_honest_orders_of_work_are_not_punished(env):
    """No false alarms: linking the policy article before asking (it does not depend on the
    answer), and asking through the customer's own duplicate ticket, both earn 1.0 (0/50
    and 0/32 on ``ff10874``)."""
    for task in _facts_tasks(env)[::5]:
        expert = Episode(env, task.task_id)
        expert.expert()
        assert expert.submit() == 1.0
        links = [
            b
            for b in expert.calls
            if b["name"] == "set_ticket_fields" and "linked_article" in b["arguments"]
        ]
        asks = [b for b in expert.calls if b["name"] == "ask_customer"]
        first_ask = expert.calls.index(asks[0])
        early = [
            {"name": "set_ticket_fields", "arguments": {
                "ticket_id": b["arguments"]["ticket_id"],
                "linked_article": b["arguments"]["linked_article"]}}
            for b in links
        ]  # fmt: skip
        calls = [*expert.calls[:first_ask], *early, *expert.calls[first_ask:]]
        triaged = _replay(env, task.task_id, [[b] for b in calls])
        assert triaged.submit() == 1.0, triaged.info["verdict"]
        dup = next((d for g in task.spec["goal"]["tickets"] for d in g["duplicates"]), None)
        if dup is None:
            continue
        via_dup = [
            {**b, "arguments": {**b["arguments"], "ticket_id": dup}} if b in asks else b
            for b in expert.calls
        ]
        first_merge = next(i for i, b in enumerate(via_dup) if b["name"] == "merge_tickets")
        if all(via_dup.index(a) < first_merge for a in via_dup if a["name"] == "ask_customer"):
            asked = _replay(env, task.task_id, [[b] for b in via_dup])
            assert asked.submit() == 1.0, asked.info["verdict"]
