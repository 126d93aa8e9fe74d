"""What one held-out evaluation costs on vLLM-CPU, and what makes it cheaper.

The main job's two evaluations (40 greedy TripBooking episodes each, before and after GRPO)
were 24 of its 56 minutes in the recorded run. This plays the same greedy evaluation of ``--model``
under several variants, each in a fresh process, in alternating order (``--repeats`` rounds),
and prints each variant's median wall time and its ratio to ``default``, and apart from it
the set-up (engine start, compilation included, tokenizer, shut-down):

- ``default``: the main job's settings (``trainers/quickstart.py``);
- ``preload``: tcmalloc and Intel OpenMP preloaded (``LD_PRELOAD``), as vLLM's CPU guide
  recommends (vLLM warns at every start that they are missing);
- ``concurrency=N``: N episodes at once instead of the recipe's 16;
- ``compiled``: vLLM's torch.compile path (``enforce_eager=False``) instead of eager;
- ``kv=G``: G GiB of KV cache instead of the engine's 1 GiB on CPU.

Each variant's success count is printed too: greedy decoding should give the same episodes,
so a variant that changes them changes what is measured.

    python bench/bench_eval.py --model runs/quickstart/sft --tasks 16 --repeats 2
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

VARIANT = re.compile(r"default|preload|compiled|concurrency=[1-9]\d*|kv=(?!0*\.?0*$)\d*\.?\d+")
TCMALLOC = "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4"


def child(model: str, tasks: int, update: str) -> None:
    from llmgym.trainers.grpo.config import validate_config
    from llmgym.trainers.grpo.run import evaluate_model
    from llmgym.trainers.quickstart import QuickstartConfig

    with tempfile.TemporaryDirectory() as out:
        config = QuickstartConfig(out=Path(out), eval_tasks=tasks).grpo_config()
        config = validate_config(config.model_dump() | json.loads(update), source="bench_eval")
        started = time.perf_counter()
        result = asyncio.run(evaluate_model(config, model))
        start_s = time.perf_counter() - started - result["eval_s"]
    summary = {
        "eval_s": result["eval_s"],
        "start_s": start_s,
        "successes": sum(result["successes"]),
    }
    print("RESULT " + json.dumps(summary))


def iomp() -> str | None:
    lib = Path(sys.prefix) / "lib" / "libiomp5.so"  # the intel-openmp wheel puts it here
    return str(lib) if lib.is_file() else None


def variant_env(name: str) -> dict[str, str] | None:
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE", VLLM_CPU_NUM_OF_RESERVED_CPU="0")
    if name == "preload":
        libs = [lib for lib in (TCMALLOC if Path(TCMALLOC).is_file() else None, iomp()) if lib]
        if len(libs) < 2:
            return None
        env["LD_PRELOAD"] = ":".join(libs)
    return env


def variant_update(name: str) -> dict[str, object]:
    """The GRPOConfig fields a variant changes in the main job's settings."""
    if name == "compiled":
        return {"engine_options": {"enforce_eager": False}}
    if name.startswith("kv="):
        return {"engine_options": {"kv_cache_memory_bytes": int(float(name[3:]) * (1 << 30))}}
    if name.startswith("concurrency="):
        return {"concurrency": int(name.split("=", 1)[1])}
    return {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="a model folder (e.g. an SFT model)")
    parser.add_argument("--tasks", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--variants", nargs="+", default=["default", "preload", "concurrency=40"])
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--update", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if bad := [v for v in args.variants if not VARIANT.fullmatch(v)]:
        parser.error(f"--variants: got {bad}, expected default, preload, compiled, "
                     "concurrency=N or kv=GIB")  # fmt: skip
    if args.child:
        child(args.model, args.tasks, args.update)
        return

    times: dict[str, list[float]] = {v: [] for v in args.variants}
    starts: dict[str, list[float]] = {v: [] for v in args.variants}
    successes: dict[str, set[int]] = {v: set() for v in args.variants}
    for r in range(args.repeats):
        order = args.variants if r % 2 == 0 else list(reversed(args.variants))
        for name in order:
            env = variant_env(name)
            if env is None:
                print(f"{name}: skipped (tcmalloc or libiomp5 not installed)", flush=True)
                continue
            command = [sys.executable, __file__, "--child", "--model", args.model,
                       "--tasks", str(args.tasks), "--update", json.dumps(variant_update(name))]  # fmt: skip
            done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
            lines = [x for x in done.stdout.splitlines() if x.startswith("RESULT ")]
            if done.returncode or not lines:
                print(done.stderr[-3000:], file=sys.stderr)
                raise SystemExit(f"{name} failed (exit {done.returncode})")
            result = json.loads(lines[-1].removeprefix("RESULT "))
            times[name].append(result["eval_s"])
            starts[name].append(result["start_s"])
            successes[name].add(result["successes"])
            print(f"round {r + 1} {name}: {result['eval_s']:.1f} s (set-up "
                  f"{result['start_s']:.1f} s), {result['successes']}/{args.tasks} succeeded",
                  flush=True)  # fmt: skip
    reference = statistics.median(times[args.variants[0]])
    print(f"\n{args.tasks} greedy TripBooking test episodes (easy), median of {args.repeats}:")
    for name, ts in times.items():
        if ts:
            median = statistics.median(ts)
            print(f"  {name:<16s} {median:7.1f} s  {reference / median:5.2f}x  "
                  f"set-up {statistics.median(starts[name]):6.1f} s  "
                  f"successes {sorted(successes[name])}")  # fmt: skip


if __name__ == "__main__":
    main()
