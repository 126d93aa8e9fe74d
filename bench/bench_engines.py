"""Engine throughput through the collector on TripBooking against the raw batched engine.

For each engine (vLLM, transformers): play ``--episodes`` TripBooking test episodes with
the SmolLM2 default model through the rollout collector (recording every request), then
send the very same prompts to the same engine all at once, with each request's
``max_tokens`` set to what the collector's request generated. Reports generated tokens/s
for both and their ratio (target >= 0.9), then vLLM vs transformers through the collector.
A second baseline sends the same prompts in turn waves (turn k of every episode at once,
waves in sequence): the best a multi-turn collector can do, since turn k+1 needs turn k.

    python bench/bench_engines.py [--engines vllm hf] [--episodes 8] [--max-turns 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", str(len(os.sched_getaffinity(0))))
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("VLLM_CPU_NUM_OF_RESERVED_CPU", "0")

ENV_ID = "llmgym/TripBooking-v0"


class RecordingEngine:
    """Passes requests through to ``inner`` and remembers (prompt, tokens generated)."""

    def __init__(self, inner):
        self.inner = inner
        self.requests: list[tuple[list[int], int]] = []

    async def generate(self, prompt_token_ids, params):
        completion = await self.inner.generate(prompt_token_ids, params)
        self.requests.append((list(prompt_token_ids), len(completion.token_ids)))
        return completion

    @property
    def model_version(self):
        return self.inner.model_version

    async def load_weights(self, weights, *, version):
        await self.inner.load_weights(weights, version=version)

    async def close(self):
        pass


async def reset_cache(engine) -> None:
    if hasattr(engine, "reset_prefix_cache"):
        await engine.reset_prefix_cache()


async def measure(kind: str, args, tokenizer, tasks) -> dict[str, float]:
    import dataclasses

    from llmgym.engines import create_engine
    from llmgym.engines.base import SamplingParams
    from llmgym.rollout import EpisodeSpec, RolloutCollector, RolloutConfig

    started = time.perf_counter()
    engine = create_engine(kind, None, max_context=args.max_context)
    start_s = time.perf_counter() - started
    sampling = SamplingParams(max_tokens=args.max_tokens, temperature=1.0, seed=0)
    config = RolloutConfig(
        sampling=sampling,
        concurrency=len(tasks),
        max_context_tokens=args.max_context,
        env_kwargs={"max_turns": args.max_turns},
    )
    try:
        # Warm-up (first-call costs) on one short request.
        await engine.generate(
            tokenizer("hello")["input_ids"], dataclasses.replace(sampling, max_tokens=4)
        )
        await reset_cache(engine)
        recorder = RecordingEngine(engine)
        collector = RolloutCollector(recorder, tokenizer, config)
        specs = [EpisodeSpec(ENV_ID, seed, options) for options, seed in tasks]
        t0 = time.perf_counter()
        trajectories = await collector.collect(specs)
        collector_s = time.perf_counter() - t0
        generated = sum(t.num_sampled_tokens for t in trajectories)
        assert not [t.error for t in trajectories if t.error], "episodes failed"

        # Same prompts, all at once, same number of new tokens each (eos may end one early),
        # from a cold prefix cache like the collector's run.
        await reset_cache(engine)
        t0 = time.perf_counter()
        raw = await asyncio.gather(
            *(
                engine.generate(prompt, dataclasses.replace(sampling, max_tokens=n, seed=i))
                for i, (prompt, n) in enumerate(recorder.requests)
                if n > 0
            )
        )
        raw_s = time.perf_counter() - t0
        raw_generated = sum(len(c.token_ids) for c in raw)

        # Same prompts in waves: turn k of every episode together, waves one after another.
        # This is what a zero-overhead multi-turn collector could do (turn k+1 needs turn k).
        await reset_cache(engine)
        waves: dict[int, list[tuple[list[int], int]]] = {}
        for t in trajectories:
            for k, turn in enumerate(t.turns):
                n = turn.completion_end - turn.completion_start
                if n > 0:
                    waves.setdefault(k, []).append((t.tokens[: turn.completion_start], n))
        t0 = time.perf_counter()
        waved_generated = 0
        for k in sorted(waves):
            done = await asyncio.gather(
                *(
                    engine.generate(prompt, dataclasses.replace(sampling, max_tokens=n, seed=i))
                    for i, (prompt, n) in enumerate(waves[k])
                )
            )
            waved_generated += sum(len(c.token_ids) for c in done)
        waved_s = time.perf_counter() - t0
    finally:
        await engine.close()
    return {
        "start_s": start_s,
        "requests": len(recorder.requests),
        "prompt_tokens": sum(len(p) for p, _ in recorder.requests),
        "collector_tok_s": generated / collector_s,
        "collector_s": collector_s,
        "generated": generated,
        "raw_tok_s": raw_generated / raw_s,
        "raw_s": raw_s,
        "raw_generated": raw_generated,
        "waved_tok_s": waved_generated / waved_s,
        "waved_s": waved_s,
    }


def main() -> None:
    import gymnasium as gym
    from transformers import AutoTokenizer

    import llmgym  # noqa: F401
    from llmgym.models import resolve_model

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", nargs="+", default=["vllm", "hf"])
    parser.add_argument("--episodes", type=int, default=8)
    parser.add_argument("--max-turns", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--max-context", type=int, default=4096)
    args = parser.parse_args()

    tokenizer = AutoTokenizer.from_pretrained(resolve_model(None))
    env = gym.make(ENV_ID)
    ids = env.unwrapped.task_ids("test")[: args.episodes]
    env.close()
    tasks = [({"task_id": task_id}, i) for i, task_id in enumerate(ids)]
    print(
        f"{len(tasks)} TripBooking episodes, <= {args.max_turns} turns, <= {args.max_tokens} "
        f"new tokens a turn, temperature 1, SmolLM2-135M, {os.environ['OMP_NUM_THREADS']} threads"
    )
    results = {}
    for kind in args.engines:
        r = asyncio.run(measure(kind, args, tokenizer, tasks))
        results[kind] = r
        print(
            f"{kind:>5}: start {r['start_s']:.1f} s | {r['requests']} requests, "
            f"{r['prompt_tokens']} prompt tokens | collector {r['collector_tok_s']:.1f} tok/s "
            f"({r['generated']} in {r['collector_s']:.1f} s) | raw batched {r['raw_tok_s']:.1f} "
            f"tok/s ({r['raw_generated']} in {r['raw_s']:.1f} s) | ratio "
            f"{r['collector_tok_s'] / r['raw_tok_s']:.2f} | raw in turn waves "
            f"{r['waved_tok_s']:.1f} tok/s ({r['waved_s']:.1f} s), collector/waves "
            f"{r['collector_tok_s'] / r['waved_tok_s']:.2f}",
            flush=True,
        )
    if "vllm" in results and "hf" in results:
        ratio = results["vllm"]["collector_tok_s"] / results["hf"]["collector_tok_s"]
        print(f"vLLM / transformers through the collector: {ratio:.2f}x")


if __name__ == "__main__":
    main()
