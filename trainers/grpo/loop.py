"""The GRPO loop: collect groups -> advantages -> update -> weight sync -> metrics, sync or async.

One code path serves both modes. With ``max_staleness=0`` each step collects with the newest
weights, trains, then pushes the weights to the engine. With ``max_staleness=1`` the collection
of step k+1 starts before step k trains (the update runs in a worker thread while the engine
keeps generating), so its trajectories are one version old; the ratio against the sampler's
logprobs corrects for that. Weights are pushed only when no generation is in flight (vLLM's
in-place reload requires it), which is why staleness is bounded at 1.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import statistics
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import torch

from llmgym.engines.base import Engine
from llmgym.trainers.checkpoint import CheckpointState, load_checkpoint, save_checkpoint
from llmgym.trainers.grpo.advantages import group_advantages, group_ids_to_index
from llmgym.trainers.grpo.config import GRPOConfig
from llmgym.trainers.grpo.step import StepStats, build_batch, train_step
from llmgym.trainers.weights import PolicyWeights
from llmgym.trajectory import Trajectory, succeeded

logger = logging.getLogger(__name__)

STEP_KEYS = [f.name for f in dataclasses.fields(StepStats) if f.name != "train_s"]

Collect = Callable[[int], Awaitable[list[Trajectory]]]
"""collect(data_step) -> the trajectories of that step's groups (same data_step, same data)."""
Evaluate = Callable[[int], Awaitable[dict[str, float]]]
"""evaluate(step) -> held-out metrics (e.g. {"success": 0.4}) with the engine's current weights."""


def trajectory_metrics(trajs: list[Trajectory], version: int) -> dict[str, float]:
    """Reward, success, lengths and staleness of one step's trajectories."""
    ok = [t for t in trajs if t.ok]
    rewards = [t.reward for t in ok] or [0.0]
    lengths = [t.num_sampled_tokens for t in ok] or [0]
    stale = [version - int(t.model_version or 0) for t in ok] or [0]
    return {
        "reward_mean": statistics.fmean(rewards),
        "reward_std": statistics.pstdev(rewards),
        "success": statistics.fmean(succeeded(r) for r in rewards),
        "episodes": len(trajs),
        "failed_episodes": len(trajs) - len(ok),
        "truncated_frac": statistics.fmean([t.truncated for t in ok] or [0]),
        "completion_tokens_mean": statistics.fmean(lengths),
        "completion_tokens_max": max(lengths),
        "turns_mean": statistics.fmean([t.num_turns for t in ok] or [0]),
        "staleness_mean": statistics.fmean(stale),
        "staleness_max": max(stale),
    }


async def train(
    config: GRPOConfig,
    model: Any,
    engine: Engine,
    collect: Collect,
    *,
    evaluate: Evaluate | None = None,
    tokenizer: Any = None,
    resume: bool = False,
    on_record: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Run ``config.steps`` GRPO steps; metrics go to ``config.out/metrics.jsonl``.

    ``engine`` gets the new weights after every step, as version ``step + 1``;
    ``collect`` plays one step's groups on it; ``on_record`` sees each step's metrics (for a
    progress bar). Returns the metric records of this call.
    """
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=config.weight_decay)
    ref_model = None
    if config.kl_beta > 0 and config.lora_rank == 0:
        import copy

        ref_model = copy.deepcopy(model).eval().requires_grad_(False)
    start_step = 0
    checkpoint_dir = out / "checkpoint"
    if resume and (checkpoint_dir / "state.pt").is_file():
        start_step = load_checkpoint(checkpoint_dir, model, optimizer).step
        # the engine restarts from the base weights: every tensor (the frozen set may differ)
        await sync_weights(model, engine, out, start_step, tokenizer)
    writer = tensorboard_writer(out) if config.tensorboard else None
    metrics_path = out / "metrics.jsonl"
    kept = keep_records_up_to(metrics_path, start_step) if resume else []
    if not resume and metrics_path.exists():
        metrics_path.unlink()
    async_mode = config.max_staleness > 0
    records = []
    evaluated_at_start = any(r["step"] == 0 and "eval_successes" in r for r in kept)
    if (
        evaluate and config.eval_every and config.eval_at_start and start_step == 0
        and not evaluated_at_start  # a resumed run keeps its finished step-0 evaluation
    ):  # fmt: skip
        started = time.perf_counter()
        record = {"step": 0} | {f"eval_{k}": v for k, v in (await evaluate(0)).items()}
        record["eval_s"] = time.perf_counter() - started
        write_record(metrics_path, record, writer)
        records.append(record)
    pending = asyncio.ensure_future(timed(collect(start_step)))
    for step in range(start_step, config.steps):
        trajs, gen_s = await pending
        if async_mode and step + 1 < config.steps:  # overlaps the update below
            pending = asyncio.ensure_future(timed(collect(step + 1)))
        record = {"step": step + 1, **trajectory_metrics(trajs, version=step)}
        train_start = time.perf_counter()
        stats = await asyncio.to_thread(update, config, model, optimizer, trajs, ref_model)
        record["train_s"] = time.perf_counter() - train_start
        if async_mode and step + 1 < config.steps:
            await asyncio.wait([pending])  # vLLM reloads only with nothing in flight
        record["sync_s"] = await sync_weights(
            model, engine, out, step + 1, tokenizer, trained_only=True
        )
        if not async_mode and step + 1 < config.steps:
            pending = asyncio.ensure_future(timed(collect(step + 1)))
        generated = sum(t.num_sampled_tokens for t in trajs)
        record |= stats | {
            "gen_s": gen_s,
            "gen_tokens_per_s": generated / gen_s if gen_s > 0 else 0.0,
            "train_tokens_per_s": stats.get("tokens", 0) / max(record["train_s"], 1e-9),
        }
        if evaluate and config.eval_every and (step + 1) % config.eval_every == 0:
            started = time.perf_counter()
            record |= {f"eval_{k}": v for k, v in (await evaluate(step + 1)).items()}
            record["eval_s"] = time.perf_counter() - started
        # The record first: a run killed between the two resumes from the checkpoint before,
        # drops this record (keep_records_up_to) and plays the step again; the other order
        # would lose the record of a step the checkpoint holds.
        write_record(metrics_path, record, writer)
        records.append(record)
        if config.checkpoint_every and (step + 1) % config.checkpoint_every == 0:
            save_checkpoint(checkpoint_dir, model, optimizer, CheckpointState(step + 1))
        if on_record is not None:
            on_record(record)
        logger.info(
            "step %d reward %.3f success %.2f gen %.1fs train %.1fs sync %.2fs", step + 1,
            record["reward_mean"], record["success"], gen_s, record["train_s"], record["sync_s"],
        )  # fmt: skip
    if not pending.done():
        pending.cancel()
    save_checkpoint(checkpoint_dir, model, optimizer, CheckpointState(config.steps))
    plot_rewards(metrics_path, out / "reward_curve.png")
    if writer is not None:
        writer.close()
    return records


def update(config, model, optimizer, trajs: list[Trajectory], ref_model=None) -> dict[str, float]:
    """Advantages -> filtered batch -> one train step; stats as a flat dict."""
    trajs = [t for t in trajs if t.ok]
    rewards = torch.tensor([t.reward for t in trajs], dtype=torch.float64)
    index = group_ids_to_index([t.group_id or t.task_id for t in trajs])
    adv = group_advantages(
        rewards, index, scale_by_std=config.scale_by_std,
        filter_zero_variance=config.filter_zero_variance,
    )  # fmt: skip
    kept = [t for t, k in zip(trajs, adv.keep.tolist(), strict=True) if k]
    stats: dict[str, float] = {
        "kept_frac": len(kept) / max(len(trajs), 1),
        "advantage_abs_mean": float(adv.advantages.abs().mean()) if len(trajs) else 0.0,
        "advantage_max": float(adv.advantages.max()) if len(trajs) else 0.0,
    }
    if not kept:  # every group had identical rewards: nothing to learn from this batch
        return stats | dict.fromkeys(STEP_KEYS, 0.0)
    batch = build_batch(
        kept, adv.advantages[adv.keep], max_length=config.max_trajectory_tokens,
        mask_truncated=config.mask_truncated,
    )  # fmt: skip
    result = train_step(model, optimizer, batch, config, ref_model=ref_model)
    return stats | {k: getattr(result, k) for k in STEP_KEYS}


async def sync_weights(
    model: Any,
    engine: Engine,
    out: Path,
    version: int,
    tokenizer: Any = None,
    *,
    trained_only: bool = False,
) -> float:
    """Load the policy's merged weights into the engine as ``version``; returns seconds.

    The engine takes them in the form it needs (``PolicyWeights``: tensors for an
    in-process engine or vLLM (through shared memory), a saved folder for a server).
    ``trained_only``: send only the tensors training changes (with frozen layers, the
    engine already holds the rest: it started from, or was last given, the same ones).
    """
    start = time.perf_counter()
    await engine.load_weights(
        PolicyWeights(model, out / "weights_sync", tokenizer, trained_only=trained_only),
        version=version,
    )
    return time.perf_counter() - start


async def timed(work: Awaitable[list[Trajectory]]) -> tuple[list[Trajectory], float]:
    start = time.perf_counter()
    result = await work
    return result, time.perf_counter() - start


def read_records(path: Path) -> list[dict[str, Any]]:
    """The metric records of ``path`` (metrics.jsonl), in order; [] when there is none."""
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def keep_records_up_to(path: Path, step: int) -> list[dict[str, Any]]:
    """Rewrite ``path`` with only its records up to ``step`` (the checkpoint a run resumes
    from) and return them: the steps after it are played again, and their records would
    otherwise appear twice."""
    records = read_records(path)
    kept = [r for r in records if r["step"] <= step]
    if len(kept) < len(records):
        logger.info("dropping %d metric records past step %d", len(records) - len(kept), step)
        path.write_text("".join(json.dumps(r) + "\n" for r in kept))
    return kept


def write_record(path: Path, record: dict[str, Any], writer: Any = None) -> None:
    """Append one JSON line (and TensorBoard scalars when a writer is given)."""
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")
    if writer is not None:
        for key, value in record.items():
            if key != "step" and isinstance(value, int | float):
                writer.add_scalar(key, value, record["step"])


def tensorboard_writer(out: Path) -> Any:
    """A SummaryWriter in out/tensorboard, or None (with a warning) without tensorboard."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        logger.warning(
            "tensorboard=True but the tensorboard package is missing: pip install tensorboard"
        )
        return None
    return SummaryWriter(str(out / "tensorboard"))


def plot_rewards(metrics_path: Path, png: Path) -> Path | None:
    """Reward (and held-out success, when evaluated) against step, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    records = read_records(metrics_path)
    if not records:
        return None
    fig, ax = plt.subplots(figsize=(6, 3.5))
    trained = [r for r in records if "reward_mean" in r]
    ax.plot([r["step"] for r in trained], [r["reward_mean"] for r in trained], label="train reward")
    evals = [r for r in records if "eval_success" in r]
    if evals:
        ax.plot([r["step"] for r in evals], [r["eval_success"] for r in evals], "o-",
                label="held-out success")  # fmt: skip
    ax.set_xlabel("step")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))  # whole steps only
    ax.set_ylabel("reward / success")
    ax.legend()
    fig.tight_layout()
    fig.savefig(png, dpi=100)
    plt.close(fig)
    return png
