"""One way to derive a seed from several integers (a run's seed, a step, a group, an index).

Sampling seeds per episode and turn, train-task seeds per step and group, single-turn
episode seeds: each is ``mix_seed(a, b, c, d)``, in ``[0, 2**31)`` (numpy's and vLLM's range,
and that of llmgym's train seeds), so the formulas cannot drift apart.
"""

from __future__ import annotations

SEED_MODULUS = 2**31
WEIGHTS = (1_000_003, 10_007, 101, 1)


def mix_seed(a: int, b: int = 0, c: int = 0, d: int = 0) -> int:
    """``(a * 1_000_003 + b * 10_007 + c * 101 + d) % 2**31``: distinct for distinct small
    inputs, reproducible, and always a valid seed."""
    return sum(w * x for w, x in zip(WEIGHTS, (a, b, c, d), strict=True)) % SEED_MODULUS
