"""The helpdesk's state and its read-only tools: the ticket queue, the knowledge base, accounts.

The world is built from a task spec (plain JSON); the tools that change it live in
``actions.py``. Every message the agent sends is recorded as a typed record (questions and
proposals to customers, structured replies, notes to teams) and ``state.py`` puts them all in
the canonical end state the verifier grades. Besides the state, the world remembers what the
agent looked at (the expert uses that to decide its next step; the verifier ignores it).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from llmgym.environments.ticket_close.notes import NoteVocabulary, vocabulary_for
from llmgym.environments.ticket_close.spec import Database, QuestionTopic, Resolution, TicketSpec
from llmgym.tools import ToolError, tool
from llmgym.users import Fact, ScriptedUser

QueueStatus = Literal["open", "pending", "escalated", "solved", "merged", "all"]
QUESTIONS = {
    "order": "Could you give me the id of the order your ticket is about?",
    "product": "Could you tell me the name of the product your ticket is about?",
}
"""The questions a customer can be asked (rendered from ``ask_customer``'s ``about``)."""
STOPWORDS = frozenset({"the", "and", "for", "with", "how", "what", "from", "about", "can"})


@dataclass
class Ticket:
    ticket_id: str
    account_id: str
    customer: str
    requester_email: str
    product: str
    subject: str
    body: str
    severity: str
    sla_hours_left: int
    created: str
    status: str
    category: str | None
    priority: str
    assignee: str | None
    linked_article: str | None
    merged_into: str | None
    history: list[dict[str, str]]
    """What happened on the ticket, oldest first: {"at", "by": "customer"|"system"|"agent"|"note", "text"}."""

    @property
    def replies(self) -> list[str]:
        """The agent's replies to the customer, oldest first."""
        return [h["text"] for h in self.history if h["by"] == "agent"]

    def log(self, by: str, text: str) -> None:
        self.history.append({"at": "now", "by": by, "text": text})

    def summary(self) -> dict[str, Any]:
        keys = ("ticket_id", "customer", "subject", "product", "severity", "status", "created")
        return {k: getattr(self, k) for k in keys}


@dataclass(frozen=True)
class ActionRecord:
    """One change the agent made to an account, and whether the customer had agreed to it."""

    kind: str  # "refund" | "reset_password" | "extend_licence"
    target: tuple[Any, ...]
    confirmed: bool


@dataclass(frozen=True)
class SentMessage:
    """Something the agent sent: a question to a customer, or a note to another team."""

    ticket_id: str
    kind: str  # "question" (text: its topic) | "escalation_note"
    text: str


@dataclass(frozen=True)
class Proposal:
    """A resolution proposed to the customer behind a ticket, and whether they accepted it."""

    ticket_id: str
    resolution: str
    reference: str
    accepted: bool


@dataclass(frozen=True)
class CustomerReply:
    """A structured reply: what the customer is told was done; ``text`` is rendered from it."""

    ticket_id: str
    outcome: str
    order_ids: tuple[str, ...]
    article_id: str
    text: str


@dataclass(frozen=True)
class Decision:
    """A step on a ticket that rests on what the ticket is about (a proposal, a reply, an
    escalation, a linked article), and what its customer had told by then (sorted topics)."""

    ticket_id: str
    kind: str  # "proposal" | "reply" | "escalation"
    customer_had_told: tuple[str, ...]


@dataclass
class HelpdeskWorld:
    """Tickets, articles and accounts, plus the scripted customers behind the tickets."""

    today: str
    tickets: dict[str, Ticket]
    accounts: dict[str, dict[str, Any]]
    articles: dict[str, dict[str, Any]]
    customers: dict[str, ScriptedUser]
    accepts: dict[str, list[list[str]]]
    initial_db: Database
    """The task's database as it was at the start (what a note may say is judged on it)."""
    confirmed: dict[tuple[str, str, str], int] = field(default_factory=dict)
    """(account, resolution, reference) the customer agreed to, with the turn they did."""
    turn: int = 0
    """The agent's current turn (``TicketCloseEnv.begin_turn``)."""
    actions: list[ActionRecord] = field(default_factory=list)
    escalations: list[tuple[str, str]] = field(default_factory=list)
    merges: list[tuple[str, str]] = field(default_factory=list)
    messages: list[SentMessage] = field(default_factory=list)
    proposals: list[Proposal] = field(default_factory=list)
    replies: list[CustomerReply] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    written: set[str] = field(default_factory=set)
    """Tickets whose fields the agent set (``set_ticket_fields``), even if set back later."""
    seen: set[str] = field(default_factory=set)
    """Ticket, article and account ids the agent has read, and searches it ran."""

    @classmethod
    def from_spec(cls, spec: TicketSpec) -> HelpdeskWorld:
        """The helpdesk at the start of ``spec``'s episode: the world's tickets, accounts and
        articles are its own mutable copies of the spec's (plain JSON data, as tools show)."""
        db, facts = spec.db, spec.customers.facts
        return cls(
            today=spec.today,
            tickets={t.ticket_id: Ticket(**t.model_dump(mode="json")) for t in db.tickets},
            accounts={a.account_id: a.model_dump(mode="json") for a in db.accounts},
            articles={a.article_id: a.model_dump(mode="json") for a in db.articles},
            customers={
                a.account_id: ScriptedUser(
                    name=a.name.split()[0],
                    facts=tuple(
                        Fact(f.topic, f.answer, f.keywords) for f in facts.get(a.account_id, ())
                    ),
                )
                for a in db.accounts
            },
            accepts={t: [list(x) for x in a] for t, a in spec.customers.accepts.items()},
            initial_db=db,
        )

    def ticket(self, ticket_id: str) -> Ticket:
        ticket = self.tickets.get(ticket_id.strip().upper())
        if ticket is None:
            raise ToolError(
                f"unknown ticket {ticket_id!r}; ticket ids look like TCK-12345 (see list_tickets)"
            )
        return ticket

    def account(self, account_id: str) -> dict[str, Any]:
        account = self.accounts.get(account_id.strip().upper())
        if account is None:
            raise ToolError(f"unknown account {account_id!r}; account ids look like ACC-1234")
        return account

    # --- read-only tools --------------------------------------------------------------------
    @tool
    def list_tickets(self, status: QueueStatus = "open") -> list[dict[str, Any]]:
        """List the queue's tickets with the given status (oldest first).

        Args:
            status: "open", "pending", "escalated", "solved", "merged", or "all".
        """
        return [t.summary() for t in self.tickets.values() if status in ("all", t.status)]

    @tool
    def search_tickets(self, query: str) -> list[dict[str, Any]]:
        """Find tickets whose customer, email, account, product, subject or text contain every word of the query.

        Args:
            query: words to look for, e.g. a customer's name or an account id.
        """
        words = query.lower().split()
        if not words:
            raise ToolError("query is empty; give a name, an account id or some words")
        self.seen.add(f"search-tickets:{query.lower()}")
        found = []
        for t in self.tickets.values():
            text = " ".join(
                (t.customer, t.requester_email, t.account_id, t.product, t.subject, t.body)
            ).lower()
            if all(w in text for w in words):
                found.append(t.summary())
        return found

    @tool
    def read_ticket(self, ticket_id: str) -> dict[str, Any]:
        """Show a ticket in full: requester, account, product, severity, SLA, fields and history.

        Args:
            ticket_id: the ticket, e.g. "TCK-12345".
        """
        ticket = self.ticket(ticket_id)
        self.seen.add(ticket.ticket_id)
        return asdict(ticket)

    @tool
    def search_articles(self, query: str) -> list[dict[str, Any]]:
        """Search the knowledge base by title and product; best matches first (at most 10).

        Args:
            query: a few keywords, e.g. "refund policy" or "password Atlas CRM".
        """
        words = [w for w in query.lower().split() if len(w) > 2 and w not in STOPWORDS]
        if not words:
            raise ToolError(f"query {query!r} has no keyword longer than two letters")
        self.seen.add(f"search-articles:{query.lower()}")
        scored = []
        for a in self.articles.values():
            text = f"{a['title']} {a['product']}".lower()
            score = sum(w in text for w in words)
            if score:
                scored.append((-score, a["article_id"], a))
        return [
            {k: a[k] for k in ("article_id", "title", "product", "updated")}
            for _, _, a in sorted(scored, key=lambda s: s[:2])[:10]
        ]

    @tool
    def read_article(self, article_id: str) -> dict[str, Any]:
        """Read a knowledge-base article in full.

        Args:
            article_id: the article, e.g. "KB-1234".
        """
        article = self.articles.get(article_id.strip().upper())
        if article is None:
            raise ToolError(f"unknown article {article_id!r}; find ids with search_articles")
        self.seen.add(article["article_id"])
        return {k: v for k, v in article.items() if k != "kind"}

    @tool
    def lookup_account(self, query: str) -> dict[str, Any]:
        """Show a customer account: plan, email on file, licences and orders.

        Args:
            query: an account id ("ACC-1234") or the account's email address.
        """
        key = query.strip()
        account = self.accounts.get(key.upper()) or next(
            (a for a in self.accounts.values() if a["email"] == key.lower()), None
        )
        if account is None:
            raise ToolError(f"no account with id or email {query!r}")
        self.seen.add(account["account_id"])
        return _copy(account)

    def note_vocabulary(self, ticket: Ticket) -> NoteVocabulary:
        """What a note about ``ticket`` may say (``notes.vocabulary_for``)."""
        return vocabulary_for(self.initial_db, ticket.account_id, self.today)

    def decide(self, ticket: Ticket, kind: str) -> None:
        """Record a step on ``ticket`` that rests on what it is about (see ``Decision``)."""
        told = self.customers[ticket.account_id].told_before(self.turn)
        self.decisions.append(Decision(ticket.ticket_id, kind, told))

    # --- talking to the customer ------------------------------------------------------------
    @tool
    def ask_customer(self, ticket_id: str, about: QuestionTopic) -> str:
        """Ask the customer behind a ticket what it leaves out; they answer what they know.

        Args:
            ticket_id: the ticket whose customer you ask.
            about: "order" (which order the ticket is about) or "product" (which product).
        """
        ticket = self.ticket(ticket_id)
        question = QUESTIONS[about]
        self.messages.append(SentMessage(ticket.ticket_id, "question", about))
        return self.customers[ticket.account_id].answer(question, self.turn)

    @tool
    def propose_resolution(self, ticket_id: str, resolution: Resolution, reference: str) -> str:
        """Propose a resolution to the customer behind a ticket; they accept or reject it.

        A proposal is a promise: propose only what policy lets you do, and do what was accepted.

        Args:
            ticket_id: the ticket the proposal is about.
            resolution: "refund", "reset_password", "extend_licence", "escalate" or "workaround".
            reference: what it applies to: the order id (refund), the account id
                (reset_password), the product name (extend_licence), the team (escalate) or
                the article id (workaround).
        """
        ticket = self.ticket(ticket_id)
        name, reference = ticket.customer.split()[0], reference.strip()
        accepted = [resolution, reference] in self.accepts.get(ticket.ticket_id, [])
        self.proposals.append(Proposal(ticket.ticket_id, resolution, reference, accepted))
        self.decide(ticket, "proposal")
        if accepted:
            self.confirmed.setdefault((ticket.account_id, resolution, reference), self.turn)
            return f"{name}: Yes, that works for me. Please go ahead."
        return f"{name}: No, that is not what I asked for in {ticket.ticket_id}."


def _copy(account: dict[str, Any]) -> dict[str, Any]:
    return {
        **account,
        "licences": [dict(x) for x in account["licences"]],
        "orders": [dict(x) for x in account["orders"]],
    }
