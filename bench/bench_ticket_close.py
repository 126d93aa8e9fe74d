"""TicketClose-v0 expert throughput against a plain Gymnasium CartPole-v1 step loop.

Prints expert steps/s (median of several runs, whole episodes with reset time included, train
tasks of every level drawn from the seed), the same with reset time excluded, and CartPole-v1's
steps/s measured in the same run, with the ratios.

    OMP_WAIT_POLICY=PASSIVE python bench/bench_ticket_close.py [--runs 5] [--steps 3000]
"""

from __future__ import annotations

import argparse
import statistics
import time

import gymnasium as gym

from llmgym.environments.ticket_close.env import TicketCloseEnv


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


def expert_steps_per_s(steps: int) -> tuple[float, float, float]:
    """(steps/s with resets, steps/s of step() alone, mean reward) over whole expert episodes."""
    env = TicketCloseEnv()
    done = episode = 0
    stepping = 0.0
    rewards = []
    start = time.perf_counter()
    while done < steps:
        env.reset(seed=episode)
        episode += 1
        while True:
            action = env.expert_action()
            t0 = time.perf_counter()
            _, reward, terminated, truncated, _ = env.step(action)
            stepping += time.perf_counter() - t0
            done += 1
            if terminated or truncated:
                rewards.append(reward)
                break
    elapsed = time.perf_counter() - start
    env.close()
    return done / elapsed, done / stepping, sum(rewards) / len(rewards)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per measurement (median)")
    parser.add_argument("--steps", type=int, default=3000, help="steps per run")
    args = parser.parse_args()
    expert = [expert_steps_per_s(args.steps) for _ in range(args.runs)]
    cartpole = [cartpole_steps_per_s(args.steps * 10) for _ in range(args.runs)]
    with_reset = statistics.median(e[0] for e in expert)
    step_only = statistics.median(e[1] for e in expert)
    pole = statistics.median(cartpole)
    print(f"runs={args.runs} steps/run={args.steps}")
    print(f"TicketClose-v0 expert, incl. reset + expert:{with_reset:10.0f} steps/s")
    print(f"TicketClose-v0 expert, step() only:          {step_only:10.0f} steps/s")
    print(f"CartPole-v1 random actions:                  {pole:10.0f} steps/s")
    print(
        f"ratio TicketClose/CartPole: {with_reset / pole:.4f} (incl. reset), "
        f"{step_only / pole:.4f} (step only)"
    )
    print(f"expert mean reward over the runs: {statistics.mean(e[2] for e in expert):.3f}")


if __name__ == "__main__":
    main()
