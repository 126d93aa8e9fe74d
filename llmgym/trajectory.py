"""Trajectory records: one played episode, token-faithful, as the trainer consumes it.

A ``Trajectory`` keeps the exact token ids the engine sampled with the sampler's logprobs,
the environment's messages tokenized as chat-template deltas between them, and one
``loss_mask`` (1 on sampled assistant tokens only) that every loss, KL and statistic uses.
``turns`` marks where each turn's prompt delta and completion lie in ``tokens``.
Trajectories are written and read as JSONL (one record a line).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


class TurnSpan(BaseModel):
    """Where one assistant turn lies in ``Trajectory.tokens`` (half-open index ranges).

    ``tokens[prompt_start:completion_start]`` is the context appended before the turn
    (the initial prompt for turn 0, the environment's messages as a template delta after),
    ``tokens[completion_start:completion_end]`` the tokens the engine sampled.
    """

    model_config = ConfigDict(frozen=True)

    prompt_start: int = Field(ge=0)
    completion_start: int = Field(ge=0)
    completion_end: int = Field(ge=0)
    finish_reason: str = "stop"
    """The engine's reason to stop: "stop" (eos/stop string), "length" (max tokens) or "abort"."""
    generate_s: float = 0.0
    """Seconds waited for the engine on this turn (queueing included)."""
    env_s: float = 0.0
    """Seconds spent in ``env.step`` after this turn."""
    invalid_action: bool = False
    """The environment rejected this turn's action (malformed or missing tool call)."""

    @model_validator(mode="after")
    def _ordered(self) -> TurnSpan:
        if not self.prompt_start <= self.completion_start <= self.completion_end:
            raise ValueError(
                "turn span must satisfy prompt_start <= completion_start <= completion_end, "
                f"got {self.prompt_start}, {self.completion_start}, {self.completion_end}"
            )
        return self


class Timings(BaseModel):
    """Wall-clock seconds spent on one episode."""

    model_config = ConfigDict(frozen=True)

    total_s: float = 0.0
    generate_s: float = 0.0
    env_s: float = 0.0


SUCCESS_REWARD = 1.0
"""An episode succeeded when its reward reached this (llmgym's rewards are 0 or 1)."""


def succeeded(reward: float, threshold: float = SUCCESS_REWARD) -> bool:
    """Whether an episode with ``reward`` counts as a success (one definition everywhere)."""
    return reward >= threshold


class Trajectory(BaseModel):
    """One episode: messages, token ids with mask and logprobs, reward and provenance."""

    model_config = ConfigDict(frozen=True)

    env_id: str
    """Registered id, e.g. ``"llmgym/TripBooking-v0"``."""
    env_version: str = ""
    """Version of the environment (and of its task data) that produced the episode."""
    task_id: str
    seed: int | None = None
    group_id: str | None = None
    """Episodes of one GRPO group (same task, same seed) share this id."""
    messages: list[dict[str, Any]] = Field(default_factory=list)
    """The whole conversation: environment messages and the assistant's decoded turns."""
    reward: float = 0.0
    reward_components: dict[str, float] = Field(default_factory=dict)
    terminated: bool = False
    truncated: bool = False
    termination_reason: str | None = None
    """The env's ``info["termination_reason"]``, or the collector's ("timeout", "error", ...)."""
    tokens: list[int] = Field(default_factory=list)
    loss_mask: list[int] = Field(default_factory=list)
    """1 on tokens the engine sampled, 0 on prompt, system, user and tool tokens."""
    logprobs: list[float | None] = Field(default_factory=list)
    """Sampler's logprob of each sampled token; ``None`` where ``loss_mask`` is 0."""
    turns: list[TurnSpan] = Field(default_factory=list)
    model_version: str | int | None = None
    """Weights version that generated this episode (the trainer's step), for staleness."""
    timings: Timings = Field(default_factory=Timings)
    error: str | None = None
    """Why the episode crashed (engine error, env exception, timeout); ``None`` if it did not."""
    metadata: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> Trajectory:
        n = len(self.tokens)
        if len(self.loss_mask) != n or len(self.logprobs) != n:
            raise ValueError(
                f"tokens, loss_mask and logprobs must have equal lengths, got {n}, "
                f"{len(self.loss_mask)}, {len(self.logprobs)}"
            )
        for i, (m, lp) in enumerate(zip(self.loss_mask, self.logprobs, strict=True)):
            if m not in (0, 1):
                raise ValueError(f"loss_mask[{i}] must be 0 or 1, got {m!r}")
            if (m == 1) != (lp is not None):
                raise ValueError(
                    f"logprobs[{i}] must be set exactly where loss_mask is 1 "
                    f"(mask {m}, logprob {lp!r})"
                )
        previous_end = 0
        for k, turn in enumerate(self.turns):
            if turn.prompt_start != previous_end or turn.completion_end > n:
                raise ValueError(
                    f"turns[{k}] = {turn} must start where the previous turn ended "
                    f"({previous_end}) and end within the {n} tokens"
                )
            previous_end = turn.completion_end
        return self

    @property
    def num_turns(self) -> int:
        return len(self.turns)

    @property
    def num_sampled_tokens(self) -> int:
        return sum(self.loss_mask)

    @property
    def invalid_actions(self) -> int:
        return sum(turn.invalid_action for turn in self.turns)

    @property
    def success(self) -> bool:
        """Whether the episode succeeded (``succeeded``)."""
        return succeeded(self.reward)

    @property
    def ok(self) -> bool:
        """The episode ran to an end the environment decided (no crash, no timeout)."""
        return self.error is None


def write_jsonl(path: str | Path, trajectories: Iterable[Trajectory], append: bool = False) -> int:
    """Write trajectories to ``path``, one JSON record a line; returns how many were written."""
    count = 0
    with open(path, "a" if append else "w", encoding="utf-8") as f:
        for trajectory in trajectories:
            f.write(trajectory.model_dump_json() + "\n")
            count += 1
    return count


def iter_jsonl(path: str | Path) -> Iterator[Trajectory]:
    """Yield the trajectories stored in ``path`` (blank lines skipped)."""
    with open(path, encoding="utf-8") as f:
        for line_number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                yield Trajectory.model_validate(json.loads(line))
            except (json.JSONDecodeError, ValueError) as exc:
                raise ValueError(f"{path}:{line_number}: not a valid trajectory: {exc}") from exc


def read_jsonl(path: str | Path) -> list[Trajectory]:
    """Load every trajectory stored in ``path``."""
    return list(iter_jsonl(path))
