"""The clipped policy-gradient loss and its variants (GRPO, DAPO, Dr. GRPO, GSPO) as one table.

Every variant is the same PPO-style clipped surrogate, ``-min(r * A, clip(r, 1-lo, 1+hi) * A)``,
with the ratio ``r`` taken against the sampler's logprobs (the engine that generated the tokens;
in async mode that also corrects for staleness). Variants differ only in three knobs, listed in
``LOSS_VARIANTS``: whether the ratio is per token or per sequence (GSPO), how token losses are
weighted into one scalar, and the default clip range.

Weights are computed from totals of the WHOLE batch (``BatchNormaliser``), never from the
micro-batch at hand, so summing micro-batch losses (or accumulating their gradients, or
all-reducing them across data-parallel ranks) gives exactly the whole-batch loss and gradient.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from llmgym.trainers.grpo.variants import Aggregation, LossVariant


@dataclass(frozen=True)
class BatchNormaliser:
    """Totals over the whole optimisation batch (all micro-batches, all ranks)."""

    num_sequences: int
    """Sequences with at least one loss token."""
    num_tokens: int
    """Loss tokens (mask == 1)."""
    max_tokens: int
    """Dr. GRPO's constant: the generation budget of one trajectory, in tokens."""

    @classmethod
    def from_mask(cls, mask: torch.Tensor, max_tokens: int) -> BatchNormaliser:
        """Totals of a (B, T) loss mask; sum them across ranks before use under DDP."""
        lengths = mask.sum(dim=-1)  # (B,)
        return cls(int((lengths > 0).sum()), int(lengths.sum()), max_tokens)


@dataclass(frozen=True)
class PolicyLossOutput:
    """The scalar loss and detached sums for metrics (divide by ``tokens`` for means)."""

    loss: torch.Tensor
    """Scalar to call ``backward()`` on; micro-batch losses add up to the batch loss."""
    tokens: float
    """Loss tokens in this micro-batch."""
    clipped_low: float
    """Loss tokens whose ratio hit the lower clip with a negative advantage."""
    clipped_high: float
    """Loss tokens whose ratio hit the upper clip with a positive advantage."""
    ratio_sum: float
    """Sum of the (token or sequence-broadcast) ratios over loss tokens."""
    ratio_max: float
    """Largest ratio over loss tokens."""
    kl_sum: float
    """Sum over loss tokens of the k3 estimate of KL(policy || reference); 0 without one."""


def token_weights(mask: torch.Tensor, norm: BatchNormaliser, aggregation: Aggregation):
    """(B, T) weight of each token's loss so that the weighted sum is the batch aggregate."""
    mask = mask.to(torch.float32)
    if aggregation == "token_mean":
        return mask / max(norm.num_tokens, 1)
    if aggregation == "constant":
        return mask / max(norm.num_sequences * norm.max_tokens, 1)
    lengths = mask.sum(dim=-1, keepdim=True).clamp(min=1)  # (B, 1)
    return mask / lengths / max(norm.num_sequences, 1)  # sequence_mean


def policy_loss(
    logprobs: torch.Tensor,
    old_logprobs: torch.Tensor,
    advantages: torch.Tensor,
    mask: torch.Tensor,
    norm: BatchNormaliser,
    variant: LossVariant,
    *,
    clip_low: float | None = None,
    clip_high: float | None = None,
    kl_beta: float = 0.0,
    ref_logprobs: torch.Tensor | None = None,
) -> PolicyLossOutput:
    """Clipped surrogate loss of one micro-batch.

    Args:
        logprobs: (B, T) current policy's logprob of each token (with grad).
        old_logprobs: (B, T) the sampler's logprob of each token (any value where mask is 0).
        advantages: (B,) one advantage per trajectory, broadcast to its tokens.
        mask: (B, T) 1 on sampled assistant tokens that train, 0 elsewhere.
        norm: whole-batch totals (``BatchNormaliser.from_mask`` on the full batch).
        variant: a row of ``LOSS_VARIANTS``.
        clip_low, clip_high: override the variant's clip range.
        kl_beta: weight of the KL penalty to ``ref_logprobs`` (0 disables it).
        ref_logprobs: (B, T) reference policy logprobs, needed when ``kl_beta > 0``.
    """
    lo = variant.clip_low if clip_low is None else clip_low
    hi = variant.clip_high if clip_high is None else clip_high
    mask = mask.to(logprobs.dtype)
    # Masked positions may hold garbage (e.g. NaN old logprobs on prompt tokens): zero them.
    log_ratio = torch.where(mask > 0, logprobs - old_logprobs, torch.zeros_like(logprobs))
    if variant.ratio_level == "sequence":
        lengths = mask.sum(dim=-1, keepdim=True).clamp(min=1)  # (B, 1)
        seq_log_ratio = (log_ratio * mask).sum(dim=-1, keepdim=True) / lengths  # (B, 1)
        log_ratio = seq_log_ratio.expand_as(logprobs)  # (B, T), GSPO: one ratio per sequence
    ratio = torch.exp(log_ratio)  # (B, T)
    adv = advantages.to(logprobs.dtype).unsqueeze(-1)  # (B, 1)
    unclipped = ratio * adv
    clipped = torch.clamp(ratio, 1.0 - lo, 1.0 + hi) * adv
    per_token = -torch.minimum(unclipped, clipped)  # (B, T)

    kl = torch.zeros_like(per_token)
    if kl_beta > 0:
        if ref_logprobs is None:
            raise ValueError("kl_beta > 0 needs ref_logprobs (the reference model's logprobs)")
        ref_log_ratio = torch.where(mask > 0, ref_logprobs - logprobs, torch.zeros_like(kl))
        kl = torch.exp(ref_log_ratio) - ref_log_ratio - 1.0  # k3 estimator, >= 0
        per_token = per_token + kl_beta * kl

    weights = token_weights(mask, norm, variant.aggregation)  # (B, T)
    loss = (per_token * weights).sum()
    with torch.no_grad():
        on = mask > 0
        ratios = ratio[on]
        return PolicyLossOutput(
            loss=loss,
            tokens=float(on.sum()),
            clipped_low=float(((ratio < 1.0 - lo) & (adv < 0) & on).sum()),
            clipped_high=float(((ratio > 1.0 + hi) & (adv > 0) & on).sum()),
            ratio_sum=float(ratios.sum()),
            ratio_max=float(ratios.max()) if ratios.numel() else 0.0,
            kl_sum=float(kl[on].sum()),
        )
