"""TicketClose's canonical end state: everything the agent could change, as plain JSON.

The verifier grades this state and ``llmgym check``'s fuzzer diffs it between episodes:

* ``tickets/<id>``: every ticket's changeable fields (status, category, priority, assignee,
  linked article, merged into);
* ``tickets_written``: the tickets whose fields the agent set, even to a value it later set
  back (a change the end state alone would not show);
* ``replies/<ticket>``: the structured replies sent on it, in order (outcome, cited ids, and
  the text rendered from them);
* ``proposals/<ticket>``: the distinct proposals made to its customer and their answers;
* ``messaged``: the tickets whose customer received anything (question, proposal, reply);
* ``learned_from_customers/<account>``: what its customer told when asked (``ask_customer``;
  a question they could not answer, or the same one twice, adds nothing);
* ``decided/<ticket>``: the steps on it that rest on what it is about (proposals, replies,
  escalations), each with what its customer had told in earlier turns: a step taken on a
  guess, and asked about afterwards or in the same message, is still a guess;
* ``escalation_notes/<ticket>``: the notes to other teams, the only free text the agent writes;
* ``escalations/<ticket>`` (teams, in order), ``merges`` (sorted);
* ``account_actions`` (sorted, each with whether the customer had agreed first) and
  ``accounts/<id>``: password resets, licences, refunded orders.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from llmgym.environments.ticket_close.world import HelpdeskWorld

TICKET_FIELDS = ("status", "category", "priority", "assignee", "linked_article", "merged_into")

EQUIVALENCES = (
    # the wording of a note to another team: free text that two correct agents word
    # differently (the verifier checks it for other customers' data; which tickets were
    # escalated to which team is in ``escalations``)
    "escalation_notes/*",
)
"""``state_equivalences`` of TicketClose-v0."""


def canonical_state(world: HelpdeskWorld) -> dict[str, Any]:
    """The helpdesk's end state (see the module docstring)."""
    notes: dict[str, list[str]] = defaultdict(list)
    for message in world.messages:
        if message.kind == "escalation_note":
            notes[message.ticket_id].append(message.text)
    replies: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for reply in world.replies:
        replies[reply.ticket_id].append(
            {
                "outcome": reply.outcome,
                "order_ids": sorted(reply.order_ids),
                "article_id": reply.article_id,
                "text": reply.text,
            }
        )
    proposals: dict[str, set[tuple[str, str, bool]]] = defaultdict(set)
    for p in world.proposals:
        proposals[p.ticket_id].add((p.resolution, p.reference, p.accepted))
    escalations: dict[str, list[str]] = defaultdict(list)
    for ticket_id, team in world.escalations:
        escalations[ticket_id].append(team)
    decided: dict[str, set[tuple[str, tuple[str, ...]]]] = defaultdict(set)
    for d in world.decisions:
        decided[d.ticket_id].add((d.kind, d.customer_had_told))
    messaged = {m.ticket_id for m in world.messages if m.kind == "question"}
    messaged |= set(proposals) | set(replies)
    return {
        "tickets": {
            tid: {f: getattr(t, f) for f in TICKET_FIELDS} for tid, t in world.tickets.items()
        },
        "tickets_written": sorted(world.written),
        "replies": dict(replies),
        "proposals": {
            tid: [
                {"resolution": r, "reference": ref, "accepted": ok}
                for r, ref, ok in sorted(entries)
            ]
            for tid, entries in proposals.items()
        },
        "messaged": sorted(messaged),
        "learned_from_customers": {
            acc: sorted(user.revealed) for acc, user in world.customers.items() if user.revealed
        },
        "decided": {
            tid: [{"kind": k, "customer_had_told": list(t)} for k, t in sorted(entries)]
            for tid, entries in decided.items()
        },
        "escalation_notes": dict(notes),
        "escalations": dict(escalations),
        "merges": sorted([list(m) for m in world.merges]),
        "account_actions": sorted(
            (
                {"kind": a.kind, "target": list(a.target), "agreed_first": a.confirmed}
                for a in world.actions
            ),
            key=lambda a: (a["kind"], str(a["target"]), a["agreed_first"]),
        ),
        "accounts": {
            acc: {
                "password_resets": a["password_resets"],
                "licences": {
                    x["product"]: {"expires": x["expires"], "extensions_used": x["extensions_used"]}
                    for x in a["licences"]
                },
                "refunded_orders": sorted(o["order_id"] for o in a["orders"] if o["refunded"]),
            }
            for acc, a in world.accounts.items()
        },
    }
