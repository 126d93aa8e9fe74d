"""Proof that it learns: held-out success of the base model, after SFT, after GRPO.

On TripBooking-v0 (easy): the main job (``llmgym quickstart``: SFT warm-start, held-out
evaluation, GRPO, evaluation again, exact McNemar test on the same tasks), plus the base
model's evaluation on the same tasks for reference. Prints each success rate with a 95%
Wilson interval; writes summary.json, quickstart.png and base.json to --out.

    OMP_WAIT_POLICY=PASSIVE python bench/bench_learning.py --out bench/results/learning
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="bench/results/learning")
    parser.add_argument("--eval-tasks", type=int, default=40, help="easy test tasks")
    parser.add_argument("--steps", type=int, default=None, help="GRPO steps (recipe default)")
    parser.add_argument("--no-base", action="store_true", help="skip the base model's eval")
    args = parser.parse_args()
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("VLLM_CPU_NUM_OF_RESERVED_CPU", "0")

    from llmgym.stats import wilson
    from llmgym.trainers.grpo.run import evaluate_model
    from llmgym.trainers.quickstart import GRPO_RECIPE, QuickstartConfig, describe, run_quickstart

    grpo = dict(GRPO_RECIPE) | ({"steps": args.steps} if args.steps else {})
    config = QuickstartConfig(out=Path(args.out), eval_tasks=args.eval_tasks, grpo=grpo)
    config.out.mkdir(parents=True, exist_ok=True)
    if not args.no_base:
        started = time.perf_counter()
        base = asyncio.run(evaluate_model(config.grpo_config(), None))
        k, n = sum(base["successes"]), base["episodes"]
        lo, hi = wilson(k, n)
        record = {"successes": k, "episodes": n, "per_task": base["successes"],
                  "wilson95": [lo, hi], "wall_s": time.perf_counter() - started}  # fmt: skip
        (config.out / "base.json").write_text(json.dumps(record, indent=1) + "\n")
        print(f"base model: {k}/{n} = {k / n:.3f} (95% CI {lo:.3f}-{hi:.3f})", flush=True)
    print(describe(run_quickstart(config)))


if __name__ == "__main__":
    main()
