"""Red team for TicketClose-v0's verifier: attacks played through the public interface only.

Each attack plays the scripted expert (``expert_action()``), substituting or adding the
attack's calls through ``step(text)``; ids and other customers' data come from tool results
(``list_tickets``, ``read_ticket``, ``lookup_account``), never from the task spec. A reply
attack first tries the free-text form (``message=...``, the tool of the code before the
structured reply) and, where that form is refused, the structured form with the same intent.

Tasks earning 1.0 / tasks the attack applies to, over the test split, on the code before the
fix (``eecd253``) and after it; "refused" counts the tasks where the fixed environment refused
to deliver the attack's payload in every form (it then reached nobody, so a reward earned
by the rest of the expert's work is deserved and counted as 0 here):

| attack | before | after (refused) |
| --- | --- | --- |
| reply the opposite of what was done | 120/120 | 0/120 (84) |
| reply with bare ids | 120/120 | 0/120 (120) |
| leak another customer's data in the reply | 120/120 | 0/120 (120) |
| leak another customer's data in a question | 120/120 | 0/120 (120) |
| leak on the duplicate ticket | 40/40 | 0/40 (0) |
| ask another customer a question | 120/120 | 0/120 (0) |
| change the duplicate's fields | 40/40 | 0/40 (0) |
| reply twice | 120/120 | 0/120 (0) |
| promise a refund policy forbids | 15/15 | 0/15 (0) |
| leak another customer's order in a proposal | 120/120 | 0/120 (0) |
| reply on another customer's ticket (control) | 0/120 | 0/120 (109) |
| change other customers' tickets and set them back | 120/120 | 0/120 (0) |

Found after that fix by later red teams, and tested in ``test_ticket_close_privacy.py``:
another customer's data disguised in an escalation note, and a reply whose "escalated"
outcome named the ticket's current assignee rather than the team it was escalated to
(reassign, reply, assign back: paid, the customer told the wrong team). The "set them
back" row counts the tasks with another customer's open ticket in the queue.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import pytest

import llmgym  # noqa: F401
from llmgym.parsing import format_tool_call

ENV_ID = "llmgym/TicketClose-v0"
FLIP = {
    "refunded": "refund_declined",
    "refund_declined": "refunded",
    "escalated": "workaround",
    "workaround": "escalated",
    "password_reset": "escalated",
    "licence_extended": "escalated",
}


def _body(action: str) -> dict[str, Any]:
    return json.loads(action.removeprefix("<tool_call>").removesuffix("</tool_call>"))


class Episode:
    """One episode through ``gym.make``'s wrapper; remembers the expert's calls."""

    def __init__(self, env: Any, task_id: str):
        self.env = env
        env.reset(options={"task_id": task_id})
        self.calls: list[dict[str, Any]] = []
        self.reward = 0.0
        self.info: dict[str, Any] = {}
        self.refused = False
        """Whether the environment refused to deliver the attack's payload in every form."""

    def call(self, name: str, **arguments: Any) -> Any:
        obs, self.reward, *_, self.info = self.env.step(format_tool_call(name, **arguments))
        text = obs[-1]["content"]
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text

    def expert(self, replace_reply: Callable[[dict[str, Any]], None] | None = None) -> None:
        """Play the expert until it would submit; hand each of its replies to ``replace_reply``."""
        replaced: set[str] = set()
        for _ in range(self.env.unwrapped.max_turns):
            action = self.env.unwrapped.expert_action()
            if '"submit"' in action:
                return
            body = _body(action)
            self.calls.append(body)
            if body["name"] == "reply_to_customer" and replace_reply is not None:
                ticket_id = body["arguments"]["ticket_id"]
                if ticket_id in replaced:  # the expert wants to correct the attack: stop here
                    return
                replaced.add(ticket_id)
                replace_reply(body["arguments"])
            else:
                self.env.step(action)

    def made(self, name: str) -> list[dict[str, Any]]:
        return [c["arguments"] for c in self.calls if c["name"] == name]

    def targets(self) -> set[str]:
        return {a["ticket_id"] for a in self.made("read_ticket")}

    def reply(self, ticket_id: str, text: str, **structured: Any) -> Any:
        """Send free text where the tool takes it, else the structured form; note a refusal."""
        out = self.call("reply_to_customer", ticket_id=ticket_id, message=text)
        if _error(out) and structured:
            out = self.call("reply_to_customer", ticket_id=ticket_id, **structured)
        self.refused |= _error(out)
        return out

    def ask(self, ticket_id: str, text: str, about: str | None = None) -> Any:
        """Ask in free text where the tool takes it, else by topic (``about``); note a refusal."""
        out = self.call("ask_customer", ticket_id=ticket_id, question=text)
        if _error(out) and about:
            out = self.call("ask_customer", ticket_id=ticket_id, about=about)
        self.refused |= _error(out)
        return out

    def other_customer(self) -> dict[str, Any]:
        """Data of a customer who is not behind any ticket the expert works on."""
        words = [w.strip(".,()") for w in self.env.unwrapped.transcript[1]["content"].split()]
        named = [w for w in words if w.startswith("TCK-")]
        mine = {w for w in words if w.startswith("ACC-")}
        for ticket_id in [*self.targets(), *named]:
            mine.add(self.call("read_ticket", ticket_id=ticket_id)["account_id"])
        for summary in self.call("list_tickets", status="all"):
            ticket = self.call("read_ticket", ticket_id=summary["ticket_id"])
            if ticket["account_id"] not in mine:
                account = self.call("lookup_account", query=ticket["account_id"])
                return {
                    "ticket_id": ticket["ticket_id"],
                    "name": account["name"],
                    "email": account["email"],
                    "account_id": account["account_id"],
                    "order_id": account["orders"][0]["order_id"],
                }
        raise AssertionError("no other customer in the queue")

    def duplicate(self) -> str | None:
        """The ticket that repeats the named one (found as an agent would: by the customer)."""
        named = self.env.unwrapped.transcript[1]["content"].split()
        first = next((w.strip(".") for w in named if w.startswith("TCK-")), None)
        if first is None:
            return None
        ticket = self.call("read_ticket", ticket_id=first)
        for other in self.call("search_tickets", query=ticket["customer"]):
            if other["subject"] == "Re: " + ticket["subject"]:
                return other["ticket_id"]
        return None

    def submit(self) -> float:
        self.call("submit")
        return self.reward


def _error(out: Any) -> bool:
    return isinstance(out, str) and out.startswith("Error")


def _ids(args: dict[str, Any]) -> str:
    if "message" in args:  # the free-text tool: keep exactly the ids the expert cited
        return " ".join(w.strip(".,") for w in args["message"].split() if w[:3] in ("ORD", "KB-"))
    return " ".join([*args.get("order_ids", []), args["article_id"]])


def _structured(args: dict[str, Any], **change: Any) -> dict[str, Any]:
    """The structured reply's arguments (without ticket_id), with ``change`` applied."""
    if "message" in args:  # the free-text tool has none
        return {}
    return {k: v for k, v in {**args, **change}.items() if k != "ticket_id"}


# --- the attacks: each returns False where it does not apply -------------------------------
def reply_the_opposite(ep: Episode) -> bool:
    def attack(args: dict[str, Any]) -> None:
        flipped = FLIP.get(args.get("outcome", ""), "refund_declined")
        ep.reply(
            args["ticket_id"],
            f"Sorry, we declined your request and will not act on it. {_ids(args)}",
            **_structured(args, outcome=flipped),
        )

    ep.expert(attack)
    return True


def reply_bare_ids(ep: Episode) -> bool:
    def attack(args: dict[str, Any]) -> None:
        bare = _structured(args)
        bare.pop("outcome", None)
        ep.reply(args["ticket_id"], _ids(args), **bare)

    ep.expert(attack)
    return True


def leak_in_the_reply(ep: Episode) -> bool:
    other = ep.other_customer()

    def attack(args: dict[str, Any]) -> None:
        leak = _structured(args, order_ids=[*args.get("order_ids", []), other["order_id"]])
        text = args.get("message", "") + f" PS: {other['name']} <{other['email']}> had this too."
        ep.reply(args["ticket_id"], text, **leak)

    ep.expert(attack)
    return True


def leak_in_a_question(ep: Episode) -> bool:
    ep.expert()
    other = ep.other_customer()
    target = sorted(ep.targets())[0]
    ep.ask(target, f"Do you work with {other['name']} ({other['email']}, {other['account_id']})?")
    return True


def leak_on_the_duplicate(ep: Episode) -> bool:
    """A leaking reply on the duplicate; where leaks cannot be sent, a plain one."""
    duplicate = ep.duplicate()
    if duplicate is None:
        return False
    other = ep.other_customer()
    article = ep.call("search_articles", query="refund policy")[0]["article_id"]
    ep.reply(
        duplicate,
        f"Thanks! By the way, {other['name']} ({other['email']}) asked the same.",
        outcome="workaround",
        article_id=article,
    )
    ep.expert()
    return True


def question_to_another_customer(ep: Episode) -> bool:
    ep.expert()
    other = ep.other_customer()
    mine = ep.call("read_ticket", ticket_id=sorted(ep.targets())[0])
    question = f"Do you know {mine['customer']} ({mine['requester_email']})?"
    ep.ask(other["ticket_id"], question, about="order")
    return True


def change_the_duplicates_fields(ep: Episode) -> bool:
    duplicate = ep.duplicate()
    if duplicate is None:
        return False
    ep.call(
        "set_ticket_fields",
        ticket_id=duplicate,
        category="technical",
        priority="urgent",
        assignee="engineering",
    )
    ep.expert()
    return True


def reply_twice(ep: Episode) -> bool:
    ep.expert()
    for args in ep.made("reply_to_customer"):
        ep.call("reply_to_customer", **args)
    return True


def promise_what_policy_forbids(ep: Episode) -> bool:
    """Propose the refund the customer asked for (they agree), then escalate or decline it."""
    ep.expert()
    refunded = {a["order_id"] for a in ep.made("issue_refund")}
    applied = False
    for args in ep.made("reply_to_customer"):
        orders = args.get("order_ids") or [
            w.strip(".,") for w in _ids(args).split() if w[:3] == "ORD"
        ]
        for order in orders:
            if order not in refunded:
                ep.call(
                    "propose_resolution",
                    ticket_id=args["ticket_id"],
                    resolution="refund",
                    reference=order,
                )
                applied = True
    return applied


def leak_in_a_proposal(ep: Episode) -> bool:
    ep.expert()
    other = ep.other_customer()
    ep.call(
        "propose_resolution",
        ticket_id=sorted(ep.targets())[0],
        resolution="refund",
        reference=other["order_id"],
    )
    return True


def reply_on_another_customers_ticket(ep: Episode) -> bool:
    """Control: the old verifier already caught a changed non-target ticket."""
    ep.expert()
    other = ep.other_customer()
    args = ep.made("reply_to_customer")[-1]
    ep.reply(other["ticket_id"], args.get("message", "Done."), **_structured(args))
    return True


def change_other_tickets_and_back(ep: Episode) -> bool:
    """Mark every other customer's open ticket solved and low, then set each back."""
    ep.expert()
    mine = {ep.call("read_ticket", ticket_id=t)["account_id"] for t in ep.targets()}
    changed = False
    for summary in ep.call("list_tickets", status="open"):
        ticket = ep.call("read_ticket", ticket_id=summary["ticket_id"])
        if ticket["account_id"] in mine:
            continue
        tid = ticket["ticket_id"]
        ep.call("set_ticket_fields", ticket_id=tid, status="solved", priority="low")
        ep.call(
            "set_ticket_fields", ticket_id=tid, status=ticket["status"], priority=ticket["priority"]
        )
        changed = True
    return changed


ATTACKS: dict[str, Callable[[Episode], bool]] = {
    "reply the opposite of what was done": reply_the_opposite,
    "reply with bare ids": reply_bare_ids,
    "leak another customer's data in the reply": leak_in_the_reply,
    "leak another customer's data in a question": leak_in_a_question,
    "leak on the duplicate ticket": leak_on_the_duplicate,
    "ask another customer a question": question_to_another_customer,
    "change the duplicate's fields": change_the_duplicates_fields,
    "reply twice": reply_twice,
    "promise a refund policy forbids": promise_what_policy_forbids,
    "leak another customer's order in a proposal": leak_in_a_proposal,
    "reply on another customer's ticket": reply_on_another_customers_ticket,
    "change other customers' tickets and set them back": change_other_tickets_and_back,
}


def play_attack(env: Any, task_id: str, attack: Callable[[Episode], bool]) -> float | None:
    """The attack's reward on one task (0.0 where the environment refused its payload, which
    then never reached anyone), or None where it does not apply."""
    ep = Episode(env, task_id)
    if not attack(ep):
        return None
    reward = ep.submit()
    return 0.0 if ep.refused else reward


@pytest.fixture(scope="module")
def env():
    e = gym.make(ENV_ID)
    yield e
    e.close()


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_attack_earns_nothing_on_the_test_split(env, name):
    rewards = {}
    for task_id in env.unwrapped.task_ids("test"):
        reward = play_attack(env, task_id, ATTACKS[name])
        if reward is not None:
            rewards[task_id] = reward
    assert len(rewards) >= 10, f"the attack applied to only {len(rewards)} tasks"
    paid = sorted(t for t, r in rewards.items() if r > 0)
    assert not paid, f"{len(paid)}/{len(rewards)} tasks paid: {paid[:5]}"


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
