"""Seeded generation of TicketClose tasks: accounts, a ticket queue, a knowledge base, a goal.

Every target ticket has exactly one correct end state under the policies in the current
knowledge-base articles; traps (a refund above the limit or outside the window, a licence
extension the plan does not allow, a password reset asked from a foreign email, a known issue
without a workaround) make the obvious action the wrong one. All randomness comes from
``numpy.random.default_rng(seed)``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import numpy as np

from llmgym.environments.ticket_close.goals import CATEGORY, priority_for
from llmgym.environments.ticket_close.kb import (
    PRODUCTS,
    SYMPTOMS,
    KnowledgeBase,
    Policy,
    build_kb,
    draw_policy,
)

TODAY = date(2026, 11, 20)
NOW = datetime(2026, 11, 20, 9, 0)
FIRST = ("Dana", "Alex", "Priya", "Marco", "Yuki", "Sam", "Lena", "Omar", "Ines", "Kofi", "Ada")
LAST = ("Reyes", "Okafor", "Nguyen", "Silva", "Tanaka", "Keller", "Haddad", "Novak", "Moreau")
DOMAINS = ("northwind.io", "bluebird.co", "quill.dev", "lantern.org", "maple.biz")
KINDS = ("password", "refund", "licence", "bug")
TRAPS = {
    "password": ("foreign_email",),
    "refund": ("over_limit", "out_of_window"),
    "licence": ("not_eligible",),
    "bug": ("no_workaround",),
}


class _Builder:
    """Accumulates one task's accounts and tickets."""

    def __init__(self, rng: np.random.Generator, kb: KnowledgeBase, policy: Policy):
        self.rng, self.kb, self.policy = rng, kb, policy
        self.accounts: list[dict[str, Any]] = []
        self.tickets: list[dict[str, Any]] = []
        self.facts: dict[str, list[dict[str, Any]]] = {}
        self.accepts: dict[str, list[list[str]]] = {}
        self.used_names: set[str] = set()
        self.account_ids = iter(rng.choice(np.arange(1000, 10000), size=30, replace=False))
        self.order_ids = iter(rng.choice(np.arange(10000, 100000), size=200, replace=False))

    def pick(self, options: Any) -> Any:
        return options[int(self.rng.integers(len(options)))]

    def day(self, days_ago: int) -> str:
        return (TODAY - timedelta(days=days_ago)).isoformat()

    def account(self, plan: str | None = None) -> dict[str, Any]:
        name = self.pick(FIRST) + " " + self.pick(LAST)
        while name in self.used_names:
            name = self.pick(FIRST) + " " + self.pick(LAST)
        self.used_names.add(name)
        products = [str(p) for p in self.rng.choice(PRODUCTS, size=2, replace=False)]
        account = {
            "account_id": f"ACC-{next(self.account_ids)}",
            "name": name,
            "email": f"{name.lower().replace(' ', '.')}@{self.pick(DOMAINS)}",
            "plan": plan or self.pick(("standard", "premium", "enterprise")),
            "password_resets": 0,
            "licences": [
                {
                    "product": p,
                    "expires": self.day(-int(self.rng.integers(20, 300))),
                    "extensions_used": 0,
                }
                for p in products
            ],
            "orders": [],
        }
        for p in products:
            for _ in range(int(self.rng.integers(1, 3))):
                self.order(
                    account, p, int(self.rng.integers(5, 40)) * 10, int(self.rng.integers(3, 120))
                )
        self.accounts.append(account)
        return account

    def order(self, account: dict[str, Any], product: str, amount: int, days_ago: int) -> str:
        order_id = f"ORD-{next(self.order_ids)}"
        account["orders"].append(
            {
                "order_id": order_id,
                "product": product,
                "amount": amount,
                "date": self.day(days_ago),
                "refunded": False,
            }
        )
        account["orders"].sort(key=lambda o: o["date"])
        return order_id

    def ticket(
        self, account: dict[str, Any], product: str, subject: str, body: str, minutes_ago: int
    ) -> dict[str, Any]:
        ticket = {
            "ticket_id": f"T{len(self.tickets)}",  # renumbered by creation time at the end
            "account_id": account["account_id"],
            "customer": account["name"],
            "requester_email": account["email"],
            "product": product,
            "subject": subject,
            "body": body,
            "severity": self.pick(("low", "normal", "high", "critical")),
            "sla_hours_left": int(self.rng.integers(1, 49)),
            "minutes_ago": minutes_ago,
            "status": "open",
            "category": None,
            "priority": "normal",
            "assignee": None,
            "linked_article": None,
            "merged_into": None,
        }
        self.tickets.append(ticket)
        return ticket

    def fact(self, account: dict[str, Any], topic: str, answer: str, keywords: list[str]) -> None:
        self.facts.setdefault(account["account_id"], []).append(
            {"topic": topic, "answer": answer, "keywords": keywords}
        )


def _issue(
    b: _Builder, account: dict[str, Any], kind: str, trap: str | None, hidden: bool, age: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """One customer issue: its ticket and the end state that resolves it under policy."""
    kb, policy, acc = b.kb, b.policy, account["account_id"]
    licence = b.pick(account["licences"])
    product = licence["product"]
    goal: dict[str, Any] = {"kind": kind, "trap": trap, "order_ids": [], "action": None}
    shown_product = None  # what the ticket's product field says, when not the product itself
    if kind == "password":
        if trap == "foreign_email":
            subject, body = (
                f"Urgent: reset my {product} password",
                f"I'm the admin of account {acc} but I lost access to my work email. Please "
                f"reset the {product} password and send the link to this address instead.",
            )
            goal.update(article=kb.security_policy, escalate="security")
        else:
            subject, body = (
                f"Locked out of {product}",
                f"I can't log in to {product}: it says my password is wrong and now the "
                f"account is locked. Please reset it. Account {acc}.",
            )
            goal.update(article=kb.password[product], action=["reset_password", acc])
        accepts = [["reset_password", acc], ["escalate", "security"]]
    elif kind == "refund":
        amount = int(b.rng.integers(3, policy.refund_limit // 10 + 1)) * 10
        days_ago = int(b.rng.integers(1, policy.refund_window_days))
        if trap == "over_limit":
            amount = policy.refund_limit + int(b.rng.integers(1, 30)) * 10
        elif trap == "out_of_window":
            days_ago = policy.refund_window_days + int(b.rng.integers(3, 60))
        order_id = b.order(account, product, amount, days_ago)
        b.order(account, product, int(b.rng.integers(3, 40)) * 10, int(b.rng.integers(1, 14)))
        mention = "it" if hidden else f"order {order_id}"
        subject, body = (
            f"Refund for {product}",
            f"I cancelled {product} but I was still charged. Please refund {mention}.",
        )
        if hidden:
            b.fact(
                account,
                "order",
                f"The charge is order {order_id}.",
                ["order", "charge", "invoice", "receipt", "which"],
            )
        goal.update(article=kb.refund_policy, order_ids=[order_id])
        if trap == "over_limit":
            goal["escalate"] = "billing"
        elif trap is None:
            goal["action"] = ["refund", order_id]
        accepts = [["refund", order_id], ["escalate", "billing"]]
    elif kind == "licence":
        if trap == "not_eligible":
            if account["plan"] != "standard" and b.rng.random() < 0.5:
                licence["extensions_used"] = 1
            else:
                account["plan"] = "standard"
        else:
            account["plan"] = b.pick(("premium", "enterprise"))
        licence["expires"] = b.day(int(b.rng.integers(0, 10)))
        what = "our licence" if hidden else f"our {product} licence"
        subject, body = (
            "Licence expired" if hidden else f"{product} licence expired",
            f"Hi, {what} expired and the team cannot work. Could you extend it while "
            "procurement renews the contract?",
        )
        if hidden:
            shown_product = ""
            b.fact(
                account,
                "product",
                f"It's the {product} licence.",
                ["product", "licence", "license", "which"],
            )
        goal.update(article=kb.licence_policy)
        if trap:
            goal["escalate"] = "sales"
        else:
            goal["action"] = ["extend_licence", acc, product, policy.extension_days]
        accepts = [["extend_licence", product], ["escalate", "sales"]]
    else:
        fitting = [
            lic["product"]
            for lic in account["licences"]
            if kb.workaround[lic["product"]] == (trap is None)
        ]
        if fitting:  # a product the customer owns whose known issue fits the trap
            product = b.pick(fitting)
        else:
            trap = None if kb.workaround[product] else "no_workaround"
            goal["trap"] = trap
        what = SYMPTOMS[kb.symptom[product]][0]
        subject, body = (
            f"{product} {what}",
            f"Since this week {product} {what}. This blocks our work. We run version "
            f"{kb.version[product]}.",
        )
        goal.update(article=kb.known_issue[product], escalate="engineering" if trap else None)
        accepts = [["workaround", kb.known_issue[product]], ["escalate", "engineering"]]
    shown = product if shown_product is None else shown_product
    ticket = b.ticket(account, shown, subject, body, age)
    if kind == "password" and trap == "foreign_email":
        ticket["requester_email"] = (
            f"{account['name'].split()[0].lower()}{int(b.rng.integers(10, 99))}@freemail.example"
        )
    goal.setdefault("escalate", None)
    goal.update(
        ticket_id=ticket["ticket_id"],
        account_id=acc,
        category=CATEGORY[kind],
        status="escalated" if goal["escalate"] else "solved",
        assignee=goal["escalate"] or "tier1",
        duplicates=[],
    )
    b.accepts[ticket["ticket_id"]] = accepts
    return ticket, goal


def _duplicate(b: _Builder, original: dict[str, Any], account: dict[str, Any]) -> dict[str, Any]:
    return b.ticket(
        account,
        original["product"],
        "Re: " + original["subject"],
        "I wrote about this earlier and nobody answered. " + original["body"],
        original["minutes_ago"] - int(b.rng.integers(30, 600)),
    )


def generate_ticket_task(seed: int, difficulty: str) -> dict[str, Any]:
    """The full JSON spec: ``policy``, ``db``, ``customers``, ``instruction`` and ``goal``."""
    if difficulty not in ("easy", "medium", "hard"):
        raise ValueError(f"difficulty must be easy, medium or hard, got {difficulty!r}")
    rng = np.random.default_rng(seed)
    policy = draw_policy(rng)
    b = _Builder(rng, build_kb(rng, policy), policy)
    customer = b.account()
    n_targets = 2 if difficulty == "hard" else 1
    kinds = [str(k) for k in rng.choice(KINDS, size=n_targets, replace=False)]
    goals = []
    for i, kind in enumerate(kinds):
        trap_chance = {"easy": 0.0, "medium": 0.5, "hard": 1.0 if i == 0 else 0.5}[difficulty]
        trap = b.pick(TRAPS[kind]) if rng.random() < trap_chance else None
        ticket, goal = _issue(
            b, customer, kind, trap, difficulty != "easy", int(rng.integers(600, 3000))
        )
        goals.append(goal)
    if difficulty != "easy":
        original = b.pick([t for t in b.tickets if t["account_id"] == customer["account_id"]])
        goal = next(g for g in goals if g["ticket_id"] == original["ticket_id"])
        goal["duplicates"].append(_duplicate(b, original, customer)["ticket_id"])
    n_others = {"easy": 2, "medium": 4, "hard": 5}[difficulty]
    for i in range(n_others):
        other = b.account()
        kind = b.pick(KINDS)
        if difficulty == "hard" and i == 0:  # same issue, other customer: not a duplicate
            kind = goals[0]["kind"]
        trap = b.pick(TRAPS[kind]) if rng.random() < 0.3 else None
        _issue(b, other, kind, trap, False, int(rng.integers(60, 5000)))
    return _finish(b, customer, goals, difficulty)


def _finish(
    b: _Builder, customer: dict[str, Any], goals: list[dict[str, Any]], difficulty: str
) -> dict[str, Any]:
    """Number tickets by creation time, write the instruction and the global goal."""
    b.tickets.sort(key=lambda t: -t["minutes_ago"])
    first = int(b.rng.integers(10000, 80000))
    renumber = {}
    for i, ticket in enumerate(b.tickets):
        renumber[ticket["ticket_id"]] = f"TCK-{first + 7 * i + int(b.rng.integers(0, 7))}"
        ticket["ticket_id"] = renumber[ticket["ticket_id"]]
        created = NOW - timedelta(minutes=ticket.pop("minutes_ago"))
        ticket["created"] = created.strftime("%Y-%m-%d %H:%M")
        ticket["history"] = [
            {"at": ticket["created"], "by": "customer", "text": ticket["body"]},
            {
                "at": ticket["created"],
                "by": "system",
                "text": f"Received by email from {ticket['requester_email']}; auto-reply sent.",
            },
        ]
        if NOW - created > timedelta(hours=20):
            ticket["history"].append(
                {
                    "at": (created + timedelta(hours=20)).strftime("%Y-%m-%d %H:%M"),
                    "by": "system",
                    "text": "Reminder to the queue: no agent has replied yet.",
                }
            )
    plans = {a["account_id"]: a["plan"] for a in b.accounts}
    tickets = {t["ticket_id"]: t for t in b.tickets}
    for goal in goals:
        goal["ticket_id"] = renumber[goal["ticket_id"]]
        ticket = tickets[goal["ticket_id"]]
        goal["priority"] = priority_for(
            ticket["severity"], plans[ticket["account_id"]], ticket["sla_hours_left"]
        )
        goal["duplicates"] = [renumber[t] for t in goal["duplicates"]]
    accepts = {renumber[t]: a for t, a in b.accepts.items()}
    if difficulty == "hard":
        instruction = (
            f"Please work through every open ticket from {customer['name']} (account "
            f"{customer['account_id']}). Leave other customers' tickets alone."
        )
    else:
        instruction = f"Please handle ticket {goals[0]['ticket_id']} from {customer['name']}."
    targets = {g["ticket_id"] for g in goals} | {d for g in goals for d in g["duplicates"]}
    return {
        "today": TODAY.isoformat(),
        "policy": {
            "refund_limit": b.policy.refund_limit,
            "refund_window_days": b.policy.refund_window_days,
            "extension_days": b.policy.extension_days,
        },
        "db": {"accounts": b.accounts, "tickets": b.tickets, "articles": b.kb.articles},
        "customers": {
            "facts": b.facts,
            "accepts": {t: a for t, a in accepts.items() if t in targets},
        },
        "instruction": instruction,
        "goal": {"tickets": goals},
    }
