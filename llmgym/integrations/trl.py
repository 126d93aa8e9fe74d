"""Train on llmgym environments with TRL's ``GRPOTrainer`` (TRL 1.16).

TRL 1.16 offers three hooks, and this module builds on two of them:

- ``train_dataset`` rows with a ``prompt`` column; the other columns reach every reward
  function as keyword arguments. ``build_dataset`` makes one row per task: the env's reset
  messages as the prompt, with ``env_id``, ``task_id`` and ``seed`` columns.
- ``rollout_func(prompts, trainer) -> {"prompt_ids", "completion_ids", "logprobs", ...}``
  (experimental in TRL): ``EpisodeRollout`` plays whole multi-turn episodes with llmgym's
  collector on the trainer's live policy, and returns the first prompt's tokens, everything
  after it (sampled turns and the environment's messages as chat-template deltas, exactly
  as sampled, never re-tokenized) and an ``env_mask`` that TRL uses as the loss mask, so
  tool and user tokens get no gradient. Extra keys (``env_reward``, ...) reach the rewards.
- ``reward_funcs``: ``episode_reward`` passes the rollout's verifier reward to TRL;
  ``ReplayReward`` grades single-turn completions (no rollout function) by replaying each
  one as one action in a fresh env and, if the episode goes on, submitting.

TRL's third hook, ``environment_factory``, exposes an object's methods as tools through the
chat template and parses tool calls with the tokenizer's response schema; llmgym envs own
their own action format and step semantics, so the rollout hook is the faithful one.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import gymnasium as gym

from llmgym.engines.base import SamplingParams, fast_dtype
from llmgym.env import LLMEnv
from llmgym.parsing import format_tool_call
from llmgym.rollout import EpisodeSpec, RolloutCollector, RolloutConfig
from llmgym.trajectory import Trajectory

logger = logging.getLogger(__name__)

TRL_VERSION = "1.16.0"
_INSTALL_HINT = f"pip install trl=={TRL_VERSION}"


def require_trl() -> Any:
    """Import and return ``trl``, or say how to install it."""
    try:
        import trl
    except ImportError as exc:
        raise ImportError(
            f"llmgym.integrations.trl needs TRL, which is not installed ({exc}); "
            f"install it with `{_INSTALL_HINT}`"
        ) from exc
    return trl


@dataclass(frozen=True)
class TaskRow:
    """One dataset row: the env's first observation for one task and seed."""

    env_id: str
    task_id: str
    seed: int
    prompt: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "prompt": self.prompt,
            "env_id": self.env_id,
            "task_id": self.task_id,
            "seed": self.seed,
        }


def task_rows(
    env_id: str,
    split: str = "train",
    *,
    num_tasks: int | None = None,
    task_ids: Sequence[str] | None = None,
    seed: int = 0,
    options: dict[str, Any] | None = None,
) -> list[TaskRow]:
    """Reset ``env_id`` once per task and keep its first observation.

    Args:
        env_id: a registered id, e.g. ``"llmgym/TripBooking-v0"``.
        split: ``"train"`` (procedural tasks, one per seed ``seed, seed + 1, ...``) or
            ``"test"`` (the fixed held-out split, in order).
        num_tasks: how many rows; required for ``"train"``, default all for ``"test"``.
        task_ids: explicit task ids instead of ``split`` (each reset with seed ``seed + i``).
        seed: first reset seed.
        options: extra reset options for the train split (e.g. ``{"difficulty": "easy"}``).
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    rows = []
    with gym.make(env_id) as env:
        if task_ids is None and split == "test":
            task_ids = cast(LLMEnv, env.unwrapped).task_ids("test")[:num_tasks]
        if task_ids is not None:
            resets = [({"task_id": t}, seed + i) for i, t in enumerate(task_ids)]
        elif num_tasks is None or num_tasks < 1:
            raise ValueError(
                f"num_tasks must be a positive int for the train split, got {num_tasks!r}"
            )
        else:
            base = {**(options or {}), "split": "train"}
            resets = [(base, seed + i) for i in range(num_tasks)]
        for reset_options, reset_seed in resets:
            obs, info = env.reset(seed=reset_seed, options=dict(reset_options))
            rows.append(TaskRow(env_id, str(info["task_id"]), reset_seed, [dict(m) for m in obs]))
    return rows


def build_dataset(env_id: str, split: str = "train", **kwargs: Any) -> Any:
    """A ``datasets.Dataset`` of ``task_rows(env_id, split, **kwargs)`` for ``GRPOTrainer``.

    Columns: ``prompt`` (the reset messages, conversational format), ``env_id``,
    ``task_id`` and ``seed``.
    """
    try:
        from datasets import Dataset
    except ImportError as exc:
        raise ImportError(
            f"build_dataset needs `datasets` (installed with TRL: `{_INSTALL_HINT}`)"
        ) from exc
    return Dataset.from_list([row.as_dict() for row in task_rows(env_id, split, **kwargs)])


def prompt_key(prompt: Sequence[dict[str, Any]]) -> str:
    """A stable key of a conversational prompt (role and content of each message)."""
    return json.dumps([[m.get("role"), m.get("content")] for m in prompt], ensure_ascii=False)


def episode_reward(
    completions: list[Any], env_reward: list[float] | None = None, **_: Any
) -> list[float]:
    """TRL reward function: the environment's verifier reward of each rollout episode.

    Use with ``EpisodeRollout``, which returns ``env_reward`` for every completion.
    """
    if env_reward is None:
        raise ValueError(
            "episode_reward got no `env_reward`: it scores episodes played by "
            "EpisodeRollout; pass rollout_func=EpisodeRollout(...) to GRPOTrainer, or use "
            "ReplayReward for single-turn completions"
        )
    return [float(r) for r in env_reward]


class ReplayReward:
    """TRL reward function for single-turn completions, graded by the env's verifier.

    Each completion is played as the first action of a fresh episode of its row's task
    (``task_id`` and ``seed`` columns); if the episode is still running afterwards and
    ``submit_unfinished`` is set, ``submit`` is called so the verifier grades the end state.
    """

    def __init__(self, env_id: str, *, submit_unfinished: bool = True) -> None:
        self.env_id = env_id
        self.submit_unfinished = submit_unfinished
        self.__name__ = f"replay_reward[{env_id}]"  # TRL logs rewards under the function name

    def __call__(
        self, completions: list[Any], task_id: list[str], seed: list[int], **_: Any
    ) -> list[float]:
        return [
            self.grade(_completion_text(c), t, int(s))
            for c, t, s in zip(completions, task_id, seed, strict=True)
        ]

    def grade(self, action: str, task_id: str, seed: int) -> float:
        """Reward of playing ``action`` (then ``submit``) on ``task_id``."""
        with gym.make(self.env_id) as env:
            env.reset(seed=seed, options={"task_id": task_id})
            _, reward, terminated, truncated, _ = env.step(action)
            total = float(reward)
            if not (terminated or truncated) and self.submit_unfinished:
                _, reward, _, _, _ = env.step(format_tool_call("submit"))
                total += float(reward)
        return total


def slow_precision(bf16: bool, device_type: str) -> str | None:
    """Why TRL's precision will be slow on this device, or None when it is not.

    ``GRPOConfig`` defaults to ``bf16=True``: autocast of every matmul to bfloat16. A CPU
    without bfloat16 instructions (AVX2 only) runs those through a scalar fallback; on this
    project's 2-core machine a TRL step took 141 s instead of 13 s (``bench/bench_trl.py``).
    """
    if bf16 and device_type == "cpu" and fast_dtype("cpu") != "bfloat16":
        return (
            "TRL's bf16=True on a CPU without bfloat16 instructions runs every matmul through "
            "a slow fallback (about 10x slower a step, measured: bench/bench_trl.py); pass "
            "GRPOConfig(bf16=False) to train in float32"
        )
    return None


def _completion_text(completion: Any) -> str:
    if isinstance(completion, str):
        return completion
    return str(completion[-1]["content"])  # conversational: [{"role": "assistant", ...}]


@dataclass(frozen=True)
class RolloutOptions:
    """How ``EpisodeRollout`` plays episodes (the rest comes from the trainer's args)."""

    max_episode_tokens: int = 4096
    """Prompt plus all turns; past it an episode is truncated ("context_limit")."""
    max_turn_tokens: int | None = None
    """New tokens per turn; default the trainer's ``max_completion_length``."""
    concurrency: int = 64
    env_timeout_s: float | None = 600.0
    """Time one episode's environment calls may take in all (``RolloutConfig``)."""
    episode_timeout_s: float | None = None
    """Wall-clock limit of an episode, generation included; off unless set (it grows with
    the load on the engine, not with anything the episode did)."""
    max_batch_size: int = 32
    """Most turns decoded together by the transformers engine."""
    env_kwargs: dict[str, Any] = field(default_factory=dict)


class EpisodeRollout:
    """TRL ``rollout_func`` that plays multi-turn llmgym episodes on the trainer's policy.

    Generation uses llmgym's transformers engine on ``trainer.model`` itself (no weight
    sync, no copy); with TRL's vLLM server/colocate modes this function does not use vLLM.

    Args:
        dataset: rows from ``build_dataset`` (or any rows with ``prompt``, ``env_id``,
            ``task_id`` and ``seed``): TRL hands the rollout only the prompts, so each
            prompt is mapped back to its task through this table.
        options: see ``RolloutOptions``.

    Example::

        dataset = build_dataset("llmgym/TripBooking-v0", "train", num_tasks=64)
        trainer = GRPOTrainer(
            model=path, args=GRPOConfig(num_generations=4, max_completion_length=96,
                                        bf16=fast_dtype() == "bfloat16", ...),
            train_dataset=dataset, reward_funcs=episode_reward,
            rollout_func=EpisodeRollout(dataset, RolloutOptions(max_episode_tokens=2048)),
        )
    """

    def __init__(self, dataset: Iterable[dict[str, Any]], options: RolloutOptions | None = None):
        self.options = options or RolloutOptions()
        self.tasks: dict[str, tuple[str, str, int]] = {}
        for row in dataset:
            key, task = prompt_key(row["prompt"]), (row["env_id"], row["task_id"], int(row["seed"]))
            if self.tasks.setdefault(key, task) != task:
                raise ValueError(
                    f"two dataset rows share one prompt but differ in task: {self.tasks[key]} "
                    f"and {task}; keep one row per prompt (the rollout cannot tell them apart)"
                )
        self.__name__ = "llmgym_episode_rollout"
        self.last_trajectories: list[Trajectory] = []
        """The episodes of the latest call (for logging and tests)."""
        self._precision_checked = False  # warned about TRL's bf16 default, once

    def specs(self, prompts: Sequence[Sequence[dict[str, Any]]]) -> list[EpisodeSpec]:
        """One episode per prompt; repeats of a prompt (TRL's group) get distinct indexes."""
        specs: list[EpisodeSpec] = []
        seen: dict[str, int] = {}
        for prompt in prompts:
            key = prompt_key(prompt)
            if key not in self.tasks:
                raise KeyError(
                    f"prompt not in the rollout's dataset (first message {str(prompt[0])[:80]!r}); "
                    "build EpisodeRollout from the same dataset passed to GRPOTrainer"
                )
            env_id, task_id, seed = self.tasks[key]
            index = seen[key] = seen.get(key, -1) + 1
            specs.append(
                EpisodeSpec(env_id, seed, {"task_id": task_id}, f"{task_id}-s{seed}", index)
            )
        return specs

    def __call__(self, prompts: list[Any], trainer: Any) -> dict[str, Any]:
        import torch

        from llmgym.engines.hf_engine import HFEngine

        args, tokenizer = trainer.args, trainer.processing_class
        model = trainer.accelerator.unwrap_model(trainer.model)
        if not self._precision_checked:
            self._precision_checked = True
            advice = slow_precision(bool(getattr(args, "bf16", False)), model.device.type)
            if advice:
                logger.warning(advice)
        was_training = model.training
        top_k = getattr(args, "top_k", None) or 0
        sampling = SamplingParams(
            max_tokens=self.options.max_turn_tokens or args.max_completion_length,
            temperature=args.temperature,
            top_p=args.top_p,
            top_k=top_k,
        )
        config = RolloutConfig(
            sampling=sampling,
            concurrency=self.options.concurrency,
            env_timeout_s=self.options.env_timeout_s,
            episode_timeout_s=self.options.episode_timeout_s,
            max_context_tokens=self.options.max_episode_tokens,
            env_kwargs=self.options.env_kwargs,
        )
        engine = HFEngine(
            model,
            tokenizer,
            max_batch_size=self.options.max_batch_size,
            num_threads=torch.get_num_threads(),
        )

        async def play() -> list[Trajectory]:
            try:
                return await RolloutCollector(engine, tokenizer, config).collect(
                    self.specs(prompts)
                )
            finally:
                await engine.close()

        try:
            trajectories = asyncio.run(play())
        finally:
            model.train(was_training)
        self.last_trajectories = trajectories
        failed = [t for t in trajectories if not t.ok]
        if failed:
            logger.warning(
                "%d of %d episodes failed, first: %s",
                len(failed),
                len(trajectories),
                failed[0].error,
            )
        pad = (
            tokenizer.eos_token_id if tokenizer.eos_token_id is not None else tokenizer.pad_token_id
        )
        return trl_rollout_fields(trajectories, pad_token_id=pad)


def trl_rollout_fields(trajectories: Sequence[Trajectory], *, pad_token_id: int) -> dict[str, Any]:
    """The ``rollout_func`` output TRL 1.16 wants, one entry per trajectory.

    ``prompt_ids`` are the tokens before the first sampled turn; ``completion_ids`` all
    tokens after it; ``env_mask`` the trajectory's loss mask over them (TRL multiplies it
    into its loss mask); ``logprobs`` the sampler's, 0.0 where the mask is 0. An episode
    that crashed before its first turn gets one masked ``pad_token_id`` as its completion
    (TRL rejects empty completions) and reward 0.
    """
    out: dict[str, list[Any]] = {
        key: [] for key in ("prompt_ids", "completion_ids", "logprobs", "env_mask", "env_reward")
    }
    out.update(num_turns=[], termination_reason=[])
    for t in trajectories:
        start = t.turns[0].completion_start if t.turns else len(t.tokens)
        completion = t.tokens[start:]
        mask = t.loss_mask[start:]
        logprobs = [lp if lp is not None else 0.0 for lp in t.logprobs[start:]]
        if not completion:
            completion, mask, logprobs = [pad_token_id], [0], [0.0]
        out["prompt_ids"].append(t.tokens[:start])
        out["completion_ids"].append(completion)
        out["logprobs"].append(logprobs)
        out["env_mask"].append(mask)
        out["env_reward"].append(t.reward if t.ok else 0.0)
        out["num_turns"].append(t.num_turns)
        out["termination_reason"].append(t.termination_reason or "")
    return out
