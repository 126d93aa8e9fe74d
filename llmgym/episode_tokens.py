"""The growing token sequence of one episode (``EpisodeTokens``): what the rollout collector
builds turn by turn and SFT replays conversations through, so both train on one layout."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from llmgym.engines.base import Completion
from llmgym.trajectory import TurnSpan


@dataclass
class EpisodeTokens:
    """The growing token sequence of one episode, with its loss mask and logprobs."""

    tokens: list[int] = field(default_factory=list)
    loss_mask: list[int] = field(default_factory=list)
    logprobs: list[float | None] = field(default_factory=list)
    turns: list[TurnSpan] = field(default_factory=list)
    _prompt_start: int = 0

    def append_context(self, token_ids: Sequence[int]) -> None:
        """Append prompt/environment tokens (not sampled: mask 0)."""
        self.tokens.extend(token_ids)
        self.loss_mask.extend([0] * len(token_ids))
        self.logprobs.extend([None] * len(token_ids))

    def append_completion(self, completion: Completion, *, generate_s: float = 0.0) -> None:
        """Append the engine's sampled tokens (mask 1) and close the turn's span."""
        start = len(self.tokens)
        self.tokens.extend(completion.token_ids)
        self.loss_mask.extend([1] * len(completion.token_ids))
        self.logprobs.extend(completion.logprobs)
        self.turns.append(
            TurnSpan(
                prompt_start=self._prompt_start,
                completion_start=start,
                completion_end=len(self.tokens),
                finish_reason=completion.finish_reason,
                generate_s=generate_s,
            )
        )
        self._prompt_start = len(self.tokens)

    def annotate_last_turn(self, **fields: Any) -> None:
        """Record what the environment said about the last turn (env_s, invalid_action)."""
        self.turns[-1] = self.turns[-1].model_copy(update=fields)

    def prompt(self) -> list[int]:
        return list(self.tokens)
