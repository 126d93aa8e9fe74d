"""Seconds of one weight sync into a running vLLM engine, by what is sent.

Starts vLLM (CPU here) on the default model and loads the trainer's weights into it the
three ways the code base can, alternating, from the same model:

- ``folder``: the old way and what a remote server still takes: the merged weights saved
  as a float32 model folder on disk, reloaded by the engine (export + load timed together);
- ``memory, all``: every tensor through shared memory (``PolicyWeights``), no folder;
- ``memory, trained``: only the tensors that training with ``--trainable-layers K`` changes
  (``PolicyWeights(trained_only=True)``); the engine keeps the frozen ones.

Prints the median seconds of each, the megabytes sent and the ratio to ``folder``; checks
that greedy output after the last partial load equals that after a full load of the same
weights (the frozen layers kept what they had).

    OMP_WAIT_POLICY=PASSIVE python bench/bench_weight_sync.py --repeats 5 --trainable-layers 12
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any


async def measure(args: argparse.Namespace) -> dict[str, list[float]]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from llmgym.engines.base import SamplingParams
    from llmgym.engines.vllm_engine import VLLMEngine
    from llmgym.models import resolve_model
    from llmgym.trainers.policy import prepare_model
    from llmgym.trainers.weights import PolicyWeights, export_weights

    path = resolve_model(None)
    model = prepare_model(
        AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32),
        trainable_layers=args.trainable_layers,
    )
    with torch.no_grad():  # a trained policy: the trained tensors differ from the engine's
        generator = torch.Generator().manual_seed(0)
        for p in model.parameters():
            if p.requires_grad:
                p.add_(torch.randn(p.shape, generator=generator) * 0.01)
    tokenizer = AutoTokenizer.from_pretrained(path)
    text = tokenizer.apply_chat_template(
        [{"role": "user", "content": "Name three rivers."}],
        add_generation_prompt=True,
        tokenize=False,
    )
    prompt: list[int] = list(tokenizer(str(text), add_special_tokens=False)["input_ids"])
    greedy = SamplingParams(max_tokens=16, temperature=0.0)

    folder = Path(tempfile.mkdtemp(prefix="llmgym-sync-bench-"))
    ways: dict[str, Any] = {
        "folder": lambda: export_weights(model, folder),
        "memory, all": lambda: PolicyWeights(model, folder / "unused"),
        "memory, trained": lambda: PolicyWeights(model, folder / "unused", trained_only=True),
    }
    times: dict[str, list[float]] = {way: [] for way in ways}
    sizes = {
        way: sum(
            t.numel() * 4
            for t in PolicyWeights(model, "", trained_only=trained).state_dict().values()
        )
        for way, trained in (("memory, all", False), ("memory, trained", True))
    }
    engine = VLLMEngine(path, max_model_len=1024)
    try:
        version = 0
        for _ in range(args.repeats):
            for way, make in ways.items():
                version += 1
                started = time.perf_counter()
                await engine.load_weights(make(), version=version)
                times[way].append(time.perf_counter() - started)
                if way == "memory, all":
                    full = (await engine.generate(prompt, greedy)).token_ids
                if way == "memory, trained":
                    partial = (await engine.generate(prompt, greedy)).token_ids
        if partial != full:
            raise AssertionError(f"partial load gave {partial}, a full load {full}")
    finally:
        await engine.close()
    for way, nbytes in sizes.items():
        print(f"{way:16s} {nbytes / 2**20:7.1f} MiB as float32")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--trainable-layers", type=int, default=12)
    args = parser.parse_args()
    times = asyncio.run(measure(args))
    reference = statistics.median(times["folder"])
    for way, seconds in times.items():
        median = statistics.median(seconds)
        print(
            f"{way:16s} {median:6.2f} s median of {len(seconds)} "
            f"(min {min(seconds):.2f}, max {max(seconds):.2f})  {reference / median:5.2f}x folder"
        )


if __name__ == "__main__":
    main()
