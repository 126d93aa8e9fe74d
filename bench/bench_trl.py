"""TRL's GRPOTrainer vs llmgym's GRPO loop: seconds/step and tokens/s on the same work.

Same model, same single-turn prompts (chat-templated), same reward function, group size,
prompts per step, completion length, loss (DAPO, beta 0) and learning rate; our trainer runs
with the transformers engine and, when installed, vLLM. Medians exclude the first (warm-up)
step. Run:

    OMP_WAIT_POLICY=PASSIVE python bench/bench_trl.py --steps 5 --threads 2
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time

CITIES = ["Boston", "Chicago", "Denver", "Austin", "Seattle", "Miami", "Portland", "Dallas"]
PROMPT = (
    "Call the get_weather tool for {city}. Answer with exactly one line: "
    '<tool_call>{{"name": "get_weather", "arguments": {{"city": "{city}"}}}}</tool_call>'
)


def reward_text(prompt: str, completion: str) -> float:
    """1 for a tool-call tag, +1 if the prompt's city is named (shared by both trainers)."""
    city = next((c for c in CITIES if c in prompt), "")
    return float("<tool_call>" in completion) + float(bool(city) and city in completion)


def prompt_messages(i: int) -> list[dict[str, str]]:
    return [{"role": "user", "content": PROMPT.format(city=CITIES[i % len(CITIES)])}]


def median_after_warmup(values: list[float]) -> float:
    return statistics.median(values[1:] if len(values) > 1 else values)


def run_trl(args, model_path: str) -> tuple[float, float]:
    """TRL 1.16 GRPOTrainer on CPU; returns (seconds/step, completion tokens/s).

    Precision as ours (``train_dtype="auto"``): bfloat16 autocast only where the CPU multiplies
    bfloat16 natively. TRL's own default, ``bf16=True``, autocasts every matmul to bfloat16,
    which an AVX2-only CPU runs through a scalar fallback: measured on this project's machine
    (2026-12-04), 141 s for a step that takes 13 s in float32.
    """
    from datasets import Dataset
    from transformers import TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    from llmgym.engines.base import fast_dtype

    def reward_fn(prompts, completions, **_):
        texts = [c[-1]["content"] if isinstance(c, list) else c for c in completions]
        return [reward_text(p[-1]["content"], t) for p, t in zip(prompts, texts, strict=True)]

    class StepTimer(TrainerCallback):
        def __init__(self):
            self.times, self.last = [], None

        def on_step_begin(self, *_, **__):
            self.last = time.perf_counter()

        def on_step_end(self, *_, **__):
            self.times.append(time.perf_counter() - self.last)

    batch = args.prompts_per_step * args.group_size
    data = Dataset.from_list([{"prompt": prompt_messages(i)} for i in range(batch * args.steps)])
    config = GRPOConfig(
        output_dir=tempfile.mkdtemp(prefix="trl-bench-"),
        per_device_train_batch_size=batch,
        num_generations=args.group_size,
        max_completion_length=args.max_new_tokens,
        max_steps=args.steps,
        learning_rate=args.lr,
        loss_type="dapo",
        beta=0.0,
        temperature=1.0,
        use_cpu=True,
        bf16=fast_dtype("cpu") == "bfloat16",  # TRL's default (True) autocasts: see run_trl
        report_to="none",
        logging_steps=1,
        save_strategy="no",
        seed=0,
    )
    timer = StepTimer()
    trainer = GRPOTrainer(
        model=model_path, reward_funcs=reward_fn, args=config, train_dataset=data,
        callbacks=[timer],
    )  # fmt: skip
    trainer.train()
    lengths = [h["completions/mean_length"] for h in trainer.state.log_history if "completions/mean_length" in h]  # fmt: skip
    step_s = median_after_warmup(timer.times)
    tokens = statistics.median(lengths) * batch
    return step_s, tokens / step_s


def run_ours(args, model_path: str, engine_kind: str) -> tuple[float, float]:
    """llmgym's loop with the given engine; returns (seconds/step, completion tokens/s)."""
    from transformers import AutoTokenizer

    from llmgym.engines import SamplingParams, create_engine
    from llmgym.trainers.grpo.config import GRPOConfig
    from llmgym.trainers.grpo.loop import train
    from llmgym.trainers.grpo.single_turn import PromptTask, collect_single_turn
    from llmgym.trainers.policy import load_policy

    tokenizer = AutoTokenizer.from_pretrained(model_path)
    eos = tokenizer.convert_tokens_to_ids("<|im_end|>")

    def prompt_ids(i: int) -> tuple[int, ...]:
        ids = tokenizer.apply_chat_template(
            prompt_messages(i), add_generation_prompt=True, tokenize=True, return_dict=False
        )
        return tuple(ids)

    tasks = [PromptTask(str(i), prompt_ids(i)) for i in range(len(CITIES))]
    config = GRPOConfig(
        out=tempfile.mkdtemp(prefix=f"ours-{engine_kind}-"), steps=args.steps,
        group_size=args.group_size, groups_per_step=args.prompts_per_step,
        max_new_tokens=args.max_new_tokens, learning_rate=args.lr, loss="dapo",
        micro_batch_size=args.prompts_per_step * args.group_size, checkpoint_every=0,
        eval_every=0, engine=engine_kind,
    )  # fmt: skip
    engine = create_engine(engine_kind, model_path, max_context=1024, threads=args.threads)
    params = SamplingParams(max_tokens=args.max_new_tokens, temperature=1.0, stop_token_ids=(eos,))

    def reward(prompt_ids, completion_ids):
        return reward_text(tokenizer.decode(prompt_ids), tokenizer.decode(completion_ids))

    async def collect(step):
        chosen = [tasks[(step * config.groups_per_step + g) % len(tasks)] for g in range(config.groups_per_step)]  # fmt: skip
        return await collect_single_turn(
            engine, chosen, reward, group_size=config.group_size, params=params, step=step
        )

    async def main():
        policy = load_policy(model_path)
        try:
            return await train(config, policy, engine, collect, tokenizer=tokenizer)
        finally:
            await engine.close()

    records = asyncio.run(main())
    step_s = [r["gen_s"] + r["train_s"] + r["sync_s"] for r in records]
    tokens_s = [r["completion_tokens_mean"] * r["episodes"] / s for r, s in zip(records, step_s, strict=True)]  # fmt: skip
    print(f"  ours-{engine_kind} per step: " + ", ".join(
        f"gen {r['gen_s']:.1f}s train {r['train_s']:.1f}s sync {r['sync_s']:.2f}s" for r in records))  # fmt: skip
    return median_after_warmup(step_s), median_after_warmup(tokens_s)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model folder (default: bundled SmolLM2)")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--group-size", type=int, default=4)
    parser.add_argument("--prompts-per-step", type=int, default=2)
    parser.add_argument("--max-new-tokens", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-6)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--engines", default="hf,vllm", help="ours: comma list of hf, vllm")
    parser.add_argument("--skip-trl", action="store_true")
    args = parser.parse_args()

    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("VLLM_CPU_NUM_OF_RESERVED_CPU", "0")
    import torch

    from llmgym.models import resolve_model

    torch.set_num_threads(args.threads)
    model_path = resolve_model(args.model)
    print(
        f"model {model_path}; {args.prompts_per_step} prompts x {args.group_size} completions "
        f"x <= {args.max_new_tokens} tokens, {args.steps} steps, {args.threads} threads"
    )
    results = {}
    if not args.skip_trl:
        results["trl-1.16 (transformers generate)"] = run_trl(args, model_path)
    for kind in [k for k in args.engines.split(",") if k]:
        if kind == "vllm":
            try:
                import vllm  # noqa: F401
            except ImportError:
                print("  vllm not installed: skipping ours-vllm")
                continue
        results[f"llmgym ({kind} engine)"] = run_ours(args, model_path, kind)
    print(f"\n{'trainer':36s} {'s/step':>8s} {'tok/s':>8s} {'vs TRL':>8s}")
    reference = next(iter(results.values()))[0]
    for name, (step_s, tokens_s) in results.items():
        print(f"{name:36s} {step_s:8.2f} {tokens_s:8.1f} {reference / step_s:7.2f}x")


if __name__ == "__main__":
    main()
