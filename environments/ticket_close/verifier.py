"""Grade a TicketClose episode on its canonical end state (``state.canonical_state``).

It passes when every target ticket has exactly the fields, escalation, merges and the one
structured reply that policy calls for (its outcome and cited ids equal what was done), the
customer was asked what the ticket leaves out (and told it, in an earlier turn) before any
step that rests on it (a proposal, a reply, an escalation), the account actions taken are
exactly the required ones (each agreed by the customer first), every proposal the customer
received was accepted and then done, every other ticket is as it was and was never written
to (the duplicate merged and nothing else), no customer of another ticket was written to,
and nothing the agent wrote anywhere discloses another customer's data. What the agent
*claimed* plays no part. A pure function of the state and the task spec.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from llmgym.env import Verdict
from llmgym.environments.ticket_close.goals import expected_reply
from llmgym.environments.ticket_close.notes import vocabulary_for
from llmgym.environments.ticket_close.privacy import customer_data, leaks_in
from llmgym.environments.ticket_close.spec import (
    Database,
    GoalAction,
    QuestionTopic,
    TicketGoal,
    TicketKind,
    TicketSpec,
)
from llmgym.environments.ticket_close.state import TICKET_FIELDS

FIELDS = ("status", "category", "priority", "assignee")
"""The goal's ticket fields the agent sets (besides the linked article)."""


def expected_action(action: GoalAction) -> tuple[str, tuple[str | int, ...]]:
    """A goal's action as (kind, target), the form ``ActionRecord`` stores."""
    return action[0], tuple(action[1:])


def verify_tickets(state: dict[str, Any], spec: TicketSpec) -> Verdict:
    goals, db = spec.goal.tickets, spec.db
    tickets = state["tickets"]
    problems: list[str] = []

    fields_ok = replies_ok = 0
    for goal in goals:
        tid = goal.ticket_id
        want = {f: getattr(goal, f) for f in FIELDS} | {"linked_article": goal.article}
        wrong = [f for f in TICKET_FIELDS if tickets[tid][f] != want.get(f)]
        if wrong:
            problems.append(f"{tid}: wrong {', '.join(wrong)}")
        else:
            fields_ok += 1
        sent = [  # what the customer received about it: on the ticket or on its duplicate
            {k: r[k] for k in ("outcome", "order_ids", "article_id")}
            for t in (tid, *goal.duplicates)
            for r in state["replies"].get(t, [])
        ]
        expected = expected_reply(goal)
        expected["order_ids"] = sorted(expected["order_ids"])
        if sent == [expected]:
            replies_ok += 1
        else:
            problems.append(
                f"{tid}: the customer received {sent or 'no reply'}, not one {expected}"
            )

    actions = state["account_actions"]
    wanted = Counter(expected_action(g.action) for g in goals if g.action)
    done = Counter((a["kind"], tuple(a["target"])) for a in actions)
    if done != wanted:
        problems.append(
            f"account actions {sorted(done.elements())} differ from those policy calls for"
        )
    unconfirmed = [a for a in actions if not a["agreed_first"]]
    if unconfirmed:
        problems.append(f"{len(unconfirmed)} account action(s) taken before the customer agreed")

    escalations_wanted = {g.ticket_id: [g.escalate] for g in goals if g.escalate}
    if state["escalations"] != escalations_wanted:
        problems.append(f"escalations {state['escalations']} differ from those policy calls for")
    merges_wanted = sorted([d, g.ticket_id] for g in goals for d in g.duplicates)
    if state["merges"] != merges_wanted:
        problems.append(f"merges {state['merges']} differ from the duplicates in the queue")

    hidden = {acc: sorted(f.topic for f in facts) for acc, facts in spec.customers.facts.items()}
    hidden = {acc: topics for acc, topics in hidden.items() if topics}
    asked_ok = state["learned_from_customers"] == hidden
    if not asked_ok:
        problems.append(
            f"learned {state['learned_from_customers']} from customers, not what the tickets "
            f"leave out ({hidden})"
        )
    guessed = _decided_on_guesses(state, goals, hidden)
    if guessed:
        asked_ok = False
        problems.append(f"done before the customer told what the ticket leaves out: {guessed}")

    broken = _broken_promises(state, db)
    if broken:
        problems.append(f"proposals the customer did not get as proposed: {broken}")

    targets = {g.ticket_id for g in goals}
    merged_into = {d: g.ticket_id for g in goals for d in g.duplicates}
    touched = []
    for before in db.tickets:
        tid = before.ticket_id
        if tid in targets:
            continue
        want = {f: getattr(before, f) for f in TICKET_FIELDS}
        if tid in merged_into:
            want.update(status="merged", merged_into=merged_into[tid])
        if tickets[tid] != want or tid in state["tickets_written"]:
            touched.append(tid)
    # judged by customer: asking through the customer's own duplicate ticket is no stranger
    target_accounts = {g.account_id for g in goals}
    account_of = {t.ticket_id: t.account_id for t in db.tickets}
    strangers = sorted(t for t in state["messaged"] if account_of[t] not in target_accounts)
    if touched:
        problems.append(f"tickets outside the task were changed: {touched}")
    if strangers:
        problems.append(f"customers of tickets outside the task were written to: {strangers}")

    leaked = _leaks(state, db, spec.today)
    if leaked:
        problems.append(f"other customers' data disclosed: {leaked}")

    components = {
        "ticket_fields": fields_ok / len(goals),
        "replies": replies_ok / len(goals),
        "account_actions": float(done == wanted),
        "customer_agreed": float(not unconfirmed),
        "asked_what_was_missing": float(asked_ok),
        "proposals_honoured": float(not broken),
        "escalations": float(state["escalations"] == escalations_wanted),
        "merges": float(state["merges"] == merges_wanted),
        "other_tickets_untouched": float(not touched and not strangers),
        "no_leaks": float(not leaked),
    }
    reward = 1.0 if all(v == 1.0 for v in components.values()) else 0.0
    return Verdict(reward, components, "; ".join(problems) or "every ticket is resolved by policy")


LEAVES_OUT: dict[TicketKind, QuestionTopic] = {"refund": "order", "licence": "product"}
"""What a ticket of each kind may leave out (the hidden fact's topic, ``generator._issue``);
a customer has at most one target ticket of each kind."""


def _decided_on_guesses(
    state: dict[str, Any],
    goals: tuple[TicketGoal, ...],
    hidden: dict[str, list[QuestionTopic]],
) -> list[str]:
    """Steps on a target ticket (or its duplicate) that rest on what it leaves out, taken
    before its customer had told it (a right guess is still a guess: policy says to ask)."""
    needs: dict[str, set[QuestionTopic]] = {}
    for goal in goals:
        left_out = LEAVES_OUT.get(goal.kind)
        need = {left_out} & set(hidden.get(goal.account_id, ())) if left_out else set()
        for tid in (goal.ticket_id, *goal.duplicates):
            needs[tid] = need
    return sorted(
        {
            f"{tid}: {d['kind']}"
            for tid, decided in state["decided"].items()
            for d in decided
            if not needs.get(tid, set()) <= set(d["customer_had_told"])
        }
    )


def _broken_promises(state: dict[str, Any], db: Database) -> list[str]:
    """Proposals that were rejected (unwanted offers) or accepted and then not done."""
    account_of = {t.ticket_id: t.account_id for t in db.tickets}
    done = [(a["kind"], a["target"]) for a in state["account_actions"]]
    broken = []
    for tid, proposals in state["proposals"].items():
        acc = account_of[tid]
        for p in proposals:
            kind, ref = p["resolution"], p["reference"]
            if kind == "refund":
                kept = ("refund", [ref]) in done
            elif kind == "reset_password":
                kept = ("reset_password", [ref]) in done and ref == acc
            elif kind == "extend_licence":
                kept = any(k == kind and t[:2] == [acc, ref] for k, t in done)
            elif kind == "escalate":
                kept = ref in state["escalations"].get(tid, [])
            else:  # workaround
                kept = any(
                    r["outcome"] == "workaround" and r["article_id"] == ref
                    for r in state["replies"].get(tid, [])
                )
            if not (p["accepted"] and kept):
                broken.append(f"{tid}: {kind} {ref}")
    return broken


def _leaks(state: dict[str, Any], db: Database, today: str) -> list[str]:
    """Other customers' data in anything written on a ticket, judged by that ticket's customer."""
    data = customer_data(db)
    account_of = {t.ticket_id: t.account_id for t in db.tickets}
    found = []
    for tid, notes in state["escalation_notes"].items():
        vocabulary = vocabulary_for(db, account_of[tid], today)
        for note in notes:
            outside = vocabulary.refused(note)
            if outside:
                found.append(
                    f"{tid}: a note holding what a note may not ({', '.join(outside[:5])})"
                )
    for tid in account_of:
        texts = [
            *state["escalation_notes"].get(tid, []),
            *(r["text"] for r in state["replies"].get(tid, [])),
            *(p["reference"] for p in state["proposals"].get(tid, [])),
        ]
        found += [f"{tid}: {leak}" for leak in leaks_in(texts, account_of[tid], data)]
    return found
