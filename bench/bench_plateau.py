"""GRPO past the SFT plateau: SFT until held-out success stops rising, then GRPO from there.

On one environment (easy tasks): evaluates the base model greedily on the first
``--eval-tasks`` test tasks; fine-tunes on the scripted expert in rounds of
``--round-episodes`` new episodes each, evaluating after every round, until success has not
risen for ``--patience`` rounds (or ``--max-rounds``); then runs GRPO from the best round's
model and evaluates again on the same tasks. Prints and writes (``plateau.json`` in
``--out``) the SFT curve, base / plateau / GRPO success with 95% Wilson intervals, the
exact McNemar test of GRPO against the plateau on the same tasks, the failure kinds at the
plateau and after GRPO, and the wall time of every phase.

    OMP_WAIT_POLICY=PASSIVE python bench/bench_plateau.py --env llmgym/TripBooking-v0 \\
        --out runs/plateau/trip

Each SFT round continues from the previous round's model with a fresh optimizer. The GRPO
recipe is the main job's (``trainers/quickstart.py``) unless ``--grpo`` overrides fields.

An interrupted run continues: the same command again reuses the base evaluation and every
finished SFT round recorded in ``plateau.json`` and resumes GRPO from its last checkpoint
(one per step); other flags on the same ``--out`` are refused, ``--fresh`` starts over.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any


def evaluate(config: Any, model: str | None) -> dict[str, Any]:
    from llmgym.trainers.grpo.run import evaluate_model

    return asyncio.run(evaluate_model(config, model))


def load_report(out: Path, recipe: dict[str, Any], *, fresh: bool) -> dict[str, Any]:
    """The report of the run in ``out`` to continue (``plateau.json``), or a new one.

    Exits with the fields that differ when ``out`` holds a run of another recipe: continuing
    it would mix two recipes in one curve. ``fresh`` discards that run first.
    """
    path = out / "plateau.json"
    if fresh:
        (out / "plateau.json").unlink(missing_ok=True)
        for folder in [out / "grpo", *out.glob("sft_*")]:
            shutil.rmtree(folder, ignore_errors=True)
    new = {"recipe": recipe, "wall_s": {}, "sft_curve": []}
    if not path.is_file():
        return new
    report = json.loads(path.read_text())
    saved = report.get("recipe", {})
    if saved != recipe:
        keys = sorted(k for k in saved.keys() | recipe.keys() if saved.get(k) != recipe.get(k))
        raise SystemExit(
            f"{out} holds a plateau run with another recipe (differs in: {', '.join(keys)}). "
            "Run again with the same flags to continue it, pass --fresh to discard it, or "
            "pick another --out."
        )
    print(f"continuing the run in {out}", flush=True)
    return new | report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="llmgym/TripBooking-v0")
    parser.add_argument("--out", required=True)
    parser.add_argument("--eval-tasks", type=int, default=40)
    parser.add_argument(
        "--round-episodes", type=int, default=16, help="new expert episodes a round"
    )
    parser.add_argument("--max-rounds", type=int, default=5)
    # 2, not 1: one 40-task evaluation is noisy (the recorded TripBooking run fell 21 -> 15
    # from round 3 to 4, well inside both confidence intervals)
    parser.add_argument("--patience", type=int, default=2, help="rounds without a rise [2]")
    parser.add_argument("--sft", type=json.loads, default={}, help="more SFTConfig fields")
    parser.add_argument("--grpo", type=json.loads, default={}, help="more GRPOConfig fields")
    parser.add_argument("--no-base", action="store_true", help="skip the base model's eval")
    parser.add_argument("--fresh", action="store_true", help="discard a run in --out first")
    parser.add_argument(
        "--reevaluate", type=int, nargs="+", default=None, metavar="ROUND",
        help="only evaluate these rounds' SFT models in --out again, with this code and the "
        "recipe the other flags give, into reeval_sft_ROUND.json (e.g. after a fix to the "
        "evaluation); the run's report is left as it was",
    )  # fmt: skip
    args = parser.parse_args()
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("VLLM_CPU_NUM_OF_RESERVED_CPU", "0")

    from llmgym.stats import mcnemar_exact
    from llmgym.trainers.checkpoint import saved_step
    from llmgym.trainers.grpo.loop import read_records
    from llmgym.trainers.grpo.run import train_on_env
    from llmgym.trainers.quickstart import GRPO_RECIPE, SFT_RECIPE, QuickstartConfig, rate
    from llmgym.trainers.sft import run_sft

    out = Path(args.out)
    recipe = QuickstartConfig(out=out, eval_tasks=args.eval_tasks, env_id=args.env,
                              sft={**SFT_RECIPE, **args.sft}, grpo={**GRPO_RECIPE, **args.grpo})  # fmt: skip
    eval_config = recipe.grpo_config()
    if args.reevaluate:
        for r in args.reevaluate:
            result = evaluate(eval_config, str(out / f"sft_{r}"))
            point = rate(f"SFT round {r}", result) | {"eval_s": result["eval_s"]}
            (out / f"reeval_sft_{r}.json").write_text(json.dumps(point, indent=1) + "\n")
            print(f"SFT round {r} again: {point['successes']}/{args.eval_tasks} "
                  f"(eval {result['eval_s']:.0f} s) {point['failures']}", flush=True)  # fmt: skip
        return
    search = {"round_episodes": args.round_episodes, "max_rounds": args.max_rounds,
              "patience": args.patience, "base": not args.no_base}  # fmt: skip
    report = load_report(out, recipe.recipe() | {"search": search}, fresh=args.fresh)
    out.mkdir(parents=True, exist_ok=True)
    earlier_s = report["wall_s"].get("total", 0.0)  # sessions before this one
    started = time.perf_counter()

    def save() -> None:
        report["wall_s"]["total"] = earlier_s + time.perf_counter() - started
        (out / "plateau.json").write_text(json.dumps(report, indent=1) + "\n")

    def sft_round(r: int) -> dict[str, Any]:
        """Round ``r``: ``--round-episodes`` new expert episodes on the model of round r-1."""
        t0 = time.perf_counter()
        sft = recipe.sft_config()
        folder = out / f"sft_{r}"
        model = str(out / f"sft_{r - 1}") if r > 1 else None
        fields = {**sft.__dict__, "out": str(folder), "model": model, "epochs": 1.0,
                  "episodes": args.round_episodes, "seed": (r - 1) * args.round_episodes}  # fmt: skip
        losses = run_sft(type(sft)(**fields))
        sft_s = time.perf_counter() - t0
        result = evaluate(eval_config, str(folder))
        print(f"SFT round {r}: {sum(result['successes'])}/{args.eval_tasks} "
              f"(sft {sft_s:.0f} s, eval {result['eval_s']:.0f} s)", flush=True)  # fmt: skip
        return rate(f"SFT round {r}", result) | {"episodes_seen": r * args.round_episodes,
                                                 "losses": losses, "sft_s": sft_s,
                                                 "eval_s": result["eval_s"], "model": str(folder)}  # fmt: skip

    if not args.no_base and "base" not in report:
        base = evaluate(eval_config, None)
        report["base"] = rate("base", base)
        report["wall_s"]["eval_base"] = base["eval_s"]
        save()
    if "base" in report:
        print(f"base: {report['base']['successes']}/{args.eval_tasks}", flush=True)
    curve: list[dict[str, Any]] = report["sft_curve"]
    best, since_best = None, 0
    for r in range(1, args.max_rounds + 1):
        if r <= len(curve):  # finished in an earlier session
            point = curve[r - 1]
            print(f"SFT round {r}: {point['successes']}/{args.eval_tasks} (earlier session)")
        else:
            point = sft_round(r)
            curve.append(point)
            save()
        if best is None or point["successes"] > best["successes"]:
            best, since_best = point, 0
        else:
            since_best += 1
            if since_best >= args.patience:
                break
    assert best is not None
    report["plateau"] = best
    # The plateau's own greedy evaluation is GRPO's "before": same tasks, same engine settings,
    # so the GRPO run does not evaluate the starting model again (5-6 min at 40 tasks).
    grpo = recipe.grpo_config().model_copy(
        update={"model": best["model"], "out": out / "grpo", "eval_at_start": False}
    )
    metrics = Path(grpo.out) / "metrics.jsonl"
    done = saved_step(Path(grpo.out) / "checkpoint") >= grpo.steps and any(
        r["step"] == grpo.steps and "eval_successes" in r for r in read_records(metrics)
    )
    if not done:
        t0 = time.perf_counter()
        asyncio.run(train_on_env(grpo, resume=metrics.is_file(), progress=True))
        spent = report["wall_s"].get("grpo_with_evals", 0.0) + time.perf_counter() - t0
        report["wall_s"]["grpo_with_evals"] = spent
    records = read_records(metrics)
    evals = [r for r in records if "eval_successes" in r]
    report["grpo"] = rate(f"plateau + {grpo.steps} GRPO steps", evals[-1])
    report["train_curve"] = [{"step": r["step"], "reward_mean": r["reward_mean"]}
                             for r in records if "reward_mean" in r]  # fmt: skip
    test = mcnemar_exact(best["per_task"], report["grpo"]["per_task"])
    report["grpo_vs_plateau"] = {"gained": test.gained, "lost": test.lost, "p": test.p_value}
    save()
    for key in ("base", "plateau", "grpo"):
        if key in report:
            r = report[key]
            lo, hi = r["wilson95"]
            print(f"{r['policy']:<28s} {r['successes']:3d}/{r['episodes']} = {r['rate']:.3f} "
                  f"(95% CI {lo:.3f}-{hi:.3f})")  # fmt: skip
            for kind, n in r["failures"].items():
                print(f"    failed {n:3d} x {kind}")
    print(f"GRPO vs plateau: +{test.gained} -{test.lost}, exact McNemar p = {test.p_value:.4f}")
    print("wall time: " + ", ".join(f"{k} {v:.0f} s" for k, v in report["wall_s"].items()))


if __name__ == "__main__":
    main()
