"""The table of GRPO loss variants (GRPO, DAPO, Dr. GRPO, GSPO): plain data, no torch.

``losses.policy_loss`` reads a row; ``config.GRPOConfig`` validates names against the table
without importing torch, so ``llmgym --help`` stays fast.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Aggregation = Literal["sequence_mean", "token_mean", "constant"]


@dataclass(frozen=True)
class LossVariant:
    """One row of the variant table."""

    ratio_level: Literal["token", "sequence"]
    """'token': one ratio per token (PPO); 'sequence': the geometric-mean ratio (GSPO)."""
    aggregation: Aggregation
    """'sequence_mean': mean over tokens, then over sequences (GRPO); 'token_mean': mean over
    all tokens of the batch (DAPO); 'constant': sum / (sequences * max_tokens) (Dr. GRPO)."""
    clip_low: float
    """Default lower clip: ratios below 1 - clip_low stop pushing down."""
    clip_high: float
    """Default upper clip: ratios above 1 + clip_high stop pushing up (DAPO's clip-higher)."""
    scale_by_std: bool
    """Default advantage normalisation by the group std (Dr. GRPO: False)."""


LOSS_VARIANTS: dict[str, LossVariant] = {
    "grpo": LossVariant("token", "sequence_mean", 0.2, 0.2, scale_by_std=True),
    "dapo": LossVariant("token", "token_mean", 0.2, 0.28, scale_by_std=True),
    "dr_grpo": LossVariant("token", "constant", 0.2, 0.2, scale_by_std=False),
    "gspo": LossVariant("sequence", "sequence_mean", 3e-4, 4e-4, scale_by_std=True),
}
