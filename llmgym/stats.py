"""Statistics for held-out comparisons: success-rate intervals and the paired exact test.

Two policies evaluated on the same tasks are compared task by task (McNemar's exact test on
the tasks exactly one of them solved), which is far more sensitive than comparing two rates.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson score interval of ``successes`` out of ``n``."""
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True)
class PairedComparison:
    """``after`` against ``before`` on the same tasks."""

    gained: int
    """Tasks only ``after`` solved."""
    lost: int
    """Tasks only ``before`` solved."""
    p_value: float
    """Two-sided exact McNemar p-value (a binomial test on gained vs lost)."""


def mcnemar_exact(before: Sequence[int], after: Sequence[int]) -> PairedComparison:
    """Compare per-task successes (0/1, in the same task order) of two policies."""
    if len(before) != len(after):
        raise ValueError(
            f"paired results need the same tasks: {len(before)} before, {len(after)} after"
        )
    gained = sum(bool(a) and not b for b, a in zip(before, after, strict=True))
    lost = sum(bool(b) and not a for b, a in zip(before, after, strict=True))
    n = gained + lost
    tail = sum(math.comb(n, k) for k in range(min(gained, lost) + 1)) / 2**n if n else 1.0
    return PairedComparison(gained, lost, min(1.0, 2 * tail))
