"""The helpdesk tools that change things: account actions, escalation, merging, replies, fields.

The tools do what they are told, within what the systems allow (a refund of an already
refunded order fails); the policy (refund limit, who may get an extension, identity checks)
is the agent's job, and the verifier grades it on the end state.

A reply to the customer is structured (an outcome, the order ids and the article it cites)
and its text is rendered from those fields, so no reply can say something other than what
its fields say; the fields are checked against the world when it is sent (a refund is
announced only once it is done, only the customer's own orders are cited).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

from llmgym.environments.ticket_close.spec import Assignee, Category, Priority, Team
from llmgym.environments.ticket_close.world import (
    ActionRecord,
    CustomerReply,
    HelpdeskWorld,
    SentMessage,
    Ticket,
)
from llmgym.tools import ToolError, tool

Status = Literal["open", "pending", "solved"]
"""The statuses ``set_ticket_fields`` sets (escalating and merging have tools of their own)."""
Outcome = Literal[
    "refunded", "refund_declined", "password_reset", "licence_extended", "escalated", "workaround"
]


class HelpdeskActions:
    """Write access to a ``HelpdeskWorld``."""

    def __init__(self, world: HelpdeskWorld):
        self.world = world

    def _confirmed(self, account_id: str, resolution: str, reference: str) -> bool:
        """Whether the customer had agreed in an earlier turn (an answer written in the same
        message as the action was not seen yet)."""
        agreed = self.world.confirmed.get((account_id, resolution, reference))
        return agreed is not None and agreed < self.world.turn

    def _live(self, ticket_id: str) -> Ticket:
        ticket = self.world.ticket(ticket_id)
        if ticket.merged_into:
            raise ToolError(
                f"{ticket.ticket_id} was merged into {ticket.merged_into}; use that one"
            )
        return ticket

    # --- account actions --------------------------------------------------------------------
    @tool
    def reset_password(self, account_id: str) -> str:
        """Reset an account's password; a reset link goes to the email on file.

        Args:
            account_id: the account, e.g. "ACC-1234".
        """
        account = self.world.account(account_id)
        account["password_resets"] += 1
        acc = account["account_id"]
        self.world.actions.append(
            ActionRecord("reset_password", (acc,), self._confirmed(acc, "reset_password", acc))
        )
        return f"Password of {acc} reset; a link was sent to {account['email']}."

    @tool
    def issue_refund(self, order_id: str) -> str:
        """Refund an order in full to the customer's payment method.

        Args:
            order_id: the order, e.g. "ORD-12345".
        """
        key = order_id.strip().upper()
        for account in self.world.accounts.values():
            for order in account["orders"]:
                if order["order_id"] == key:
                    if order["refunded"]:
                        raise ToolError(f"{key} was already refunded")
                    order["refunded"] = True
                    confirmed = self._confirmed(account["account_id"], "refund", key)
                    self.world.actions.append(ActionRecord("refund", (key,), confirmed))
                    return f"{key} refunded: ${order['amount']} to {account['name']}."
        raise ToolError(
            f"unknown order {order_id!r}; order ids look like ORD-12345 (see lookup_account)"
        )

    @tool
    def extend_licence(self, account_id: str, product: str, days: int) -> str:
        """Extend an account's licence for one product by a number of days.

        Args:
            account_id: the account, e.g. "ACC-1234".
            product: the product's name, as in the account's licences.
            days: how many days to add (1-365).
        """
        account = self.world.account(account_id)
        licence = next((x for x in account["licences"] if x["product"] == product.strip()), None)
        if licence is None:
            owned = [x["product"] for x in account["licences"]]
            raise ToolError(f"{account['account_id']} has no {product!r} licence; it has {owned}")
        if not 1 <= days <= 365:
            raise ToolError(f"days must be between 1 and 365, got {days}")
        start = max(date.fromisoformat(licence["expires"]), date.fromisoformat(self.world.today))
        licence["expires"] = (start + timedelta(days=days)).isoformat()
        licence["extensions_used"] += 1
        acc = account["account_id"]
        confirmed = self._confirmed(acc, "extend_licence", licence["product"])
        self.world.actions.append(
            ActionRecord("extend_licence", (acc, licence["product"], days), confirmed)
        )
        return f"{licence['product']} licence of {acc} now expires {licence['expires']}."

    # --- ticket actions ---------------------------------------------------------------------
    @tool
    def escalate_ticket(self, ticket_id: str, team: Team, note: str) -> str:
        """Hand a ticket to another team: its status becomes "escalated" and the team its assignee.

        Args:
            ticket_id: the ticket to escalate.
            team: "billing", "engineering", "sales" or "security".
            note: what the team needs to know, in plain English with the words and numbers
                of this customer's tickets and account and the knowledge base (anything else
                counts as disclosing another customer's data).
        """
        ticket = self._live(ticket_id)
        if ticket.status == "escalated" and ticket.assignee == team:
            raise ToolError(f"{ticket.ticket_id} is already escalated to {team}")
        outside = self.world.note_vocabulary(ticket).refused(note)
        ticket.status, ticket.assignee = "escalated", team
        ticket.log("note", f"Escalated to {team}: {note}")
        self.world.escalations.append((ticket.ticket_id, team))
        self.world.decide(ticket, "escalation")
        self.world.messages.append(SentMessage(ticket.ticket_id, "escalation_note", note))
        if outside:  # sent all the same: what was written is on record, and it is judged
            return (
                f"{ticket.ticket_id} escalated to {team}. Warning: the note holds what a note "
                "may not (only plain English and the words and numbers of this customer's "
                f"tickets, account and the knowledge base): {', '.join(outside[:12])}. It "
                "counts as disclosing another customer's data."
            )
        return f"{ticket.ticket_id} escalated to {team}."

    @tool
    def merge_tickets(self, duplicate_id: str, into_id: str) -> str:
        """Merge a duplicate ticket into another one; the duplicate's status becomes "merged".

        Args:
            duplicate_id: the ticket that repeats another.
            into_id: the ticket to keep.
        """
        duplicate, keep = self._live(duplicate_id), self._live(into_id)
        if duplicate is keep:
            raise ToolError("a ticket cannot be merged into itself")
        duplicate.status, duplicate.merged_into = "merged", keep.ticket_id
        keep.log("note", f"{duplicate.ticket_id} merged into this ticket: {duplicate.body}")
        self.world.merges.append((duplicate.ticket_id, keep.ticket_id))
        return f"{duplicate.ticket_id} merged into {keep.ticket_id}."

    @tool
    def reply_to_customer(
        self,
        ticket_id: str,
        outcome: Outcome,
        article_id: str,
        order_ids: list[str] | None = None,
    ) -> str:
        """Send the customer the resolution of a ticket; the message is written from these fields.

        Send one reply per ticket, once its work is done: the customer receives the text shown
        in the result, and it must match what was done.

        Args:
            ticket_id: the ticket to answer.
            outcome: what was done: "refunded", "refund_declined" (not refundable under
                policy), "password_reset", "licence_extended", "escalated" (to the team the
                ticket is escalated to) or "workaround" (the article describes one).
            article_id: the current knowledge-base article that applies, e.g. "KB-1234".
            order_ids: the order(s) the ticket is about, e.g. ["ORD-12345"]; none if no order.
        """
        ticket = self._live(ticket_id)
        article = article_id.strip().upper()
        if article not in self.world.articles:
            raise ToolError(f"unknown article {article_id!r}; see search_articles")
        account = self.world.accounts[ticket.account_id]
        orders = {o["order_id"]: o for o in account["orders"]}
        cited = tuple(o.strip().upper() for o in order_ids or ())
        foreign = [o for o in cited if o not in orders]
        if foreign:
            raise ToolError(
                f"{foreign} are not orders of {ticket.customer}'s account {ticket.account_id} "
                f"(its orders: {sorted(orders)}); cite only this customer's orders"
            )
        conflict = outcome_conflict(self.world, ticket, outcome, cited)
        if conflict:
            raise ToolError(conflict)
        text = render_reply(ticket, outcome, cited, article, self._done_for(ticket, outcome))
        ticket.log("agent", text)
        self.world.replies.append(CustomerReply(ticket.ticket_id, outcome, cited, article, text))
        self.world.decide(ticket, "reply")
        return f"Reply sent on {ticket.ticket_id}:\n{text}"

    def _done_for(self, ticket: Ticket, outcome: str) -> str:
        """The detail the reply states: the team escalated to, or the licence's new expiry."""
        if outcome == "escalated":  # the team of the escalation, whoever is assigned now
            return next(t for tid, t in reversed(self.world.escalations) if tid == ticket.ticket_id)
        if outcome == "licence_extended":
            account = self.world.accounts[ticket.account_id]
            last = [a for a in self.world.actions if a.kind == "extend_licence"]
            product = next(
                a.target[1] for a in reversed(last) if a.target[0] == account["account_id"]
            )
            licence = next(x for x in account["licences"] if x["product"] == product)
            return f"{product} licence now runs until {licence['expires']}"
        return ""

    @tool
    def set_ticket_fields(
        self,
        ticket_id: str,
        status: Status | None = None,
        category: Category | None = None,
        priority: Priority | None = None,
        assignee: Assignee | None = None,
        linked_article: str | None = None,
    ) -> str:
        """Set one or more of a ticket's fields; omitted fields are left as they are.

        Args:
            ticket_id: the ticket to update.
            status: "open", "pending" or "solved" (escalate with escalate_ticket).
            category: "account_access", "billing", "licensing" or "technical".
            priority: "low", "normal", "high" or "urgent".
            assignee: "tier1" (you) or a team.
            linked_article: the knowledge-base article that resolves it, e.g. "KB-1234".
        """
        ticket = self._live(ticket_id)
        if linked_article is not None:
            linked_article = linked_article.strip().upper()
            if linked_article not in self.world.articles:
                raise ToolError(f"unknown article {linked_article!r}; see search_articles")
        changes = {
            "status": status,
            "category": category,
            "priority": priority,
            "assignee": assignee,
            "linked_article": linked_article,
        }
        if all(v is None for v in changes.values()):
            raise ToolError("no field given: set at least one of " + ", ".join(changes))
        changes = {k: v for k, v in changes.items() if v is not None}
        self.world.written.add(ticket.ticket_id)
        for key, value in changes.items():
            setattr(ticket, key, value)
        return f"{ticket.ticket_id} updated: " + ", ".join(f"{k}={v}" for k, v in changes.items())


def outcome_conflict(
    world: HelpdeskWorld, ticket: Ticket, outcome: str, order_ids: tuple[str, ...]
) -> str | None:
    """Why the world contradicts a reply's outcome at the time it is sent (None: it does not).

    ``order_ids`` are the ticket's customer's own orders (checked by the caller).
    """
    account = world.accounts[ticket.account_id]
    refunded = {o["order_id"] for o in account["orders"] if o["refunded"]}
    done = {(a.kind, a.target[0]) for a in world.actions}
    if outcome in ("refunded", "refund_declined") and not order_ids:
        return f"outcome {outcome!r} needs the order id(s) in order_ids"
    if outcome == "refunded" and not set(order_ids) <= refunded:
        return "refund the order(s) first (issue_refund), then reply"
    if outcome == "refund_declined" and set(order_ids) & refunded:
        return f"{sorted(set(order_ids) & refunded)} were refunded; the reply cannot say otherwise"
    if outcome == "password_reset" and ("reset_password", ticket.account_id) not in done:
        return "reset the password first (reset_password), then reply"
    if outcome == "licence_extended" and ("extend_licence", ticket.account_id) not in done:
        return "extend the licence first (extend_licence), then reply"
    escalated = any(tid == ticket.ticket_id for tid, _ in world.escalations)
    if outcome == "escalated" and not (escalated and ticket.status == "escalated"):
        return "escalate the ticket first (escalate_ticket), then reply"
    return None


def render_reply(
    ticket: Ticket, outcome: str, order_ids: tuple[str, ...], article_id: str, detail: str
) -> str:
    """The customer-facing text of a structured reply (the only text a customer receives)."""
    orders = " and ".join(f"order {o}" for o in order_ids)
    about = f" about {orders}" if orders else ""
    what = {
        "refunded": f"we have refunded {orders}; the money is on its way to you.",
        "refund_declined": f"{orders} cannot be refunded under our refund policy.",
        "password_reset": "we have reset your password; a reset link went to your email on file.",
        "licence_extended": f"we have extended your licence: the {detail}.",
        "escalated": f"we have passed your request{about} to our {detail} team, who will "
        "follow up with you.",
        "workaround": f"there is a workaround for this issue{about}.",
    }[outcome]
    name = ticket.customer.split()[0]
    return f"Hello {name}, {what} Details are in article {article_id}. Best regards, Support"
