"""The main job: an SFT warm-start, then GRPO, and held-out proof of what GRPO changed.

``run_quickstart`` fine-tunes the default model on scripted-expert episodes (``run_sft``),
evaluates it greedily on the environment's first ``eval_tasks`` test tasks, trains it with
GRPO (``train_on_env``), evaluates again on the same tasks, and compares the two task by
task (exact McNemar test). It writes ``summary.json`` (successes, episodes, p-value, wall
time of each phase) and ``quickstart.png`` (before/after bars, the training curve) to
``out``. ``llmgym quickstart`` is its command line; ``QUICKSTART`` is the recipe.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmgym.stats import mcnemar_exact, wilson
from llmgym.trainers.grpo.config import GRPOConfig
from llmgym.trainers.sft import SFTConfig

logger = logging.getLogger(__name__)

ENV_ID = "llmgym/TripBooking-v0"
SFT_RECIPE = {"episodes": 20, "epochs": 1.0, "learning_rate": 3e-4, "batch_size": 2,
              "micro_batch_size": 1, "trainable_layers": 12}  # fmt: skip
"""A short warm-start (10 steps of 2 expert episodes, the top 12 of 30 layers): it teaches
the call format and the tools, so that sampled episodes often succeed, and leaves mistakes
for GRPO to learn from. (4 steps of 4 left every call invalid; 10 of 2 solved 3 of 8 easy
train tasks, greedy.)"""
GRPO_RECIPE: dict[str, Any] = {
    "env_options": {"difficulty": "easy"}, "env_kwargs": {"max_turns": 6}, "steps": 6,
    "groups_per_step": 2, "group_size": 8, "max_new_tokens": 96, "max_trajectory_tokens": 3072,
    "temperature": 0.7, "learning_rate": 1e-4, "trainable_layers": 12, "micro_batch_size": 1,
    "concurrency": 16, "checkpoint_every": 0, "torch_threads": 2,
}  # fmt: skip
"""Every easy task takes the expert 4 turns; 6 leave room for one mistake. Training only the
top 12 layers makes an update about 2.5x cheaper than a full one on this CPU
(``bench/bench_train_step.py``), so the learning rate is higher than a full fine-tune's."""


@dataclass(frozen=True)
class QuickstartConfig:
    """One main-job run: where it writes, how many held-out tasks, and the two recipes."""

    out: Path
    """Folder of the run: sft/ (the warm-started model), grpo/, summary.json, quickstart.png."""
    eval_tasks: int = 40
    """Held-out test tasks evaluated before and after GRPO (the same tasks, greedy)."""
    sft: dict[str, Any] = field(default_factory=lambda: dict(SFT_RECIPE))
    """``SFTConfig`` fields (out and env_id are set by the run)."""
    grpo: dict[str, Any] = field(default_factory=lambda: dict(GRPO_RECIPE))
    """``GRPOConfig`` fields (model, out, evaluation are set by the run)."""
    env_id: str = ENV_ID

    def sft_config(self) -> SFTConfig:
        difficulty = self.grpo.get("env_options", {}).get("difficulty")
        fields = {"difficulty": difficulty, **self.sft}
        return SFTConfig(out=str(self.out / "sft"), env_id=self.env_id, **fields)

    def grpo_config(self) -> GRPOConfig:
        from llmgym.trainers.grpo.config import validate_config

        steps = int(self.grpo.get("steps", GRPOConfig.model_fields["steps"].default))
        return validate_config(
            {**self.grpo, "env_id": self.env_id, "model": str(self.out / "sft"),
             "out": self.out / "grpo", "eval_every": steps, "eval_episodes": self.eval_tasks},
            source="quickstart",
        )  # fmt: skip


def run_quickstart(config: QuickstartConfig, *, progress: bool = True) -> dict[str, Any]:
    """SFT, evaluate, GRPO, evaluate; returns the summary also written to summary.json."""
    from llmgym.trainers.grpo.run import train_on_env
    from llmgym.trainers.sft import run_sft, sft_progress_bar

    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    config.out.mkdir(parents=True, exist_ok=True)
    grpo = config.grpo_config()  # a bad field fails here, before any model loads
    started = time.perf_counter()
    losses = run_sft(config.sft_config(), on_step=sft_progress_bar() if progress else None)
    sft_s = time.perf_counter() - started
    records = asyncio.run(train_on_env(grpo, progress=progress))
    total_s = time.perf_counter() - started
    evals = [r for r in records if "eval_successes" in r]
    if len(evals) < 2 or evals[0]["step"] != 0:
        raise RuntimeError(f"expected evaluations at step 0 and {grpo.steps}; got {evals}")
    before, after = evals[0], evals[-1]
    comparison = mcnemar_exact(before["eval_successes"], after["eval_successes"])
    eval_s = before["eval_s"] + after["eval_s"]
    summary = {
        "env_id": config.env_id,
        "tasks": f"the first {before['eval_episodes']} {grpo.env_options.get('difficulty', '')} "
        "test tasks, greedy".replace("  ", " "),
        "before": rate("SFT", before),
        "after": rate(f"SFT + {grpo.steps} GRPO steps", after),
        "gained": comparison.gained,
        "lost": comparison.lost,
        "mcnemar_p": comparison.p_value,
        "significant": comparison.p_value < 0.05,
        "train_curve": [
            {"step": r["step"], "reward_mean": r["reward_mean"], "success": r["success"]}
            for r in records
            if "reward_mean" in r
        ],
        "sft_losses": losses,
        "wall_s": {
            "sft": sft_s,
            "eval_before": before["eval_s"],
            "grpo": total_s - sft_s - eval_s,
            "eval_after": after["eval_s"],
            "total": total_s,
        },
        "config": {
            "eval_tasks": config.eval_tasks,
            "sft": dataclasses.asdict(config.sft_config()),
            "grpo": grpo.model_dump(mode="json"),
        },
        "machine": {"cpus": os.cpu_count()},
    }
    (config.out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    plot_summary(summary, config.out / "quickstart.png")
    return summary


def rate(label: str, result: dict[str, Any]) -> dict[str, Any]:
    """One held-out evaluation (``held_out_evaluator``'s result, or a loop record's ``eval_*``
    fields) as a summary row: successes, episodes, rate, 95% Wilson interval, per task,
    failure kinds."""
    result = {k.removeprefix("eval_"): v for k, v in result.items()}
    successes, n = sum(result["successes"]), result["episodes"]
    return {
        "policy": label,
        "successes": successes,
        "episodes": n,
        "rate": successes / max(n, 1),
        "wilson95": wilson(successes, n),
        "per_task": result["successes"],
        "failures": result.get("failures", {}),
    }


def describe(summary: dict[str, Any]) -> str:
    """The summary as the lines ``llmgym quickstart`` prints."""
    lines = [f"{summary['env_id']}, {summary['tasks']}:"]
    for key in ("before", "after"):
        r = summary[key]
        lo, hi = r["wilson95"]
        lines.append(
            f"  {r['policy']:<22s} {r['successes']:3d}/{r['episodes']} = {r['rate']:.3f} "
            f"(95% CI {lo:.3f}-{hi:.3f})"
        )
        lines += [f"      failed {n:3d} x {kind}" for kind, n in r.get("failures", {}).items()]
    p = summary["mcnemar_p"]
    verdict = "significant at 5%" if summary["significant"] else "not significant at 5%"
    lines.append(
        f"  GRPO vs SFT on the same tasks: +{summary['gained']} -{summary['lost']}, "
        f"exact McNemar p = {p:.4f} ({verdict})"
    )
    wall = summary["wall_s"]
    lines.append(
        "  wall time: " + ", ".join(f"{k.replace('_', ' ')} {v:.0f} s" for k, v in wall.items())
    )
    return "\n".join(lines)


def plot_summary(summary: dict[str, Any], png: Path) -> Path:
    """Held-out success before/after (95% Wilson intervals) beside the training curve."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, (bars, curve) = plt.subplots(1, 2, figsize=(9, 3.4))
    rows = [summary["before"], summary["after"]]
    rates = [r["rate"] for r in rows]
    errors = [[r["rate"] - r["wilson95"][0] for r in rows],
              [r["wilson95"][1] - r["rate"] for r in rows]]  # fmt: skip
    bars.bar(["SFT", "SFT + GRPO"], rates, yerr=errors, capsize=6, color=["#999", "#2a7"])
    for x, r in enumerate(rows):
        bars.text(x + 0.08, r["rate"] + 0.02, f"{r['successes']}/{r['episodes']}")
    bars.set_ylim(0, 1)
    bars.set_ylabel("held-out success (95% CI)")
    bars.set_title(f"p = {summary['mcnemar_p']:.4f} (exact McNemar)")
    steps = [r["step"] for r in summary["train_curve"]]
    curve.plot(steps, [r["reward_mean"] for r in summary["train_curve"]], "o-",
               label="train reward (mean)")  # fmt: skip
    curve.set_xlim(0.5, max(steps, default=1) + 0.5)
    curve.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))  # whole steps
    curve.set_xlabel("GRPO step")
    curve.set_ylim(0, 1)
    curve.legend(loc="upper left")
    fig.suptitle(summary["env_id"])
    fig.tight_layout()
    fig.savefig(png, dpi=100)
    plt.close(fig)
    return png
