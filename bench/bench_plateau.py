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
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from pathlib import Path
from typing import Any


def evaluate(config: Any, model: str | None) -> dict[str, Any]:
    from llmgym.trainers.grpo.run import evaluate_model

    return asyncio.run(evaluate_model(config, model))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="llmgym/TripBooking-v0")
    parser.add_argument("--out", required=True)
    parser.add_argument("--eval-tasks", type=int, default=40)
    parser.add_argument(
        "--round-episodes", type=int, default=16, help="new expert episodes a round"
    )
    parser.add_argument("--max-rounds", type=int, default=5)
    parser.add_argument("--patience", type=int, default=1, help="rounds without a rise")
    parser.add_argument("--sft", type=json.loads, default={}, help="more SFTConfig fields")
    parser.add_argument("--grpo", type=json.loads, default={}, help="more GRPOConfig fields")
    parser.add_argument("--no-base", action="store_true", help="skip the base model's eval")
    args = parser.parse_args()
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("VLLM_CPU_NUM_OF_RESERVED_CPU", "0")

    from llmgym.stats import mcnemar_exact
    from llmgym.trainers.grpo.run import train_on_env
    from llmgym.trainers.quickstart import GRPO_RECIPE, SFT_RECIPE, QuickstartConfig, rate
    from llmgym.trainers.sft import run_sft

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    recipe = QuickstartConfig(out=out, eval_tasks=args.eval_tasks, env_id=args.env,
                              sft={**SFT_RECIPE, **args.sft}, grpo={**GRPO_RECIPE, **args.grpo})  # fmt: skip
    eval_config = recipe.grpo_config()
    report: dict[str, Any] = {"env_id": args.env, "eval_tasks": args.eval_tasks, "wall_s": {}}
    started = time.perf_counter()

    def save() -> None:
        report["wall_s"]["total"] = time.perf_counter() - started
        (out / "plateau.json").write_text(json.dumps(report, indent=1) + "\n")

    if not args.no_base:
        base = evaluate(eval_config, None)
        report["base"] = rate("base", base)
        report["wall_s"]["eval_base"] = base["eval_s"]
        print(f"base: {report['base']['successes']}/{args.eval_tasks}", flush=True)
    curve: list[dict[str, Any]] = []
    report["sft_curve"] = curve
    model, best, since_best = None, None, 0
    for r in range(1, args.max_rounds + 1):
        t0 = time.perf_counter()
        sft = recipe.sft_config()
        folder = out / f"sft_{r}"
        fields = {**sft.__dict__, "out": str(folder), "model": model, "epochs": 1.0,
                  "episodes": args.round_episodes, "seed": (r - 1) * args.round_episodes}  # fmt: skip
        losses = run_sft(type(sft)(**fields))
        sft_s = time.perf_counter() - t0
        result = evaluate(eval_config, str(folder))
        point = rate(f"SFT round {r}", result) | {"episodes_seen": r * args.round_episodes,
                                                  "losses": losses, "sft_s": sft_s,
                                                  "eval_s": result["eval_s"], "model": str(folder)}  # fmt: skip
        curve.append(point)
        print(f"SFT round {r}: {point['successes']}/{args.eval_tasks} "
              f"(sft {sft_s:.0f} s, eval {result['eval_s']:.0f} s)", flush=True)  # fmt: skip
        save()
        model = str(folder)
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
    t0 = time.perf_counter()
    records = asyncio.run(train_on_env(grpo, progress=True))
    report["wall_s"]["grpo_with_evals"] = time.perf_counter() - t0
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
