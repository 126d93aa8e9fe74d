"""``llmgym sft``: play the scripted expert, fine-tune on its turns, save a model folder."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``llmgym sft``."""
    p = subparsers.add_parser(
        "sft", help="SFT warm-start on scripted-expert trajectories (assistant tokens only)"
    )
    p.add_argument("--env", default="llmgym/TripBooking-v0", help="environment id")
    p.add_argument("--model", default=None, help="model folder (default: bundled SmolLM2-135M)")
    p.add_argument("--out", required=True, help="folder to save the fine-tuned model to")
    p.add_argument("--episodes", type=int, default=64, help="expert episodes to train on")
    p.add_argument("--difficulty", default="easy", help="difficulty of the training tasks")
    p.add_argument("--epochs", type=float, default=2.0, help="passes over the episodes")
    p.add_argument("--lr", type=float, default=5e-5, help="AdamW learning rate")
    p.add_argument("--batch-size", type=int, default=8, help="episodes per optimizer step")
    p.add_argument("--micro-batch-size", type=int, default=2, help="episodes per forward pass")
    p.add_argument("--lora-rank", type=int, default=0, help="LoRA rank (0 = full fine-tune)")
    p.add_argument("--seed", type=int, default=0, help="seed of tasks and shuffling")
    p.add_argument(
        "--dtype", choices=["float32", "bfloat16"], default="bfloat16",
        help="autocast dtype of forward/backward (weights stay float32)",
    )  # fmt: skip
    p.add_argument("--threads", type=int, default=None, help="torch threads")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """``llmgym sft``: play the expert, fine-tune, save a plain model folder to ``--out``."""
    import torch
    from tqdm.auto import tqdm
    from transformers import AutoTokenizer

    from llmgym.engines.base import configure_cpu_threads
    from llmgym.models import resolve_model
    from llmgym.trainers.policy import export_weights, load_policy
    from llmgym.trainers.sft import expert_conversations, sft_train, tokenize_conversation

    configure_cpu_threads(args.threads)
    torch.manual_seed(args.seed)
    path = resolve_model(args.model)
    tokenizer = AutoTokenizer.from_pretrained(path)
    conversations = expert_conversations(
        args.env, args.episodes, seed=args.seed, options={"difficulty": args.difficulty}
    )
    examples = [tokenize_conversation(tokenizer, c) for c in conversations]
    logger.info(
        "%d expert episodes, %d tokens, %d trained tokens", len(examples),
        sum(len(e.tokens) for e in examples), sum(sum(e.loss_mask) for e in examples),
    )  # fmt: skip
    model = load_policy(path, lora_rank=args.lora_rank)
    bar = tqdm(desc="sft", unit="step")

    def on_step(step: int, steps: int, loss: float) -> None:
        if bar.total is None:
            bar.reset(total=steps)
        bar.update(1)
        bar.set_postfix(loss=f"{loss:.4f}")

    try:
        losses = sft_train(
            model, examples, epochs=args.epochs, learning_rate=args.lr,
            batch_size=args.batch_size, micro_batch_size=args.micro_batch_size, seed=args.seed,
            autocast_dtype=torch.bfloat16 if args.dtype == "bfloat16" else None, on_step=on_step,
        )  # fmt: skip
    finally:
        bar.close()
    export_weights(model, Path(args.out), tokenizer)
    print(f"SFT: {len(losses)} steps, loss {losses[0]:.3f} -> {losses[-1]:.3f}; saved {args.out}")
    return 0
