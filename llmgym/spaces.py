"""Gymnasium spaces for chat environments: message-list observations and assistant actions.

Gymnasium's vector and wrapper utilities dispatch on the space type (``create_shared_memory``,
``create_empty_array``, ``create_zero_array``...); the functions for these spaces are
registered at the bottom of this module, so ``gym.make_vec(..., vectorization_mode="async")``
and ``FrameStackObservation`` work with their default arguments.
"""

from __future__ import annotations

import json
import multiprocessing as mp
from collections.abc import Iterator, Mapping, Sequence
from types import ModuleType
from typing import Any

import numpy as np
from gymnasium.spaces import Space
from gymnasium.vector.utils import (
    create_empty_array,
    create_shared_memory,
    read_from_shared_memory,
    write_to_shared_memory,
)
from gymnasium.wrappers.utils import create_zero_array

ROLES = ("system", "user", "assistant", "tool")
_ALPHABET = list('abcdefghijklmnopqrstuvwxyz {}":,<>/_0123456789')


class ChatMessages(Space[list[dict[str, Any]]]):
    """A list of chat messages: dicts with a known ``role`` and string ``content``.

    Unlike ``spaces.Text`` it accepts any prose (any characters, any length up to
    ``max_chars`` per message), and it checks the structure that chat templates need.

    Args:
        max_messages: most messages in one observation.
        max_chars: longest ``content`` of one message.
        shared_memory_bytes: size of one environment's slot when an ``AsyncVectorEnv`` passes
            observations through shared memory (its default): an observation is written there
            as JSON, and one larger than this is an error that names the fix.
    """

    def __init__(
        self,
        max_messages: int = 64,
        max_chars: int = 1_000_000,
        seed: int | None = None,
        shared_memory_bytes: int = 1 << 20,
    ):
        super().__init__(shape=None, dtype=None, seed=seed)
        self.max_messages = max_messages
        self.max_chars = max_chars
        self.shared_memory_bytes = shared_memory_bytes

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
        return isinstance(other, ChatMessages) and (
            self.max_messages,
            self.max_chars,
            self.shared_memory_bytes,
        ) == (other.max_messages, other.max_chars, other.shared_memory_bytes)


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


# --- Gymnasium's vector / wrapper hooks ------------------------------------------------------
# An observation has no fixed shape, so shared memory holds, per environment, a fixed slot:
# an 8-byte length then the observation as ASCII JSON (``json.dumps`` escapes everything else,
# lone surrogates included, so the round trip is exact).
_HEADER = 8


@create_empty_array.register(ChatMessages)
def _empty_chat_messages(space: ChatMessages, n: int = 1, fn: Any = np.zeros) -> tuple[Any, ...]:
    return tuple([] for _ in range(n))


@create_zero_array.register(ChatMessages)
def _zero_chat_messages(space: ChatMessages) -> list[dict[str, Any]]:  # type: ignore[misc]
    return []  # no message: a valid element of the space


@create_shared_memory.register(ChatMessages)
def _chat_shared_memory(space: ChatMessages, n: int = 1, ctx: ModuleType = mp) -> Any:
    return ctx.Array("B", n * (_HEADER + space.shared_memory_bytes), lock=False)


@write_to_shared_memory.register(ChatMessages)
def _write_chat_messages(
    space: ChatMessages, index: int, value: list[dict[str, Any]], shared_memory: Any
) -> None:
    data = json.dumps(value).encode("ascii")
    if len(data) > space.shared_memory_bytes:
        raise ValueError(
            f"an observation of {len(data)} bytes (as JSON) does not fit the shared-memory slot "
            f"of {space.shared_memory_bytes} bytes: make the environment's observation_space "
            "ChatMessages(shared_memory_bytes=...) larger, or pass "
            "vector_kwargs={'shared_memory': False} to gym.make_vec"
        )
    slot = _HEADER + space.shared_memory_bytes
    buffer = memoryview(shared_memory).cast("B")
    start = index * slot
    buffer[start : start + _HEADER] = len(data).to_bytes(_HEADER, "little")
    buffer[start + _HEADER : start + _HEADER + len(data)] = data


@read_from_shared_memory.register(ChatMessages)
def _read_chat_messages(space: ChatMessages, shared_memory: Any, n: int = 1) -> SharedChatBatch:
    return SharedChatBatch(space, shared_memory, n)


class SharedChatBatch(Sequence[list[dict[str, Any]]]):
    """A live view of ``n`` environments' observations in shared memory (decoded on access).

    ``AsyncVectorEnv`` reads its shared memory once, at construction, and hands out that
    object after every step, so the view must decode the current content each time;
    ``deepcopy`` (what the vector env does with ``copy=True``, its default) gives a plain tuple.
    """

    def __init__(self, space: ChatMessages, shared_memory: Any, n: int):
        self._space = space
        self._memory = shared_memory
        self._n = n

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(self._n)))
        if not -self._n <= index < self._n:
            raise IndexError(f"environment index {index} out of range for {self._n} envs")
        slot = _HEADER + self._space.shared_memory_bytes
        start = (index % self._n) * slot
        buffer = memoryview(self._memory).cast("B")
        size = int.from_bytes(buffer[start : start + _HEADER], "little")
        return json.loads(bytes(buffer[start + _HEADER : start + _HEADER + size]) or b"[]")

    def __iter__(self) -> Iterator[list[dict[str, Any]]]:
        return (self[i] for i in range(self._n))

    def __deepcopy__(self, memo: dict[int, Any]) -> tuple[list[dict[str, Any]], ...]:
        return tuple(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and tuple(self) == tuple(other)

    def __repr__(self) -> str:
        return f"SharedChatBatch({list(self)!r})"
