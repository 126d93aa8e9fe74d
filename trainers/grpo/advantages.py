"""Group-relative advantages: the GRPO baseline, with or without std normalisation.

A group is G episodes of one task and seed. Each trajectory's advantage is its reward minus
the group mean, divided by the group std for GRPO (``scale_by_std=True``) or left unscaled for
Dr. GRPO. Groups whose rewards are all equal carry no learning signal (every advantage is 0) and
are flagged so the batch can drop them (DAPO's dynamic sampling): kept, they would still count
in token or sequence normalisers and dilute the update. "All equal" is decided exactly (the
group's max equals its min), never from a computed std: the mean of equal non-dyadic rewards
(0.1, 0.7) is not exactly that value, and the rounding residue gives a std of ~1e-17 that
``std > 0`` would take for signal (and ``/ (std + eps)`` would turn into ~1e-11 advantages).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class GroupAdvantages:
    """Per-trajectory advantages and which trajectories carry signal."""

    advantages: torch.Tensor
    """(N,) float: (R - group mean) [/ (group std + eps)]; 0 for zero-variance groups."""
    keep: torch.Tensor
    """(N,) bool: False for trajectories in a zero-variance group (when filtering is on)."""


def group_ids_to_index(group_ids: Sequence[Hashable]) -> torch.Tensor:
    """Map arbitrary group ids (strings, tuples) to dense int indices, in first-seen order."""
    index: dict[Hashable, int] = {}
    return torch.tensor([index.setdefault(g, len(index)) for g in group_ids], dtype=torch.long)


def group_advantages(
    rewards: torch.Tensor,
    group_index: torch.Tensor,
    *,
    scale_by_std: bool = True,
    filter_zero_variance: bool = True,
    eps: float = 1e-6,
) -> GroupAdvantages:
    """Advantages relative to each group's mean reward.

    Args:
        rewards: (N,) one scalar reward per trajectory.
        group_index: (N,) int group of each trajectory (see ``group_ids_to_index``).
        scale_by_std: divide by the group's std (GRPO); False gives Dr. GRPO.
        filter_zero_variance: mark trajectories of groups with identical rewards as not kept.
        eps: added to the std before dividing.

    The std is the unbiased sample std, as in TRL and verl. A group carries signal iff its
    rewards are not all equal (exact comparison of its max and min, see the module docstring);
    a group of one has no spread and is treated as zero-variance.
    """
    rewards = rewards.to(torch.float64)  # (N,)
    if rewards.ndim != 1 or group_index.shape != rewards.shape:
        raise ValueError(
            f"rewards and group_index must both be shape (N,), got {tuple(rewards.shape)} "
            f"and {tuple(group_index.shape)}"
        )
    num_groups = int(group_index.max()) + 1 if len(group_index) else 0
    counts = torch.bincount(group_index, minlength=num_groups).to(rewards.dtype)  # (G,)
    mean = torch.zeros(num_groups, dtype=rewards.dtype).index_add_(0, group_index, rewards)
    mean = mean / counts  # (G,)
    centred = rewards - mean[group_index]  # (N,)
    sq = torch.zeros(num_groups, dtype=rewards.dtype).index_add_(0, group_index, centred**2)
    std = (sq / (counts - 1).clamp(min=1)).sqrt()  # (G,)
    has_signal = group_spread(rewards, group_index, num_groups) > 0  # (G,) exact: max != min
    advantages = centred / (std[group_index] + eps) if scale_by_std else centred
    advantages = torch.where(has_signal[group_index], advantages, torch.zeros_like(advantages))
    keep = has_signal[group_index] if filter_zero_variance else torch.ones_like(centred).bool()
    return GroupAdvantages(advantages=advantages.to(torch.float32), keep=keep)


def group_spread(rewards: torch.Tensor, group_index: torch.Tensor, num_groups: int) -> torch.Tensor:
    """(G,) max - min of each group's rewards: exactly 0 iff the group's rewards are all equal.

    Max and min are exact (no arithmetic on the rewards), so equal rewards give exactly 0 in
    any dtype; this is the one zero-variance rule of the trainer.
    """
    high = torch.full((num_groups,), -math.inf, dtype=rewards.dtype)
    low = torch.full((num_groups,), math.inf, dtype=rewards.dtype)
    high = high.scatter_reduce(0, group_index, rewards, reduce="amax")  # (G,)
    low = low.scatter_reduce(0, group_index, rewards, reduce="amin")  # (G,)
    return high - low
