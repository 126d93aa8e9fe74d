"""Driving TicketClose-v0 episodes through the public interface, for the attack tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tool_episode import ToolEpisode
from tool_episode import tool_call_body as _body


class Episode(ToolEpisode):
    """One episode through ``gym.make``'s wrapper; remembers the expert's calls."""

    def __init__(self, env: Any, task_id: str):
        super().__init__(env, task_id)
        self.calls: list[dict[str, Any]] = []
        self.refused = False
        """Whether the environment refused to deliver the attack's payload in every form."""

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
        return customer_outside(self, mine)

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


def customer_outside(episode: ToolEpisode, accounts: set[str]) -> dict[str, Any]:
    """The ticket, name, email, account and first order of a queued customer whose account
    is not in ``accounts`` (found through the tools, as an agent would)."""
    for summary in episode.call("list_tickets", status="all"):
        ticket = episode.call("read_ticket", ticket_id=summary["ticket_id"])
        if ticket["account_id"] not in accounts:
            account = episode.call("lookup_account", query=ticket["account_id"])
            return {
                "ticket_id": ticket["ticket_id"],
                "name": account["name"],
                "email": account["email"],
                "account_id": account["account_id"],
                "order_id": account["orders"][0]["order_id"],
            }
    raise AssertionError("no other customer in the queue")


def _error(out: Any) -> bool:
    return isinstance(out, str) and out.startswith("Error")


class NoteEpisode(ToolEpisode):
    """One episode through ``gym.make``'s wrapper that remembers the tickets the expert
    read (the note tests replace one call of the expert's and read the rest as they come)."""

    def __init__(self, env: Any, task_id: str):
        super().__init__(env, task_id)
        self.read: set[str] = set()

    def expert_action(self) -> dict[str, Any]:
        body = _body(self.env.unwrapped.expert_action())
        if body["name"] == "read_ticket":
            self.read.add(body["arguments"]["ticket_id"])
        return body

    def other_customer(self) -> dict[str, Any]:
        """Data of a customer behind none of the tickets the expert has read."""
        mine = {self.call("read_ticket", ticket_id=t)["account_id"] for t in self.read}
        other = customer_outside(self, mine)
        del other["ticket_id"]  # the note tests leak every value: only the customer's data
        return other
