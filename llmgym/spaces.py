"""Gymnasium spaces for chat environments: message-list observations and assistant actions."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from gymnasium.spaces import Space

ROLES = ("system", "user", "assistant", "tool")
_ALPHABET = list('abcdefghijklmnopqrstuvwxyz {}":,<>/_0123456789')


class ChatMessages(Space[list[dict[str, Any]]]):
    """A list of chat messages: dicts with a known ``role`` and string ``content``.

    Unlike ``spaces.Text`` it accepts any prose (any characters, any length up to
    ``max_chars`` per message), and it checks the structure that chat templates need.
    """

    def __init__(self, max_messages: int = 64, max_chars: int = 1_000_000, seed: int | None = None):
        super().__init__(shape=None, dtype=None, seed=seed)
        self.max_messages = max_messages
        self.max_chars = max_chars

    @property
    def is_np_flattenable(self) -> bool:
        return False

    def contains(self, x: Any) -> bool:
        if not isinstance(x, list) or len(x) > self.max_messages:
            return False
        for message in x:
            if not isinstance(message, Mapping) or message.get("role") not in ROLES:
                return False
            content = message.get("content")
            if not isinstance(content, str) or len(content) > self.max_chars:
                return False
            if not set(message) <= {"role", "content", "tool_call_id", "name", "tool_calls"}:
                return False
        return True

    def sample(self, mask: Any = None, probability: Any = None) -> list[dict[str, Any]]:
        n = int(self.np_random.integers(1, 4))
        return [
            {"role": str(self.np_random.choice(ROLES)), "content": _random_text(self.np_random, 40)}
            for _ in range(n)
        ]

    def __repr__(self) -> str:
        return f"ChatMessages(max_messages={self.max_messages}, max_chars={self.max_chars})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ChatMessages) and (self.max_messages, self.max_chars) == (
            other.max_messages,
            other.max_chars,
        )


class AssistantAction(Space[Any]):
    """The agent's turn: raw text (tool calls inside) or an OpenAI-style assistant message dict.

    ``contains`` checks the *type* only: malformed content is the environment's business
    (it answers with an error message), never an exception.
    """

    def __init__(self, tool_names: Sequence[str] = (), seed: int | None = None):
        super().__init__(shape=None, dtype=None, seed=seed)
        self.tool_names = tuple(tool_names)

    @property
    def is_np_flattenable(self) -> bool:
        return False

    def contains(self, x: Any) -> bool:
        if isinstance(x, str):
            return True
        return isinstance(x, Mapping) and x.get("role", "assistant") == "assistant"

    def sample(self, mask: Any = None, probability: Any = None) -> str:
        """A random turn: half the time a (probably wrong) tool call, else junk text."""
        rng = self.np_random
        if self.tool_names and rng.random() < 0.5:
            name = str(rng.choice(self.tool_names))
            args = {_random_text(rng, 6): _random_text(rng, 10)}
            return "<tool_call>" + json.dumps({"name": name, "arguments": args}) + "</tool_call>"
        return _random_text(rng, 60)

    def __repr__(self) -> str:
        return f"AssistantAction(tools={list(self.tool_names)})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AssistantAction) and self.tool_names == other.tool_names


def _random_text(rng: np.random.Generator, length: int) -> str:
    n = int(rng.integers(1, length + 1))
    return "".join(rng.choice(_ALPHABET, size=n))
