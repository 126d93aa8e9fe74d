"""A scripted engine that plays an environment's expert: a real, deterministic policy.

``ExpertEngine`` answers each prompt with the tokens of the environment's
``expert_action()`` for that conversation. It recognises an episode by its first prompt
(the reset messages rendered by the chat template) and keeps a shadow copy of the
environment, stepped with the same actions, to know the expert's next move. A fixed
``latency_s`` per request stands in for a model's decode time, which makes it the engine
for collector tests and collector benchmarks; its trajectories are also SFT data.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym

from llmgym.chat import ChatFormat
from llmgym.engines.base import Completion, FinishReason, SamplingParams, Weights


@dataclass
class _Shadow:
    env: Any
    seen: tuple[int, ...]
    """The prompt plus the completion last returned; the next prompt extends it."""
    done: bool = False


class ExpertEngine:
    """Replays ``expert_action()`` of ``env_id`` for the episodes it is told about.

    Args:
        env_id: registered environment id.
        tokenizer: the tokenizer the collector uses (same chat template).
        episodes: the (reset options, seed) pairs the collector will play.
        latency_s: seconds each request waits before answering (simulated decoding).
        env_kwargs: passed to ``gym.make``, as the collector's.
    """

    _version = 0

    def __init__(
        self,
        env_id: str,
        tokenizer: Any,
        episodes: Iterable[tuple[dict[str, Any], int]],
        *,
        latency_s: float = 0.0,
        env_kwargs: dict[str, Any] | None = None,
        chat: ChatFormat | None = None,
    ) -> None:
        self.env_id = env_id
        self.chat = chat or ChatFormat(tokenizer)
        self.latency_s = latency_s
        self.env_kwargs = env_kwargs or {}
        self.requests = 0
        self._first_prompts: dict[tuple[int, ...], tuple[dict[str, Any], int]] = {}
        for options, seed in episodes:
            env = gym.make(env_id, **self.env_kwargs)
            obs, _ = env.reset(seed=seed, options=dict(options))
            self._first_prompts[tuple(self.chat.prompt_ids(obs))] = (dict(options), seed)
            env.close()
        self._shadows: list[_Shadow] = []

    async def generate(self, prompt_token_ids: list[int], params: SamplingParams) -> Completion:
        self.requests += 1
        if self.latency_s > 0:
            await asyncio.sleep(self.latency_s)
        prompt = tuple(prompt_token_ids)
        shadow = self._shadow_for(prompt)
        action = shadow.env.unwrapped.expert_action()
        token_ids = tuple(self.chat.encode(action)) + self.chat.eos_token_ids
        token_ids = token_ids[: params.max_tokens]
        ended = bool(token_ids) and token_ids[-1] in self.chat.eos_token_ids
        finish: FinishReason = "stop" if ended else "length"
        _, _, terminated, truncated, _ = shadow.env.step(action)
        shadow.seen, shadow.done = prompt + token_ids, terminated or truncated
        if shadow.done:
            shadow.env.close()
            self._shadows.remove(shadow)
        return Completion(token_ids, tuple(0.0 for _ in token_ids), finish, text=action)

    def _shadow_for(self, prompt: tuple[int, ...]) -> _Shadow:
        # Longest match: with repeated episodes (GRPO groups) several shadows share a
        # prefix, and each must continue its own conversation.
        matches = [
            s
            for s in self._shadows
            if len(prompt) > len(s.seen) and prompt[: len(s.seen)] == s.seen
        ]
        if matches:
            return max(matches, key=lambda s: len(s.seen))
        if prompt not in self._first_prompts:
            raise ValueError(
                f"ExpertEngine got a prompt of {len(prompt)} tokens that continues no known "
                "episode; pass every (options, seed) the collector plays as `episodes`"
            )
        options, seed = self._first_prompts[prompt]
        env = gym.make(self.env_id, **self.env_kwargs)
        env.reset(seed=seed, options=options)
        shadow = _Shadow(env=env, seen=())
        self._shadows.append(shadow)
        return shadow

    @property
    def model_version(self) -> int:
        return self._version

    async def load_weights(self, weights: Weights | str | Path, *, version: int) -> None:
        """A scripted policy has no weights: only the version is taken."""
        self._version = version

    async def close(self) -> None:
        for shadow in self._shadows:
            shadow.env.close()
        self._shadows.clear()
