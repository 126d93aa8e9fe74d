"""Proof that it learns: held-out success of the base model, after SFT, after GRPO.

On TripBooking-v0 (easy): evaluate the default model greedily on the easy test tasks (all 40
by default), SFT it on scripted-expert episodes from the train split, evaluate, run GRPO from
the SFT checkpoint (``llmgym train``'s code path, vLLM engine), evaluate again on the same
tasks. Every episode, training or evaluation, gets at most --max-turns turns (the expert needs
4 on every easy task). Prints each success rate with a 95% Wilson interval and the paired
GRPO-vs-SFT comparison (exact McNemar test on the same tasks); writes results.json and
learning.png to --out.

The warm-start is short on purpose (6 steps of 4 episodes, 24 of the 32): it teaches the call
format well enough that sampled episodes sometimes succeed, and leaves the agent's own
mistakes (malformed calls, wrong arguments, a flight that breaks the request) for GRPO to
learn from its rewards. A longer SFT fixes much of that by imitation instead (see the closing
notes of issue 6 for both).

    OMP_WAIT_POLICY=PASSIVE python bench/bench_learning.py --out bench/results/learning
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import os
import shutil
import time
from pathlib import Path


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a success rate."""
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def mcnemar_exact(before: list[int], after: list[int]) -> tuple[int, int, float]:
    """Tasks only `after` solved, only `before` solved, and the two-sided exact p-value."""
    gained = sum(a and not b for b, a in zip(before, after, strict=True))
    lost = sum(b and not a for b, a in zip(before, after, strict=True))
    n = gained + lost
    tail = sum(math.comb(n, k) for k in range(min(gained, lost) + 1)) / 2**n if n else 1.0
    return gained, lost, min(1.0, 2 * tail)


async def evaluate_model(config, model_dir: str) -> dict:
    from transformers import AutoTokenizer

    from llmgym.trainers.grpo.run import held_out_evaluator, make_engine

    engine = make_engine(config, model_dir)
    try:
        evaluate = held_out_evaluator(config, engine, AutoTokenizer.from_pretrained(model_dir))
        return await evaluate(0)
    finally:
        await engine.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="bench/results/learning")
    parser.add_argument("--work", default="/tmp/llmgym-learning", help="models, checkpoints")
    parser.add_argument("--eval-episodes", type=int, default=40, help="easy test tasks")
    parser.add_argument("--max-turns", type=int, default=6, help="turns per episode")
    parser.add_argument("--sft-episodes", type=int, default=32)
    parser.add_argument("--sft-epochs", type=float, default=0.75, help="6 steps of 4")
    parser.add_argument("--sft-lr", type=float, default=5e-5)
    parser.add_argument("--grpo-steps", type=int, default=10)
    parser.add_argument("--groups", type=int, default=4)
    parser.add_argument("--group-size", type=int, default=6)
    parser.add_argument("--concurrency", type=int, default=16, help="episodes in flight")
    parser.add_argument("--grpo-lr", type=float, default=2e-5)
    parser.add_argument("--temperature", type=float, default=0.7, help="GRPO rollouts")
    parser.add_argument("--engine", default="auto")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("VLLM_CPU_NUM_OF_RESERVED_CPU", "0")

    import torch
    from transformers import AutoTokenizer

    from llmgym.models import resolve_model
    from llmgym.trainers.grpo.config import GRPOConfig
    from llmgym.trainers.grpo.run import train_on_env
    from llmgym.trainers.policy import export_weights, load_policy
    from llmgym.trainers.sft import expert_conversations, sft_train, tokenize_conversation

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(args.work)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    base_dir = resolve_model(None)
    config = GRPOConfig(
        model=str(work / "sft"), engine=args.engine, out=work / "grpo", steps=args.grpo_steps,
        groups_per_step=args.groups, group_size=args.group_size, learning_rate=args.grpo_lr,
        max_new_tokens=96, max_trajectory_tokens=3072, eval_every=args.grpo_steps,
        eval_episodes=args.eval_episodes, checkpoint_every=0, micro_batch_size=1,
        torch_threads=args.threads, env_options={"difficulty": "easy"},
        env_kwargs={"max_turns": args.max_turns}, concurrency=args.concurrency,
        temperature=args.temperature,
    )  # fmt: skip
    timings, started = {}, time.perf_counter()

    base = asyncio.run(evaluate_model(config, base_dir))
    timings["base_eval_s"] = time.perf_counter() - started
    print(f"base: {sum(base['successes'])}/{base['episodes']}", flush=True)

    t0 = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    conversations = expert_conversations(
        config.env_id, args.sft_episodes, seed=10_000, options={"difficulty": "easy"}
    )
    examples = [tokenize_conversation(tokenizer, c) for c in conversations]
    model = load_policy(base_dir)
    losses = sft_train(
        model, examples, epochs=args.sft_epochs, learning_rate=args.sft_lr, batch_size=4,
        micro_batch_size=1, autocast_dtype=torch.bfloat16,
    )  # fmt: skip
    export_weights(model, work / "sft", tokenizer)
    del model
    timings["sft_s"] = time.perf_counter() - t0
    print(f"sft: {len(losses)} steps, loss {losses[0]:.3f} -> {losses[-1]:.3f}", flush=True)

    t0 = time.perf_counter()
    records = asyncio.run(train_on_env(config))
    timings["grpo_s"] = time.perf_counter() - t0
    timings["total_s"] = time.perf_counter() - started
    sft, grpo = records[0], records[-1]
    results = {"timings": timings, "sft_losses": losses, "config": config.model_dump(mode="json")}
    for name, rec in [("base", base), ("sft", {k.removeprefix("eval_"): v for k, v in sft.items()}),
                      ("grpo", {k.removeprefix("eval_"): v for k, v in grpo.items()})]:  # fmt: skip
        k, n = sum(rec["successes"]), rec["episodes"]
        results[name] = {"successes": k, "episodes": n, "rate": k / n, "wilson95": wilson(k, n),
                         "per_task": rec["successes"]}  # fmt: skip
    gained, lost, p = mcnemar_exact(results["sft"]["per_task"], results["grpo"]["per_task"])
    results["grpo_vs_sft"] = {"gained": gained, "lost": lost, "mcnemar_p": p}
    (out / "results.json").write_text(json.dumps(results, indent=1))
    shutil.copy(work / "grpo" / "metrics.jsonl", out / "grpo_metrics.jsonl")
    plot(results, out / "learning.png")
    for name in ["base", "sft", "grpo"]:
        r = results[name]
        lo, hi = r["wilson95"]
        print(f"{name:5s} success {r['successes']:3d}/{r['episodes']} = {r['rate']:.3f} "
              f"(95% CI {lo:.3f}-{hi:.3f})")  # fmt: skip
    verdict = "no significant difference at 5%"
    if p < 0.05:
        verdict = f"GRPO significantly {'better' if gained > lost else 'worse'} at 5%"
    print(
        f"GRPO vs SFT on the same tasks: +{gained} -{lost}, exact McNemar p = {p:.4f} ({verdict})"
    )
    print("timings: " + ", ".join(f"{k} {v:.0f}" for k, v in timings.items()))


def plot(results: dict, png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = ["base", "sft", "grpo"]
    rates = [results[n]["rate"] for n in names]
    errors = [[r - results[n]["wilson95"][0] for n, r in zip(names, rates, strict=True)],
              [results[n]["wilson95"][1] - r for n, r in zip(names, rates, strict=True)]]  # fmt: skip
    fig, ax = plt.subplots(figsize=(4.5, 3.2))
    ax.bar(["base", "SFT", "SFT+GRPO"], rates, yerr=errors, capsize=6)
    ax.set_ylabel("held-out success (95% CI)")
    ax.set_ylim(0, 1)
    ax.set_title(f"TripBooking-v0 easy, {results['grpo']['episodes']} test tasks")
    fig.tight_layout()
    fig.savefig(png, dpi=100)
    plt.close(fig)


if __name__ == "__main__":
    main()
