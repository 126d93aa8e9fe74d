"""Cost of one GRPO training step with and without the shared-prefix forward.

Builds a batch of real TripBooking episodes (tokenized exactly as the rollout collector records
them: system prompt with tool schemas, tool results, assistant turns) and times ``train_step``
on the default model with ``share_prefix`` on and off, alternating, from the same weights.
Prints the median seconds per step and per trajectory of each and their ratio, and checks that
both give the same loss.

With ``--group-size 1`` every episode is the scripted expert's on its own task: the rows share
only the system prompt. With ``--group-size G`` the batch is made of GRPO groups: G episodes of
each task that play the expert's first turns alike and then each book a different flight of
the search results (and submit), as sampled episodes of a group do.

    OMP_WAIT_POLICY=PASSIVE python bench/bench_train_step.py --trajectories 8 --repeats 3
    OMP_WAIT_POLICY=PASSIVE python bench/bench_train_step.py --trajectories 12 --group-size 6

``--trainable-layers K`` also times the shared-prefix step with only the top K decoder layers
trained (``GRPOConfig.trainable_layers``): a recipe change, not the same update, so its
loss is the same but its gradient is not; its effect on learning is measured separately.

It also measures this machine's matmul peak (float32 and bfloat16, 1024x1024 GEMMs, the
same threads) and prints the update's achieved FLOP/s against it: about 6 x parameters x
tokens run (forward 2 x parameters, backward 4 x trained parameters), so the distance to the physical limit is visible.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any


def group_conversations(tasks: int, group_size: int, seed: int = 0) -> list[list[dict[str, Any]]]:
    """``group_size`` episodes of each of ``tasks`` easy train tasks, parting at the booking."""
    import gymnasium as gym

    import llmgym  # noqa: F401  (registers the ids)
    from llmgym.parsing import format_tool_call, parse_text
    from llmgym.trainers.sft import play_conversation

    conversations = []
    with gym.make("llmgym/TripBooking-v0") as env:
        trip = env.unwrapped

        def books(k: int):  # the expert, except that it books flight k of the route, then submits
            booked = False

            def policy() -> str:
                nonlocal booked
                action = trip.expert_action()  # type: ignore[attr-defined]
                call = parse_text(action).tool_calls[0]
                if booked:
                    return format_tool_call("submit")
                if call.name != "book_flight":
                    return action
                flights = trip.world.flights  # type: ignore[attr-defined]
                best = flights[call.arguments["flight_id"]]
                route = (best.origin, best.destination, best.date)
                options = sorted(
                    f.flight_id
                    for f in flights.values()
                    if (f.origin, f.destination, f.date) == route
                )
                booked = True
                return format_tool_call(
                    "book_flight", **call.arguments | {"flight_id": options[k % len(options)]}
                )

            return policy

        for task in range(tasks):
            train = {"split": "train", "difficulty": "easy"}
            conversations += [
                play_conversation(env, books(k), seed=seed + task, options=train)
                for k in range(group_size)
            ]
    return conversations


def matmul_gflops(dtype: Any, size: int = 1024, repeats: int = 5) -> float:
    """GFLOP/s of a square GEMM in ``dtype`` (median of ``repeats``): the machine's peak."""
    import torch

    a, b = torch.randn(size, size, dtype=dtype), torch.randn(size, size, dtype=dtype)
    a @ b  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - t0)
    return 2 * size**3 / statistics.median(times) / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trajectories", type=int, default=8, help="episodes in the batch")
    parser.add_argument("--repeats", type=int, default=3, help="timed steps of each kind")
    parser.add_argument("--micro-batch-size", type=int, default=1)
    parser.add_argument("--group-size", type=int, default=1, help="episodes per task (G)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--trainable-layers", type=int, default=8,
        help="also time the shared-prefix step training only the top this many layers "
        "(the recipe change GRPOConfig.trainable_layers; 0: skip)",
    )  # fmt: skip
    parser.add_argument(
        "--train-dtype", default="auto", choices=["auto", "float32", "bfloat16"],
        help="autocast dtype of the step (auto: bfloat16 only where the CPU has it natively)",
    )  # fmt: skip
    args = parser.parse_args()

    import torch
    from transformers import AutoTokenizer

    from llmgym.models import resolve_model
    from llmgym.trainers.grpo.config import GRPOConfig
    from llmgym.trainers.grpo.step import build_batch, train_step
    from llmgym.trainers.policy import load_policy, plan_shared_prefixes
    from llmgym.trainers.sft import expert_conversations, tokenize_conversation
    from llmgym.trajectory import Trajectory

    torch.set_num_threads(args.threads)
    peaks = {name: matmul_gflops(getattr(torch, name)) for name in ("float32", "bfloat16")}
    print("matmul peak: " + ", ".join(f"{k} {v:.1f} GFLOP/s" for k, v in peaks.items()))
    path = resolve_model(None)
    tokenizer = AutoTokenizer.from_pretrained(path)
    if args.group_size > 1:
        conversations = group_conversations(args.trajectories // args.group_size, args.group_size)
    else:
        conversations = expert_conversations(
            "llmgym/TripBooking-v0", args.trajectories, seed=0, options={"difficulty": "easy"}
        )
    trajectories = []
    for i, messages in enumerate(conversations):
        example = tokenize_conversation(tokenizer, messages)
        logprobs = [-0.5 if m else None for m in example.loss_mask]  # stand-in sampler values
        trajectories.append(Trajectory(env_id="llmgym/TripBooking-v0", task_id=f"t{i}",
                                       tokens=example.tokens, loss_mask=example.loss_mask,
                                       logprobs=logprobs, reward=float(i % 2)))  # fmt: skip
    advantages = torch.tensor([1.0 if i % 2 else -1.0 for i in range(len(trajectories))])
    batch = build_batch(trajectories, advantages, max_length=4096)
    lengths = batch.attention_mask.sum(-1).tolist()
    plan = plan_shared_prefixes(batch.tokens, batch.attention_mask)
    run = sum(g.length + sum(lengths[r] - g.length for r in g.rows) for g in plan)
    print(f"{len(trajectories)} trajectories of {min(lengths)}-{max(lengths)} tokens "
          f"(mean {statistics.mean(lengths):.0f}, {sum(lengths)} in all), "
          f"{int(batch.loss_mask.sum())} trained; shared prefixes of "
          f"{[g.length for g in plan if g.length]} tokens leave {run} to run")  # fmt: skip

    # (label, share_prefix, trainable_layers): the same update twice, then the recipe change
    variants = [("whole rows", False, 0), ("shared prefix", True, 0)]
    if args.trainable_layers:
        variants.append((f"+ top {args.trainable_layers} layers", True, args.trainable_layers))
    models = {k: load_policy(path, trainable_layers=k) for k in {v[2] for v in variants}}
    start_state = {k: v.clone() for k, v in models[0].state_dict().items()}
    times: dict[str, list[float]] = {label: [] for label, _, _ in variants}
    losses: dict[str, float] = {}
    for _ in range(args.repeats):
        for label, share, layers in variants:
            model = models[layers]
            model.load_state_dict(start_state)
            optimizer = torch.optim.SGD(model.parameters(), lr=0.0)  # time the step, keep weights
            config = GRPOConfig(micro_batch_size=args.micro_batch_size, share_prefix=share,
                                max_trajectory_tokens=4096, train_dtype=args.train_dtype)  # fmt: skip
            t0 = time.perf_counter()
            stats = train_step(model, optimizer, batch, config)
            times[label].append(time.perf_counter() - t0)
            losses[label] = stats.loss
    n = len(trajectories)
    dtype = "bfloat16" if config.autocast_dtype is not None else "float32"
    reference = statistics.median(times["whole rows"])
    for label, share, layers in variants:
        model = models[layers]
        params = sum(p.numel() for p in model.parameters())
        trained = sum(p.numel() for p in model.parameters() if p.requires_grad)
        median = statistics.median(times[label])
        # forward 2 x parameters, backward 4 x the trained ones (input and weight gradients)
        flops = (2 * params + 4 * trained) * (run if share else sum(lengths)) / median / 1e9
        print(f"{label:20s} {median:7.1f} s/step  {median / n:5.2f} s/trajectory  "
              f"{reference / median:4.2f}x  loss {losses[label]:.6f}  ~{flops:.1f} GFLOP/s "
              f"({flops / peaks[dtype]:.0%} of the {dtype} matmul peak)")  # fmt: skip
    print(
        f"shared prefix: the same update {reference / statistics.median(times['shared prefix']):.2f}x "
        f"faster (medians of {args.repeats}); loss difference "
        f"{abs(losses['shared prefix'] - losses['whole rows']):.2e} ({dtype})"
    )


if __name__ == "__main__":
    main()
