"""One GRPO update: trajectories -> padded batch -> micro-batched loss -> one optimizer step.

The loss normaliser comes from the whole batch (summed over data-parallel ranks), each
micro-batch's loss is backpropagated into the same gradients, and under torch.distributed the
gradients are all-reduced by SUM: the update is the same for any micro-batch size and any number
of ranks (tests/trainers/test_grpo_step.py checks both).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from llmgym.trainers.grpo.config import GRPOConfig
from llmgym.trainers.grpo.losses import BatchNormaliser, policy_loss
from llmgym.trainers.policy import SharedPrefix, backward_micro_batches, token_logprobs
from llmgym.trajectory import Trajectory


@dataclass(frozen=True)
class TrainBatch:
    """Right-padded tensors of the trajectories one rank trains on."""

    tokens: torch.Tensor
    """(B, T) long token ids, 0 after each sequence's end."""
    attention_mask: torch.Tensor
    """(B, T) 1 on real tokens."""
    loss_mask: torch.Tensor
    """(B, T) float, 1 on sampled tokens that train."""
    old_logprobs: torch.Tensor
    """(B, T) the sampler's logprobs (0 where loss_mask is 0)."""
    advantages: torch.Tensor
    """(B,) one advantage per trajectory."""

    def __len__(self) -> int:
        return self.tokens.shape[0]

    def select(self, rows: list[int]) -> TrainBatch:
        """These rows, trimmed to their longest sequence."""
        length = max(int(self.attention_mask[rows].sum(-1).max()), 1)
        return TrainBatch(
            self.tokens[rows, :length],
            self.attention_mask[rows, :length],
            self.loss_mask[rows, :length],
            self.old_logprobs[rows, :length],
            self.advantages[rows],
        )


def build_batch(
    trajectories: Sequence[Trajectory],
    advantages: torch.Tensor,
    *,
    max_length: int,
    mask_truncated: bool = False,
) -> TrainBatch:
    """Pad trajectories into a ``TrainBatch``; sequences longer than ``max_length`` are cut.

    With ``mask_truncated`` an episode the environment truncated (a budget ran out) keeps its
    advantage in the group baseline but contributes no loss tokens.
    """
    if len(trajectories) != len(advantages):
        raise ValueError(f"{len(trajectories)} trajectories but {len(advantages)} advantages")
    length = max([min(len(t.tokens), max_length) for t in trajectories] + [1])
    shape = (len(trajectories), length)
    tokens = torch.zeros(shape, dtype=torch.long)
    attention = torch.zeros(shape, dtype=torch.long)
    loss_mask = torch.zeros(shape, dtype=torch.float32)
    old = torch.zeros(shape, dtype=torch.float32)
    for i, traj in enumerate(trajectories):
        n = min(len(traj.tokens), max_length)
        tokens[i, :n] = torch.tensor(traj.tokens[:n])
        attention[i, :n] = 1
        if not (mask_truncated and traj.truncated):
            loss_mask[i, :n] = torch.tensor(traj.loss_mask[:n], dtype=torch.float32)
        old[i, :n] = torch.tensor([lp or 0.0 for lp in traj.logprobs[:n]])
    return TrainBatch(tokens, attention, loss_mask, old, advantages.to(torch.float32))


@dataclass(frozen=True)
class StepStats:
    """What one update did, aggregated over the whole batch (all ranks)."""

    loss: float
    grad_norm: float
    tokens: float
    """Loss tokens trained on."""
    clip_low_frac: float
    clip_high_frac: float
    ratio_mean: float
    ratio_max: float
    kl: float
    """Mean k3 KL to the reference over loss tokens (0 without one)."""
    entropy: float
    """Mean policy entropy over loss tokens (nats), at the sampling temperature."""
    train_s: float


def world_size() -> int:
    """Ranks in the default process group (1 without torch.distributed)."""
    dist = torch.distributed
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def all_reduce_sum(values: torch.Tensor) -> torch.Tensor:
    """Sum ``values`` over ranks in place (no-op on one process)."""
    if world_size() > 1:
        torch.distributed.all_reduce(values, op=torch.distributed.ReduceOp.SUM)
    return values


def train_step(
    model: Any,
    optimizer: torch.optim.Optimizer,
    batch: TrainBatch,
    config: GRPOConfig,
    ref_model: Any = None,
) -> StepStats:
    """Micro-batched forward/backward over ``batch`` then one clipped optimizer step."""
    start = time.perf_counter()
    lengths = batch.loss_mask.sum(-1)  # (B,)
    totals = all_reduce_sum(torch.tensor([float((lengths > 0).sum()), float(lengths.sum())]))
    norm = BatchNormaliser(int(totals[0]), int(totals[1]), config.max_trajectory_tokens)
    # loss, tokens, clipped_low, clipped_high, ratio_sum, kl_sum, entropy_sum
    sums = torch.zeros(7, dtype=torch.float64)
    ratio_max = torch.zeros(1)
    optimizer.zero_grad(set_to_none=True)

    def loss_of(rows: list[int], prefix: SharedPrefix | None) -> torch.Tensor:
        nonlocal sums, ratio_max
        mb = batch.select(rows)
        logprobs, entropy = token_logprobs(
            model, mb.tokens, mb.attention_mask, positions=mb.loss_mask > 0, with_entropy=True,
            autocast_dtype=config.autocast_dtype, prefix=prefix, temperature=config.temperature,
        )  # fmt: skip
        ref = None
        if config.kl_beta > 0:
            ref = reference_logprobs(
                model, ref_model, mb, config.autocast_dtype, temperature=config.temperature
            )
        out = policy_loss(
            logprobs, mb.old_logprobs, mb.advantages, mb.loss_mask, norm, config.variant,
            clip_low=config.clip_low, clip_high=config.clip_high,
            kl_beta=config.kl_beta, ref_logprobs=ref,
        )  # fmt: skip
        entropy_sum = 0.0 if entropy is None else float((entropy * mb.loss_mask).sum())
        sums += torch.tensor(
            [out.loss.item(), out.tokens, out.clipped_low, out.clipped_high, out.ratio_sum,
             out.kl_sum, entropy_sum], dtype=torch.float64,
        )  # fmt: skip
        ratio_max = torch.maximum(ratio_max, torch.tensor([out.ratio_max]))
        return out.loss

    backward_micro_batches(
        model, batch.tokens, batch.attention_mask, loss_of,
        micro_batch_size=config.micro_batch_size, share_prefix=config.share_prefix,
        autocast_dtype=config.autocast_dtype,
    )  # fmt: skip

    params = [p for p in model.parameters() if p.requires_grad]
    if world_size() > 1:
        for p in params:
            if p.grad is None:
                p.grad = torch.zeros_like(p)
            torch.distributed.all_reduce(p.grad, op=torch.distributed.ReduceOp.SUM)
        all_reduce_sum(sums)
        torch.distributed.all_reduce(ratio_max, op=torch.distributed.ReduceOp.MAX)
    grad_norm = torch.nn.utils.clip_grad_norm_(params, config.max_grad_norm)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    loss, tokens, clip_lo, clip_hi, ratio_sum, kl_sum, entropy_sum = sums.tolist()
    per_token = max(tokens, 1.0)
    return StepStats(
        loss=loss,
        grad_norm=float(grad_norm),
        tokens=tokens,
        clip_low_frac=clip_lo / per_token,
        clip_high_frac=clip_hi / per_token,
        ratio_mean=ratio_sum / per_token,
        ratio_max=float(ratio_max),
        kl=kl_sum / per_token,
        entropy=entropy_sum / per_token,
        train_s=time.perf_counter() - start,
    )


@torch.no_grad()
def reference_logprobs(
    model: Any, ref_model: Any, mb: TrainBatch, autocast_dtype=None, temperature: float = 1.0
):
    """Reference-policy logprobs: a frozen copy, or the LoRA model with its adapters off."""
    kwargs = {"positions": mb.loss_mask > 0, "autocast_dtype": autocast_dtype,
              "temperature": temperature}  # fmt: skip
    if ref_model is not None:
        return token_logprobs(ref_model, mb.tokens, mb.attention_mask, **kwargs)[0]
    if not hasattr(model, "disable_adapter"):
        raise ValueError("kl_beta > 0 with full fine-tuning needs ref_model (a frozen copy)")
    with model.disable_adapter():
        return token_logprobs(model, mb.tokens, mb.attention_mask, **kwargs)[0]
