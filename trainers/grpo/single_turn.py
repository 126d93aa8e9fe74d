"""Single-turn group rollouts: prompt token ids -> G sampled completions -> scored trajectories.

The multi-turn environments go through ``llmgym.rollout``; this smaller collector serves
single-turn prompt/reward tasks (the TRL comparison, the loop's tests). It uses the same
``Engine`` protocol and emits the same ``Trajectory`` records, so the trainer cannot tell the
difference. Each episode gets its own sampling seed derived from (step, group, index), which
makes runs, and resumed runs, reproducible on engines that honour seeds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from llmgym.engines.base import Engine, SamplingParams
from llmgym.seeds import mix_seed
from llmgym.trajectory import Timings, Trajectory, TurnSpan

RewardFn = Callable[[list[int], list[int]], float]
"""reward(prompt_token_ids, completion_token_ids) -> float."""


@dataclass(frozen=True)
class PromptTask:
    """One single-turn task: its id and prompt token ids."""

    task_id: str
    prompt_token_ids: tuple[int, ...]


def episode_seed(base: int, step: int, group: int, index: int) -> int:
    """A distinct, reproducible sampling seed per episode."""
    return mix_seed(base, step, group, index)


async def collect_single_turn(
    engine: Engine,
    tasks: Sequence[PromptTask],
    reward_fn: RewardFn,
    *,
    group_size: int,
    params: SamplingParams,
    step: int,
    seed: int = 0,
) -> list[Trajectory]:
    """Play every task ``group_size`` times concurrently; one trajectory per completion."""

    async def one(group: int, task: PromptTask, index: int) -> Trajectory:
        start = time.perf_counter()
        sampling = replace(params, seed=episode_seed(seed, step, group, index))
        completion = await engine.generate(list(task.prompt_token_ids), sampling)
        elapsed = time.perf_counter() - start
        prompt, sampled = list(task.prompt_token_ids), list(completion.token_ids)
        return Trajectory(
            env_id="single-turn",
            task_id=task.task_id,
            seed=sampling.seed,
            group_id=f"{step}-{group}",
            reward=float(reward_fn(prompt, sampled)),
            terminated=completion.finish_reason == "stop",
            truncated=completion.finish_reason == "length",
            termination_reason=completion.finish_reason,
            tokens=prompt + sampled,
            loss_mask=[0] * len(prompt) + [1] * len(sampled),
            logprobs=[None] * len(prompt) + list(completion.logprobs),
            turns=[TurnSpan(prompt_start=0, completion_start=len(prompt),
                            completion_end=len(prompt) + len(sampled),
                            finish_reason=completion.finish_reason, generate_s=elapsed)],
            model_version=engine.model_version,
            timings=Timings(total_s=elapsed, generate_s=elapsed),
        )  # fmt: skip

    jobs = [
        one(g, task, i) for g, task in enumerate(tasks) for i in range(group_size)
    ]  # fmt: skip
    return list(await asyncio.gather(*jobs))
