"""What a flight choice is worth on TripBooking's easy evaluation tasks, without a model.

Plays the scripted expert up to its flight search on each of the first ``--tasks`` easy test
tasks (the main job's held-out tasks), then scores simple ways of choosing from the listed
flights against the task's own constraint check (``goals.flight_fits``, what the verifier
uses): at random (expected value), the first listed, the first nonstop, the cheapest nonstop,
the cheapest. A policy that does every other step right succeeds exactly when its flight
fits, so these are the success counts such policies would reach; a trained model that is no
better than "at random" has not learned the constraint check. Run:

    python bench/bench_flight_choice.py
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Callable
from typing import Any

Chooser = Callable[[list[dict[str, Any]], str], int | None]


def cheapest(flights: list[dict[str, Any]], cabin: str, keep: Callable[[dict], bool]) -> int | None:
    chosen = [i for i, f in enumerate(flights) if keep(f)]
    return min(chosen, key=lambda i: flights[i]["fares"][cabin]) if chosen else None


CHOOSERS: dict[str, Chooser] = {
    "first listed": lambda flights, cabin: 0,
    "first nonstop": lambda flights, cabin: next(
        (i for i, f in enumerate(flights) if f["stops"] == 0), None
    ),
    "cheapest nonstop": lambda flights, cabin: cheapest(flights, cabin, lambda f: f["stops"] == 0),
    "cheapest": lambda flights, cabin: cheapest(flights, cabin, lambda f: True),
}


def searched_flights(env: Any, task_id: str) -> list[dict[str, Any]]:
    """The flights the expert's search lists on ``task_id`` (played through ``step``)."""
    env.reset(options={"task_id": task_id})
    for _ in range(env.unwrapped.max_turns):
        obs, _, terminated, truncated, _ = env.step(env.unwrapped.expert_action())
        for message in obs:
            if message["role"] == "tool" and message["content"].startswith('[{"flight_id"'):
                flights: list[dict[str, Any]] = json.loads(message["content"])
                return flights
        if terminated or truncated:
            break
    raise RuntimeError(f"{task_id}: the expert never searched flights")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=40, help="first easy test tasks [40]")
    args = parser.parse_args()

    import gymnasium as gym

    import llmgym  # noqa: F401  (registers the ids)
    from llmgym.environments.trip_booking.goals import flight_fits
    from llmgym.environments.trip_booking.state import Flight

    env: Any = gym.make("llmgym/TripBooking-v0")
    easy = [
        task_id
        for task_id in env.unwrapped.task_ids("test")
        if env.reset(options={"task_id": task_id})[1]["difficulty"] == "easy"
    ][: args.tasks]
    successes: dict[str, float] = dict.fromkeys(["at random (expected)", *CHOOSERS], 0.0)
    valid: Counter[int] = Counter()
    constraints: Counter[str] = Counter()
    for task_id in easy:
        flights = searched_flights(env, task_id)
        slot = env.unwrapped.task.spec["goal"]["flights"][0]
        fits = [flight_fits(Flight(**f), slot) for f in flights]
        valid[sum(fits)] += 1
        for key in ("nonstop", "arrive_before", "depart_after", "max_price"):
            constraints[key] += bool(slot.get(key))
        successes["at random (expected)"] += sum(fits) / len(fits)
        for name, choose in CHOOSERS.items():
            i = choose(flights, slot["cabin"])
            successes[name] += i is not None and fits[i]
    n = len(easy)
    print(f"{n} easy test tasks of llmgym/TripBooking-v0; constraints: "
          + ", ".join(f"{k} {v}" for k, v in constraints.items()))  # fmt: skip
    print("valid flights per task: " + ", ".join(f"{k}: {v}" for k, v in sorted(valid.items())))
    print(f"\n{'choosing the flight':24s} {'successes':>10s}")
    for name, k in successes.items():
        print(f"{name:24s} {k:7.1f}/{n}")


if __name__ == "__main__":
    main()
