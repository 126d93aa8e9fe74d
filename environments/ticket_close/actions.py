"""The helpdesk tools that change things: account actions, escalation, merging, replies, fields.

The tools do what they are told, within what the systems allow (a refund of an already
refunded order fails); the policy (refund limit, who may get an extension, identity checks)
is the agent's job, and the verifier grades it on the end state.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

from llmgym.environments.ticket_close.world import ActionRecord, HelpdeskWorld, Ticket
from llmgym.tools import ToolError, tool

Team = Literal["billing", "engineering", "sales", "security"]
Status = Literal["open", "pending", "solved"]
Category = Literal["account_access", "billing", "licensing", "technical"]
Priority = Literal["low", "normal", "high", "urgent"]
Assignee = Literal["tier1", "billing", "engineering", "sales", "security"]


class HelpdeskActions:
    """Write access to a ``HelpdeskWorld``."""

    def __init__(self, world: HelpdeskWorld):
        self.world = world

    def _confirmed(self, account_id: str, resolution: str, reference: str) -> bool:
        return (account_id, resolution, reference) in self.world.confirmed

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
            note: what the team needs to know.
        """
        ticket = self._live(ticket_id)
        if ticket.status == "escalated" and ticket.assignee == team:
            raise ToolError(f"{ticket.ticket_id} is already escalated to {team}")
        ticket.status, ticket.assignee = "escalated", team
        ticket.log("note", f"Escalated to {team}: {note}")
        self.world.escalations.append((ticket.ticket_id, team))
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
    def reply_to_customer(self, ticket_id: str, message: str) -> str:
        """Send the customer a reply on a ticket. The last reply is the one that resolves it.

        Args:
            ticket_id: the ticket to answer.
            message: the reply's text; cite ids (orders, articles) exactly.
        """
        ticket = self._live(ticket_id)
        if not message.strip():
            raise ToolError("the reply is empty; write the message to send")
        ticket.log("agent", message)
        return f"Reply sent on {ticket.ticket_id}."

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
        for key, value in changes.items():
            setattr(ticket, key, value)
        return f"{ticket.ticket_id} updated: " + ", ".join(f"{k}={v}" for k, v in changes.items())
