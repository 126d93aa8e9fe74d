"""Multi-turn GRPO: TRL's GRPOTrainer with llmgym's adapter vs ``llmgym train``, s/step.

Same env (TripBooking-v0, easy train tasks, the same task seeds in the same order), same
model (default SmolLM2-135M, full fine-tuning, float32 training), same group size, tasks
per step, per-turn and per-episode token budgets, loss (DAPO, beta 0), learning rate and
temperature. TRL generates through ``EpisodeRollout`` (llmgym's transformers engine on
TRL's fp32 policy); ours with its own engine (hf: a copy in bfloat16 only where the CPU
multiplies it natively, else float32, weights synced after each step; vllm optional).
Zero-variance filtering is off in ours so both train every step. Medians exclude the first
(warm-up) step. Run:

    OMP_WAIT_POLICY=PASSIVE python bench/bench_trl_multiturn.py --steps 3 --threads 1
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time

ENV_ID = "llmgym/TripBooking-v0"
OPTIONS = {"difficulty": "easy"}


def median_after_warmup(values: list[float]) -> float:
    return statistics.median(values[1:] if len(values) > 1 else values)


def run_trl(args, model_path: str) -> dict[str, float]:
    """TRL 1.16 GRPOTrainer + EpisodeRollout; per-step medians. Precision as ours: bfloat16
    only where the CPU multiplies it natively (TRL's default ``bf16=True`` would autocast to a
    scalar fallback on an AVX2-only CPU; see ``bench_trl.run_trl``)."""
    from transformers import AutoTokenizer, TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    from llmgym.engines.base import fast_dtype
    from llmgym.integrations.trl import (
        EpisodeRollout,
        RolloutOptions,
        build_dataset,
        episode_reward,
    )

    class TimedRollout(EpisodeRollout):
        def __init__(self, *a, **k):
            super().__init__(*a, **k)
            self.gen_s, self.tokens, self.turns = [], [], []

        def __call__(self, prompts, trainer):
            start = time.perf_counter()
            out = super().__call__(prompts, trainer)
            self.gen_s.append(time.perf_counter() - start)
            self.tokens.append(sum(t.num_sampled_tokens for t in self.last_trajectories))
            self.turns.append(statistics.fmean(t.num_turns for t in self.last_trajectories))
            return out

    class StepTimer(TrainerCallback):
        def __init__(self):
            self.times, self.last = [], 0.0

        def on_step_begin(self, *_, **__):
            self.last = time.perf_counter()

        def on_step_end(self, *_, **__):
            self.times.append(time.perf_counter() - self.last)

    tokenizer = AutoTokenizer.from_pretrained(model_path, padding_side="left")
    dataset = build_dataset(
        ENV_ID, "train", num_tasks=args.groups_per_step * args.steps, options=OPTIONS
    )
    rollout = TimedRollout(
        dataset,
        RolloutOptions(
            max_episode_tokens=args.max_episode_tokens, max_turn_tokens=args.max_new_tokens
        ),
    )
    config = GRPOConfig(
        output_dir=tempfile.mkdtemp(prefix="trl-multiturn-"),
        per_device_train_batch_size=args.groups_per_step * args.group_size,
        num_generations=args.group_size,
        max_completion_length=args.max_new_tokens,
        max_steps=args.steps,
        learning_rate=args.lr,
        loss_type="dapo",
        beta=0.0,
        temperature=1.0,
        shuffle_dataset=False,  # tasks in the order `llmgym train` plays them
        use_cpu=True,
        bf16=fast_dtype("cpu") == "bfloat16",  # TRL's default (True) autocasts: see run_trl
        report_to="none",
        logging_steps=1,
        save_strategy="no",
        seed=0,
    )
    timer = StepTimer()
    trainer = GRPOTrainer(
        model=model_path, reward_funcs=episode_reward, args=config, train_dataset=dataset,
        processing_class=tokenizer, rollout_func=rollout, callbacks=[timer],
    )  # fmt: skip
    trainer.train()
    train_s = [s - g for s, g in zip(timer.times, rollout.gen_s, strict=True)]
    print("  trl per step: " + ", ".join(
        f"gen {g:.1f}s train {t:.1f}s ({n} tok, {k:.1f} turns)"
        for g, t, n, k in zip(rollout.gen_s, train_s, rollout.tokens, rollout.turns, strict=True)))  # fmt: skip
    return summary(timer.times, rollout.gen_s, train_s, rollout.tokens, rollout.turns)


def run_ours(args, engine: str) -> dict[str, float]:
    """``llmgym train`` (train_on_env) with the same settings; per-step medians."""
    from llmgym.trainers.grpo.config import GRPOConfig
    from llmgym.trainers.grpo.run import train_on_env

    config = GRPOConfig(
        env_id=ENV_ID, env_options=OPTIONS, engine=engine,
        out=tempfile.mkdtemp(prefix=f"ours-multiturn-{engine}-"), steps=args.steps,
        group_size=args.group_size, groups_per_step=args.groups_per_step,
        max_new_tokens=args.max_new_tokens, max_trajectory_tokens=args.max_episode_tokens,
        learning_rate=args.lr, loss="dapo", filter_zero_variance=False, train_dtype="float32",
        micro_batch_size=args.groups_per_step * args.group_size, torch_threads=args.threads,
        eval_every=0, checkpoint_every=0,
    )  # fmt: skip
    records = asyncio.run(train_on_env(config))
    step_s = [r["gen_s"] + r["train_s"] + r["sync_s"] for r in records]
    train_s = [r["train_s"] + r["sync_s"] for r in records]
    tokens = [r["completion_tokens_mean"] * r["episodes"] for r in records]
    turns = [r["turns_mean"] for r in records]
    print(f"  ours-{engine} per step: " + ", ".join(
        f"gen {r['gen_s']:.1f}s train {r['train_s']:.1f}s sync {r['sync_s']:.2f}s "
        f"({n:.0f} tok, {k:.1f} turns)" for r, n, k in zip(records, tokens, turns, strict=True)))  # fmt: skip
    return summary(step_s, [r["gen_s"] for r in records], train_s, tokens, turns)


def summary(step_s, gen_s, train_s, tokens, turns) -> dict[str, float]:
    return {
        "s/step": median_after_warmup(step_s),
        "gen s": median_after_warmup(gen_s),
        "train s": median_after_warmup(train_s),
        "tok/s": median_after_warmup([n / s for n, s in zip(tokens, step_s, strict=True)]),
        "turns": median_after_warmup(turns),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--group-size", type=int, default=2)
    parser.add_argument("--groups-per-step", type=int, default=1)
    parser.add_argument("--max-new-tokens", type=int, default=32, help="per turn")
    parser.add_argument(
        "--max-episode-tokens", type=int, default=1300, help="prompt (~960) + 3 turns"
    )
    parser.add_argument("--lr", type=float, default=1e-6)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--engines", default="hf", help="ours: comma list of hf, vllm")
    parser.add_argument("--skip-trl", action="store_true")
    args = parser.parse_args()

    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("VLLM_CPU_NUM_OF_RESERVED_CPU", "0")
    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
    import torch

    import llmgym  # noqa: F401  (registers the ids)
    from llmgym.models import resolve_model

    torch.set_num_threads(args.threads)
    model_path = resolve_model(None)
    print(
        f"{ENV_ID} easy, model {model_path}; {args.groups_per_step} task(s) x {args.group_size} "
        f"episodes, <= {args.max_new_tokens} tokens/turn, <= {args.max_episode_tokens} "
        f"tokens/episode, {args.steps} steps, {args.threads} thread(s)"
    )
    results = {}
    if not args.skip_trl:
        results["trl-1.16 + llmgym adapter"] = run_trl(args, model_path)
    for kind in [k for k in args.engines.split(",") if k]:
        results[f"llmgym train ({kind} engine)"] = run_ours(args, kind)
    columns = ["s/step", "gen s", "train s", "tok/s", "turns"]
    print(f"\n{'trainer':30s} " + " ".join(f"{c:>8s}" for c in columns) + f" {'vs TRL':>8s}")
    reference = next(iter(results.values()))["s/step"]
    for name, row in results.items():
        cells = " ".join(f"{row[c]:8.2f}" for c in columns)
        print(f"{name:30s} {cells} {reference / row['s/step']:7.2f}x")


if __name__ == "__main__":
    main()
