"""Environment step throughput with the scripted expert, against Gymnasium's CartPole-v1.

Prints steps/s (median of several runs) for each bundled environment next to a plain
CartPole-v1 step loop measured in the same run, and the ratios, with and without the time
spent in ``reset`` and in the expert's choice. Also times ``import llmgym``
beside ``import gymnasium`` in fresh interpreters.

    python bench/bench_env_step.py [--runs 5] [--steps 3000] [--env llmgym/TripBooking-v0 ...]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

import gymnasium as gym

import llmgym


def cartpole_steps_per_s(steps: int) -> float:
    env = gym.make("CartPole-v1")
    env.reset(seed=0)
    env.action_space.seed(0)
    start = time.perf_counter()
    for _ in range(steps):
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        if terminated or truncated:
            env.reset()
    return steps / (time.perf_counter() - start)


def expert_steps_per_s(env_id: str, steps: int) -> tuple[float, float, float]:
    """Expert episodes on train tasks of every level: (steps/s with reset and the expert's
    choice included, steps/s of ``step()`` alone, mean episode reward)."""
    env = gym.make(env_id)
    unwrapped = env.unwrapped
    done = episode = 0
    stepping = 0.0
    rewards = []
    start = time.perf_counter()
    while done < steps:
        env.reset(seed=episode)
        episode += 1
        while True:
            action = unwrapped.expert_action()
            t0 = time.perf_counter()
            _, reward, terminated, truncated, _ = env.step(action)
            stepping += time.perf_counter() - t0
            done += 1
            if terminated or truncated:
                rewards.append(reward)
                break
    elapsed = time.perf_counter() - start
    env.close()
    return done / elapsed, done / stepping, statistics.mean(rewards)


def import_seconds(module: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        out = subprocess.run(
            [
                sys.executable,
                "-c",
                f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        times.append(float(out.stdout))
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument(
        "--env", nargs="*", default=None, help="ids (default: every registered one except BugFix)"
    )
    args = parser.parse_args()
    env_ids = args.env or [i for i in sorted(llmgym.registered()) if "BugFix" not in i]

    cart = statistics.median(cartpole_steps_per_s(args.steps * 10) for _ in range(args.runs))
    print(
        f"{'environment':<24} {'steps/s':>10} {'ratio':>8} {'step() only':>12} {'ratio':>8} {'reward':>7}"
    )
    print(
        f"{'CartPole-v1 (reference)':<24} {cart:>10,.0f} {1.0:>8.4f} {cart:>12,.0f} {1.0:>8.4f} {'':>7}"
    )
    for env_id in env_ids:
        runs = [expert_steps_per_s(env_id, args.steps) for _ in range(args.runs)]
        whole, step_only = (
            statistics.median(r[0] for r in runs),
            statistics.median(r[1] for r in runs),
        )
        reward = statistics.mean(r[2] for r in runs)
        print(
            f"{env_id:<24} {whole:>10,.0f} {whole / cart:>8.4f} {step_only:>12,.0f} {step_only / cart:>8.4f} {reward:>7.3f}"
        )
    print(
        "(steps/s: whole expert episodes, reset and the expert's choice included; medians of "
        f"{args.runs} runs of {args.steps} steps; reward: the expert's mean)"
    )

    gym_s = import_seconds("gymnasium", args.runs)
    ours = import_seconds("llmgym", args.runs)
    print(
        f"\nimport gymnasium: {gym_s * 1000:.0f} ms; import llmgym: {ours * 1000:.0f} ms "
        f"(ratio {ours / gym_s:.2f}; llmgym imports gymnasium and pydantic, median of {args.runs})"
    )


if __name__ == "__main__":
    main()
