"""The GRPO composition root: from a ``GRPOConfig`` to a trained policy and its metrics.

``train_on_env`` builds everything a run needs once (the policy, the generation engine, the
rollout collector, the held-out evaluator) and hands them to ``loop.train``. The command
line (``cli.py``), the benches and scripts all go through it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from llmgym.engines.base import Engine, SamplingParams
from llmgym.rollout import RolloutConfig
from llmgym.seeds import mix_seed
from llmgym.trainers.grpo.config import GRPOConfig
from llmgym.trajectory import Trajectory

Evaluate = Callable[[int], Awaitable[dict[str, Any]]]


def make_engine(config: GRPOConfig, model_path: str) -> Engine:
    """The generation engine named by ``config.engine`` (auto: vLLM when importable)."""
    from llmgym.engines import create_engine

    return create_engine(
        config.engine, model_path,
        max_context=config.max_trajectory_tokens + 64, threads=config.torch_threads,
        seed=config.seed, **config.engine_options,
    )  # fmt: skip


def groups_of(trajs: list[Trajectory]) -> dict[str, list[Trajectory]]:
    """Trajectories by GRPO group (``group_id``, else the task), in order of appearance."""
    groups: dict[str, list[Trajectory]] = {}
    for t in trajs:
        groups.setdefault(t.group_id or t.task_id, []).append(t)
    return groups


def has_signal(group: list[Trajectory]) -> bool:
    """Whether a group's finished episodes got different rewards (so advantages are not 0)."""
    return len({t.reward for t in group if t.ok}) > 1


async def fill_groups_with_signal(
    trajs: list[Trajectory],
    draw: Callable[[int, int], Awaitable[list[Trajectory]]],
    wanted: int,
    budget: int,
) -> list[Trajectory]:
    """Dynamic sampling (DAPO): while fewer than ``wanted`` groups of ``trajs`` have reward
    variance and fewer than ``budget`` extra groups were drawn, ``draw(n, drawn)`` n more (the
    number missing). Returns every episode played: the update drops the groups without
    signal, so it trains on at most ``wanted`` groups, and the metrics count all episodes."""
    played, drawn = list(trajs), 0
    while drawn < budget:
        missing = wanted - sum(has_signal(g) for g in groups_of(played).values())
        if missing <= 0:
            break
        n = min(missing, budget - drawn)
        played += await draw(n, drawn)
        drawn += n
    return played


def rollout_config(
    config: GRPOConfig, *, greedy: bool = False, progress: bool = False
) -> RolloutConfig:
    """How the run plays episodes: sampled for training, greedy for held-out evaluation
    (``progress``: a bar per batch of episodes, labelled "eval" or "rollouts")."""
    if greedy:
        sampling = SamplingParams(max_tokens=config.max_new_tokens, temperature=0.0)
    else:
        sampling = SamplingParams(
            max_tokens=config.max_new_tokens, temperature=config.temperature,
            top_p=config.top_p, seed=config.seed,
        )  # fmt: skip
    return RolloutConfig(
        sampling=sampling, concurrency=config.concurrency,
        env_timeout_s=config.env_timeout_s, episode_timeout_s=config.episode_timeout_s,
        max_context_tokens=config.max_trajectory_tokens, env_kwargs=config.env_kwargs,
        progress=progress, progress_label="eval" if greedy else "rollouts",
    )  # fmt: skip


def held_out_evaluator(
    config: GRPOConfig,
    engine: Engine,
    tokenizer: Any,
    *,
    progress: bool = False,
    keep_trajectories: bool = False,
) -> Evaluate:
    """evaluate(step) -> {"success", "reward", "episodes", "successes", "failures"} on the first
    ``eval_episodes`` test tasks (filtered by ``env_options``' difficulty), greedy decoding;
    ``keep_trajectories`` adds the episodes themselves as "trajectories" (not JSON: for a
    caller that reads or grades them, not for the metrics)."""
    import gymnasium as gym

    import llmgym  # noqa: F401  (registers the ids)
    from llmgym.env import LLMEnv
    from llmgym.eval import failure_table
    from llmgym.rollout import EpisodeSpec, RolloutCollector

    with gym.make(config.env_id, **config.env_kwargs) as env:  # bad kwargs fail here, once
        if not isinstance(env.unwrapped, LLMEnv):
            raise TypeError(f"{config.env_id} is not an llmgym environment (an LLMEnv)")
        tasks = env.unwrapped.split_tasks("test")
        difficulty = config.env_options.get("difficulty")
        test_ids = [t.task_id for t in tasks if difficulty in (None, t.difficulty)]
    test_ids = test_ids[: config.eval_episodes]
    collector = RolloutCollector(
        engine, tokenizer, rollout_config(config, greedy=True, progress=progress)
    )

    async def evaluate(step: int) -> dict[str, Any]:
        trajs = await collector.collect(
            [EpisodeSpec(config.env_id, 0, {"task_id": t}) for t in test_ids]
        )
        successes = [int(t.success) for t in trajs]
        return {
            "success": sum(successes) / max(len(trajs), 1),
            "reward": sum(t.reward for t in trajs) / max(len(trajs), 1),
            "episodes": len(trajs),
            "successes": successes,
            "failures": failure_table(trajs),
        } | ({"trajectories": trajs} if keep_trajectories else {})

    return evaluate


async def evaluate_model(
    config: GRPOConfig, model: str | None, *, keep_trajectories: bool = False
) -> dict[str, Any]:
    """One greedy held-out evaluation of ``model`` (a folder; None: the default model) with
    ``config``'s engine and tasks, on an engine of its own; adds its wall time, ``eval_s``
    (``keep_trajectories``: see ``held_out_evaluator``)."""
    import time

    from transformers import AutoTokenizer

    from llmgym.models import resolve_model

    path = resolve_model(model)
    engine = make_engine(config, path)
    try:
        started = time.perf_counter()
        tokenizer = AutoTokenizer.from_pretrained(path)
        evaluate = held_out_evaluator(
            config, engine, tokenizer, keep_trajectories=keep_trajectories
        )
        return await evaluate(0) | {"eval_s": time.perf_counter() - started}
    finally:
        await engine.close()


async def train_on_env(
    config: GRPOConfig, *, resume: bool = False, progress: bool = False
) -> list[dict[str, Any]]:
    """GRPO on ``config.env_id`` with the collector, periodic held-out eval; returns metrics."""
    import torch
    from transformers import AutoTokenizer

    import llmgym  # noqa: F401  (registers the ids)
    from llmgym.engines.base import configure_cpu_threads
    from llmgym.models import resolve_model
    from llmgym.rollout import RolloutCollector, group_specs
    from llmgym.trainers.grpo.loop import train
    from llmgym.trainers.policy import load_policy

    configure_cpu_threads(config.torch_threads)
    torch.manual_seed(config.seed)
    model_path = resolve_model(config.model)
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    policy = load_policy(
        model_path, lora_rank=config.lora_rank, lora_alpha=config.lora_alpha,
        gradient_checkpointing=config.gradient_checkpointing,
        trainable_layers=config.trainable_layers,
    )  # fmt: skip
    engine = make_engine(config, model_path)
    collector = RolloutCollector(engine, tokenizer, rollout_config(config, progress=progress))
    evaluate = held_out_evaluator(config, engine, tokenizer, progress=progress)

    options = {"split": "train", **config.env_options}

    async def draw(seeds: list[int]):
        tasks = [(options, seed) for seed in seeds]
        return await collector.collect(group_specs(config.env_id, tasks, config.group_size))

    async def collect(step: int):
        first = step * config.groups_per_step
        trajs = await draw(
            [mix_seed(config.seed, 0, 0, first + g) for g in range(config.groups_per_step)]
        )
        if not config.resample_groups:
            return trajs

        async def more(n: int, drawn: int):  # a seed stream apart from the steps' own draws
            return await draw([mix_seed(config.seed, 1, step, drawn + k) for k in range(n)])

        return await fill_groups_with_signal(
            trajs, more, config.groups_per_step, config.resample_groups
        )

    bar = None
    if progress:
        from tqdm.auto import tqdm

        from llmgym.trainers.checkpoint import saved_step

        start = saved_step(Path(config.out) / "checkpoint") if resume else 0  # the loop's too
        bar = tqdm(total=config.steps, initial=start, desc="grpo", unit="step")

    def on_record(record: dict[str, Any]) -> None:
        if bar is not None:
            bar.update(1)
            bar.set_postfix(reward=f"{record['reward_mean']:.3f}", gen=f"{record['gen_s']:.0f}s",
                            train=f"{record['train_s']:.0f}s")  # fmt: skip

    try:
        return await train(
            config, policy, engine, collect, evaluate=evaluate, tokenizer=tokenizer,
            resume=resume, on_record=on_record,
        )  # fmt: skip
    finally:
        if bar is not None:
            bar.close()
        await engine.close()
