"""Scores of a set of trajectories: success rate, pass@k, turns, invalid actions, tokens/s,
and what the failures were (``failure_kind``).

The maths behind ``llmgym eval`` (whose command lives in ``llmgym.eval_cli``), usable on any
trajectories, e.g. those a training run wrote.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from llmgym.trajectory import SUCCESS_REWARD, Trajectory, succeeded


@dataclass(frozen=True)
class EvalSummary:
    """Scores of a set of trajectories."""

    episodes: int
    tasks: int
    success_rate: float
    """Fraction of episodes whose reward reached the success threshold."""
    mean_reward: float
    pass_at_k: dict[int, float]
    """Unbiased pass@k (Chen et al. 2021) over the samples of each task."""
    mean_turns: float
    invalid_action_rate: float
    """Invalid turns over all turns."""
    errors: int
    """Episodes that crashed or timed out."""
    generated_tokens: int
    wall_s: float
    failures: dict[str, int] = field(default_factory=dict)
    """Failed episodes by ``failure_kind``, most frequent first."""

    @property
    def tokens_per_s(self) -> float:
        return self.generated_tokens / self.wall_s if self.wall_s > 0 else 0.0

    def lines(self) -> list[str]:
        passes = ", ".join(f"pass@{k} {v:.3f}" for k, v in sorted(self.pass_at_k.items()))
        return [
            f"episodes            {self.episodes} ({self.tasks} tasks, {self.errors} errors)",
            f"success rate        {self.success_rate:.3f}  (mean reward {self.mean_reward:.3f})",
            f"pass@k              {passes}",
            f"mean turns          {self.mean_turns:.2f}",
            f"invalid-action rate {self.invalid_action_rate:.3f}",
            f"tokens/s            {self.tokens_per_s:.1f} ({self.generated_tokens} generated "
            f"in {self.wall_s:.1f} s)",
            *(f"failed: {n:3d} x {kind}" for kind, n in self.failures.items()),
        ]


def failure_kind(trajectory: Trajectory, success_threshold: float = SUCCESS_REWARD) -> str | None:
    """Why an episode failed, in a few words (None if it succeeded): it timed out, it
    crashed (with the exception's type), it never submitted (and why it ended), or it
    submitted an end state whose reward components below 1 are named (e.g. "submitted,
    wrong: flights, money")."""
    if succeeded(trajectory.reward, success_threshold):
        return None
    if not trajectory.ok:
        if trajectory.termination_reason == "timeout":  # the collector's two limits
            env = (trajectory.error or "").startswith("environment")
            return f"timed out ({'environment' if env else 'wall clock'})"
        # the collector records "ExceptionType: message"; the type groups alike crashes
        kind, colon, _ = (trajectory.error or "").partition(": ")
        return f"crashed ({kind})" if colon and kind.isidentifier() else "crashed"
    if trajectory.termination_reason != "submitted":
        return f"no submit ({trajectory.termination_reason or 'did not end'})"
    wrong = sorted(k for k, v in trajectory.reward_components.items() if v < 1.0)
    return "submitted, wrong: " + ", ".join(wrong) if wrong else "submitted, reward too low"


def failure_table(
    trajectories: Sequence[Trajectory], success_threshold: float = SUCCESS_REWARD
) -> dict[str, int]:
    """``failure_kind`` counts of the failed episodes, most frequent first."""
    kinds = (failure_kind(t, success_threshold) for t in trajectories)
    return dict(Counter(k for k in kinds if k is not None).most_common())


def pass_at_k(samples: int, correct: int, k: int) -> float:
    """Probability that at least one of k draws (without replacement) from ``samples``
    attempts, ``correct`` of them right, is right."""
    if samples - correct < k:
        return 1.0
    return 1.0 - math.comb(samples - correct, k) / math.comb(samples, k)


def summarize(
    trajectories: Sequence[Trajectory], wall_s: float, success_threshold: float = SUCCESS_REWARD
) -> EvalSummary:
    """Score trajectories; tasks are grouped by (task id, seed)."""
    by_task: dict[tuple[str, int | None], list[bool]] = defaultdict(list)
    for t in trajectories:
        by_task[(t.task_id, t.seed)].append(succeeded(t.reward, success_threshold))
    smallest = min((len(v) for v in by_task.values()), default=0)
    ks = sorted({1, smallest} - {0})
    turns = sum(t.num_turns for t in trajectories)
    n = max(len(trajectories), 1)
    return EvalSummary(
        episodes=len(trajectories),
        tasks=len(by_task),
        success_rate=sum(succeeded(t.reward, success_threshold) for t in trajectories) / n,
        mean_reward=sum(t.reward for t in trajectories) / n,
        pass_at_k={
            k: sum(pass_at_k(len(v), sum(v), k) for v in by_task.values()) / max(len(by_task), 1)
            for k in ks
        },
        mean_turns=turns / n,
        invalid_action_rate=sum(t.invalid_actions for t in trajectories) / max(turns, 1),
        errors=sum(not t.ok for t in trajectories),
        generated_tokens=sum(t.num_sampled_tokens for t in trajectories),
        wall_s=wall_s,
        failures=failure_table(trajectories, success_threshold),
    )
