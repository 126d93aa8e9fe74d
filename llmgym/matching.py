"""One-to-one matching of what a task asks for to what the agent made, for verifiers.

When a request asks for several similar things (two flights, three refunds), the verifier
must pair each requested item with a distinct created one; greedy pairing can fail where a
valid pairing exists. This is Kuhn's augmenting-path algorithm, fine for the handful of items
a task holds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

S = TypeVar("S")
I = TypeVar("I")  # noqa: E741


def max_matching(slots: Sequence[S], items: Sequence[I], fits: Callable[[I, S], bool]) -> int:
    """Size of a maximum one-to-one matching of slots to items under ``fits`` (tiny inputs)."""
    match: dict[int, int] = {}

    def augment(s: int, seen: set[int]) -> bool:
        for i, item in enumerate(items):
            if i not in seen and fits(item, slots[s]):
                seen.add(i)
                if i not in match or augment(match[i], seen):
                    match[i] = s
                    return True
        return False

    return sum(augment(s, set()) for s in range(len(slots)))
