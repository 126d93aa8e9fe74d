"""Deterministic scripted users: answer an agent's questions from a hidden profile.

No LLM in the loop (tau-bench's user simulator is its noisiest part): each hidden fact has
a topic and the keywords that ask for it; a question gets the facts whose keywords it
mentions, in profile order, and the user remembers what it has revealed and in which turn.
A question that matches nothing gets a fixed reply listing what the user can talk about.

What an agent *knew* when it took a step is what the user told in earlier turns
(``told_before``): an answer reaches the agent with the turn's observation, so a step written
in the same message as the question was written without it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Fact:
    """One thing the user knows and will tell when asked about it."""

    topic: str
    answer: str
    keywords: tuple[str, ...]


@dataclass
class ScriptedUser:
    """A user who answers questions from hidden facts, deterministically."""

    name: str
    facts: tuple[Fact, ...]
    told: dict[str, int] = field(default_factory=dict)
    """Each topic told so far, with the turn it was first told in."""

    @property
    def revealed(self) -> set[str]:
        """The topics told so far."""
        return set(self.told)

    def told_before(self, turn: int) -> tuple[str, ...]:
        """The topics told in turns before ``turn`` (sorted): what the agent could know."""
        return tuple(sorted(t for t, at in self.told.items() if at < turn))

    def answer(self, question: str, turn: int = 0) -> str:
        """The answer to ``question``, asked in ``turn``."""
        words = set(re.findall(r"[a-z0-9]+", question.lower()))
        text = question.lower()
        hits = [
            f
            for f in self.facts
            if any((k in words) if " " not in k else (k in text) for k in f.keywords)
        ]
        if not hits:
            topics = ", ".join(f.topic for f in self.facts) or "nothing more"
            return f"{self.name}: Sorry, I'm not sure what you're asking. I can tell you about: {topics}."
        for fact in hits:
            self.told.setdefault(fact.topic, turn)
        return f"{self.name}: " + " ".join(f.answer for f in hits)

    def knows(self, topic: str) -> bool:
        return any(f.topic == topic for f in self.facts)

    def question_for(self, topic: str) -> str:
        """A question that makes this user reveal ``topic`` (what a scripted expert asks)."""
        fact = next(f for f in self.facts if f.topic == topic)
        return f"Could you tell me your {fact.keywords[0]}?"
