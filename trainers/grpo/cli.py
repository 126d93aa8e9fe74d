"""``llmgym train``: GRPO on a bundled environment, from a YAML config and/or flags.

Every ``GRPOConfig`` field is also a flag (``--group-size 8``, ``--no-filter-zero-variance``),
documented by the field's docstring; flags override the YAML file. The environment episodes
are played by ``llmgym.rollout.RolloutCollector``; held-out evaluation plays the test split
greedily.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import types
import typing
from typing import Any

logger = logging.getLogger(__name__)

ALIASES = {"env_id": ["--env"]}


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``llmgym train`` with one flag per config field."""
    from llmgym.trainers.grpo.config import GRPOConfig

    p = subparsers.add_parser(
        "train",
        help="train an agent with GRPO (metrics, checkpoints, reward curve in --out)",
        description="Every option can also be set in the --config YAML file (flags win).",
    )
    p.add_argument("--config", default=None, help="YAML file of GRPOConfig fields")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint")
    for name, field in GRPOConfig.model_fields.items():
        flags = [*ALIASES.get(name, []), "--" + name.replace("_", "-")]
        doc = (field.description or "").strip().replace("%", "%%")
        if _is_bool(field.annotation):
            p.add_argument(*flags, dest=name, action=argparse.BooleanOptionalAction, help=doc)
        elif _is_dict(field.annotation):
            p.add_argument(*flags, dest=name, type=json.loads, help=doc + " (JSON)")
        else:
            p.add_argument(*flags, dest=name, default=None, help=f"{doc} [{field.default}]")
    p.set_defaults(func=run)
    return p


def _is_bool(annotation: Any) -> bool:
    return annotation is bool or bool in typing.get_args(annotation)


def _is_dict(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    return origin is dict or (isinstance(annotation, types.GenericAlias) and origin is dict)


def run(args: argparse.Namespace) -> int:
    """Build config, model, engine and collector; train; print where the results are."""
    from llmgym.trainers.grpo.config import GRPOConfig, load_config

    overrides = {name: getattr(args, name, None) for name in GRPOConfig.model_fields}
    config = load_config(args.config, **overrides)
    records = asyncio.run(train_on_env(config, resume=args.resume, progress=True))
    trained = [r for r in records if r.get("step", 0) > 0]  # step 0 is the baseline evaluation
    last = trained[-1] if trained else {}
    evals = [r["eval_success"] for r in records if "eval_success" in r]
    held_out = f"held-out success {evals[0]:.3f} -> {evals[-1]:.3f}; " if evals else ""
    print(
        f"trained {len(trained)} steps; last reward {last.get('reward_mean', float('nan')):.3f}; "
        f"{held_out}"
        f"metrics: {config.out / 'metrics.jsonl'}, curve: {config.out / 'reward_curve.png'}"
    )
    return 0


def make_engine(config: Any, model_path: str) -> Any:
    """The generation engine named by ``config.engine`` (auto: vLLM when importable)."""
    import importlib.util

    from llmgym.engines import create_engine

    kind = config.engine
    if kind == "auto":
        kind = "vllm" if importlib.util.find_spec("vllm") else "hf"
    if kind == "vllm":
        return create_engine("vllm", model_path, max_model_len=config.max_trajectory_tokens + 64)
    return create_engine("hf", model_path, num_threads=config.torch_threads)


def held_out_evaluator(config: Any, engine: Any, tokenizer: Any):
    """evaluate(step) -> {"success", "reward", "episodes", "successes"} on the first
    ``eval_episodes`` test tasks (filtered by ``env_options``' difficulty), greedy decoding."""
    import gymnasium as gym

    import llmgym  # noqa: F401  (registers the ids)
    from llmgym.engines import SamplingParams
    from llmgym.env import LLMEnv
    from llmgym.rollout import EpisodeSpec, RolloutCollector, RolloutConfig

    with gym.make(config.env_id, **config.env_kwargs) as env:  # bad kwargs fail here, once
        if not isinstance(env.unwrapped, LLMEnv):
            raise TypeError(f"{config.env_id} is not an llmgym environment (an LLMEnv)")
        tasks = env.unwrapped.split_tasks("test")
        difficulty = config.env_options.get("difficulty")
        test_ids = [t.task_id for t in tasks if difficulty in (None, t.difficulty)]
    test_ids = test_ids[: config.eval_episodes]
    greedy = RolloutConfig(
        sampling=SamplingParams(max_tokens=config.max_new_tokens, temperature=0.0),
        concurrency=config.concurrency, episode_timeout_s=config.episode_timeout_s,
        max_context_tokens=config.max_trajectory_tokens, env_kwargs=config.env_kwargs,
    )  # fmt: skip
    collector = RolloutCollector(engine, tokenizer, greedy)

    async def evaluate(step: int) -> dict[str, Any]:
        trajs = await collector.collect(
            [EpisodeSpec(config.env_id, 0, {"task_id": t}) for t in test_ids]
        )
        successes = [int(t.reward >= 1.0) for t in trajs]
        return {
            "success": sum(successes) / max(len(trajs), 1),
            "reward": sum(t.reward for t in trajs) / max(len(trajs), 1),
            "episodes": len(trajs),
            "successes": successes,
        }

    return evaluate


async def train_on_env(config: Any, *, resume: bool = False, progress: bool = False):
    """GRPO on ``config.env_id`` with the collector, periodic held-out eval; returns metrics."""
    import torch
    from transformers import AutoTokenizer

    import llmgym  # noqa: F401  (registers the ids)
    from llmgym.engines import SamplingParams
    from llmgym.engines.base import configure_cpu_threads
    from llmgym.models import resolve_model
    from llmgym.rollout import RolloutCollector, RolloutConfig, group_specs
    from llmgym.trainers.grpo.loop import train
    from llmgym.trainers.grpo.policy import load_policy

    configure_cpu_threads(config.torch_threads)
    torch.manual_seed(config.seed)
    model_path = resolve_model(config.model)
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    policy = load_policy(
        model_path, lora_rank=config.lora_rank, lora_alpha=config.lora_alpha,
        gradient_checkpointing=config.gradient_checkpointing,
    )  # fmt: skip
    engine = make_engine(config, model_path)
    rollout = RolloutConfig(
        sampling=SamplingParams(
            max_tokens=config.max_new_tokens, temperature=config.temperature,
            top_p=config.top_p, seed=config.seed,
        ),
        concurrency=config.concurrency, episode_timeout_s=config.episode_timeout_s,
        max_context_tokens=config.max_trajectory_tokens, env_kwargs=config.env_kwargs,
    )  # fmt: skip
    collector = RolloutCollector(engine, tokenizer, rollout)
    evaluate = held_out_evaluator(config, engine, tokenizer)

    async def collect(step: int):
        options = {"split": "train", **config.env_options}
        base = config.seed * 1_000_003 + step * config.groups_per_step
        tasks = [(options, base + g) for g in range(config.groups_per_step)]
        return await collector.collect(group_specs(config.env_id, tasks, config.group_size))

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=config.steps, desc="grpo", unit="step")

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
