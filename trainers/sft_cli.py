"""``llmgym sft``: play the scripted expert, fine-tune on its turns, save a model folder."""

from __future__ import annotations

import argparse
import json
import logging
from typing import Any

logger = logging.getLogger(__name__)


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``llmgym sft``."""
    from llmgym.cli import DefaultsHelp

    p = subparsers.add_parser(
        "sft",
        help="SFT warm-start on scripted-expert trajectories (assistant tokens only)",
        formatter_class=DefaultsHelp,
    )
    p.add_argument("--env", default="llmgym/TripBooking-v0", help="environment id")
    p.add_argument("--model", default=None, help="model folder (default: bundled SmolLM2-135M)")
    p.add_argument("--out", required=True, help="folder to save the fine-tuned model to")
    p.add_argument("--episodes", type=int, default=64, help="expert episodes to train on")
    p.add_argument("--difficulty", default="easy", help="difficulty of the training tasks")
    p.add_argument(
        "--env-kwargs", type=json.loads, default={},
        help='environment keyword arguments (JSON), e.g. \'{"expert_notes": true}\'',
    )  # fmt: skip
    p.add_argument("--epochs", type=float, default=2.0, help="passes over the episodes")
    p.add_argument("--lr", type=float, default=5e-5, help="AdamW learning rate")
    p.add_argument("--batch-size", type=int, default=8, help="episodes per optimizer step")
    p.add_argument("--micro-batch-size", type=int, default=2, help="episodes per forward pass")
    p.add_argument("--lora-rank", type=int, default=0, help="LoRA rank (0 = full fine-tune)")
    p.add_argument(
        "--trainable-layers", type=int, default=0,
        help="train only the top this many decoder layers (0 = all)",
    )  # fmt: skip
    p.add_argument("--seed", type=int, default=0, help="seed of tasks and shuffling")
    p.add_argument(
        "--dtype", choices=["auto", "float32", "bfloat16"], default="auto",
        help="autocast dtype of forward/backward (weights stay float32); auto: bfloat16 "
        "where the hardware multiplies it natively, else float32",
    )  # fmt: skip
    p.add_argument("--threads", type=int, default=None, help="torch threads")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """``llmgym sft``: play the expert, fine-tune, save a plain model folder to ``--out``."""
    from llmgym.trainers.sft import SFTConfig, run_sft, sft_progress_bar

    config = SFTConfig(
        out=args.out, env_id=args.env, model=args.model, episodes=args.episodes,
        difficulty=args.difficulty, env_kwargs=args.env_kwargs, epochs=args.epochs,
        learning_rate=args.lr, batch_size=args.batch_size, micro_batch_size=args.micro_batch_size,
        lora_rank=args.lora_rank, trainable_layers=args.trainable_layers, seed=args.seed,
        threads=args.threads,
        bfloat16=None if args.dtype == "auto" else args.dtype == "bfloat16",
    )  # fmt: skip
    losses = run_sft(config, on_step=sft_progress_bar())
    print(f"SFT: {len(losses)} steps, loss {losses[0]:.3f} -> {losses[-1]:.3f}; saved {args.out}")
    return 0
