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

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import pytest
from ticket_close_play import Episode

import llmgym  # noqa: F401

ENV_ID = "llmgym/TicketClose-v0"
FLIP = {
    "refunded": "refund_declined",
    "refund_declined": "refunded",
    "escalated": "workaround",
    "workaround": "escalated",
    "password_reset": "escalated",
    "licence_extended": "escalated",
}


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
