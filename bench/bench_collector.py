"""Collector efficiency: episodes/s with a fixed-latency scripted engine against the ideal.

The engine is the scripted TripBooking expert (``ExpertEngine``) answering every request
after ``--latency`` seconds. The ideal is a zero-overhead collector: episodes start in order as
slots free up, each lasting (its turns x latency). We report measured episodes/s,
the ideal, and their ratio (median of ``--repeats`` runs) at each concurrency, plus the
ideal-free overhead: CPU time per turn (collector and scripted engine together, one
process) and the episodes/s that CPU cost alone would allow on one free core.

    python bench/bench_collector.py [--episodes 128] [--latency 0.05] [--repeats 3]
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import os
import statistics
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

ENV_ID = "llmgym/TripBooking-v0"


async def one_run(tokenizer, tasks, concurrency: int, latency: float) -> tuple[float, float, int]:
    from llmgym.engines.scripted import ExpertEngine
    from llmgym.rollout import EpisodeSpec, RolloutCollector, RolloutConfig

    engine = ExpertEngine(ENV_ID, tokenizer, tasks, latency_s=latency)
    collector = RolloutCollector(engine, tokenizer, RolloutConfig(concurrency=concurrency))
    specs = [EpisodeSpec(ENV_ID, seed, options) for options, seed in tasks]
    started, cpu_started = time.perf_counter(), time.process_time()
    trajectories = await collector.collect(specs)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    assert all(t.reward == 1.0 for t in trajectories), "the expert must solve every task"
    return wall, cpu, [t.num_turns for t in trajectories]


def ideal_makespan(turns: list[int], concurrency: int, latency: float) -> float:
    """Wall time of a zero-overhead collector: episodes start in order as slots free up
    and each lasts (its turns x latency)."""
    slots = [0.0] * min(concurrency, len(turns))
    heapq.heapify(slots)
    for n in turns:
        heapq.heappush(slots, heapq.heappop(slots) + n * latency)
    return max(slots)


def main() -> None:
    import gymnasium as gym
    from transformers import AutoTokenizer

    import llmgym  # noqa: F401
    from llmgym.models import resolve_model

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=128)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per request")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 64])
    args = parser.parse_args()

    tokenizer = AutoTokenizer.from_pretrained(resolve_model(None))
    env = gym.make(ENV_ID)
    test_ids = env.unwrapped.task_ids("test")
    env.close()
    tasks = [({"task_id": test_ids[i % len(test_ids)]}, i) for i in range(args.episodes)]
    print(
        f"{args.episodes} TripBooking expert episodes, engine latency {args.latency * 1000:.0f} ms"
    )
    print(
        f"{'conc':>5} {'eps/s':>8} {'ideal':>8} {'ratio':>6} {'turns/ep':>9} "
        f"{'cpu ms/turn':>12} {'cpu-bound eps/s':>16}"
    )
    for concurrency in args.concurrency:
        # At concurrency 1 the run is long (N x turns x latency): fewer episodes suffice.
        subset = tasks if concurrency > 1 else tasks[: max(8, args.episodes // 8)]
        runs = [
            asyncio.run(one_run(tokenizer, subset, concurrency, args.latency))
            for _ in range(args.repeats)
        ]
        wall = statistics.median(r[0] for r in runs)
        cpu = statistics.median(r[1] for r in runs)
        episode_turns = runs[0][2]
        turns = sum(episode_turns)
        mean_turns = turns / len(subset)
        measured = len(subset) / wall
        ideal = len(subset) / ideal_makespan(episode_turns, concurrency, args.latency)
        print(
            f"{concurrency:>5} {measured:>8.2f} {ideal:>8.2f} {measured / ideal:>6.2f} "
            f"{mean_turns:>9.2f} {cpu / turns * 1000:>12.2f} {len(subset) / cpu:>16.1f}"
        )


if __name__ == "__main__":
    main()
