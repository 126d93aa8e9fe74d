"""SFT warm-start: cross-entropy on scripted-expert trajectories, assistant tokens only.

The default 135M model almost never emits a valid tool call unaided, so GRPO has no reward
signal to start from. Playing each environment's scripted expert gives correct multi-turn
conversations; fine-tuning on their assistant turns (the loss mask: 1 on assistant tokens, 0 on
system, user and tool tokens) teaches the call format, after which GRPO improves decisions.
"""

from __future__ import annotations

import argparse
import logging
import math
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SFTExample:
    """One tokenized conversation and its assistant-token mask."""

    tokens: list[int]
    loss_mask: list[int]
    """1 on assistant content tokens and their end-of-turn token, 0 elsewhere."""


def expert_conversations(
    env_id: str, num_episodes: int, *, seed: int = 0, options: dict[str, Any] | None = None
) -> list[list[dict[str, Any]]]:
    """Play the scripted expert on ``num_episodes`` training tasks; return the conversations."""
    import gymnasium as gym

    import llmgym  # noqa: F401  (registers the ids)

    conversations = []
    with gym.make(env_id) as env:
        for episode in range(num_episodes):
            obs, _ = env.reset(seed=seed + episode, options={"split": "train", **(options or {})})
            messages, done = list(obs), False
            while not done:
                action = env.unwrapped.expert_action()
                messages.append({"role": "assistant", "content": action})
                obs, _, terminated, truncated, _ = env.step(action)
                messages.extend(obs)
                done = terminated or truncated
            conversations.append(messages)
    return conversations


def tokenize_conversation(tokenizer: Any, messages: Sequence[dict[str, Any]]) -> SFTExample:
    """Render with the chat template; mask = the assistant turns' characters (content + eos).

    Each assistant turn ends at the end-of-turn token the engine stops on, so the model learns
    to stop; template text before the content (``<|im_start|>assistant\\n``) is not trained on.
    """
    text = tokenizer.apply_chat_template(list(messages), tokenize=False)
    eos = tokenizer.eos_token or ""
    spans, cursor = [], 0
    for message in messages:
        if message["role"] != "assistant":
            continue
        start = text.index(message["content"], cursor)
        end = start + len(message["content"])
        if text.startswith(eos, end):
            end += len(eos)
        spans.append((start, end))
        cursor = end
    encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    mask = [
        int(any(s <= a and b <= e for s, e in spans) and b > a)
        for a, b in encoded["offset_mapping"]
    ]
    return SFTExample(tokens=list(encoded["input_ids"]), loss_mask=mask)


def sft_train(
    model: Any,
    examples: Sequence[SFTExample],
    *,
    epochs: float = 2.0,
    learning_rate: float = 5e-5,
    batch_size: int = 8,
    micro_batch_size: int = 2,
    max_length: int = 2048,
    seed: int = 0,
    log_every: int = 5,
) -> list[float]:
    """Cross-entropy (mean over assistant tokens of each batch); returns the loss per step."""
    import torch

    from llmgym.trainers.grpo.policy import token_logprobs

    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=learning_rate, weight_decay=0.0)
    steps = max(1, math.ceil(epochs * len(examples) / batch_size))
    order: list[int] = []
    rng = random.Random(seed)
    losses = []
    model.train()
    for step in range(steps):
        start = time.perf_counter()
        batch = []
        while len(batch) < batch_size:
            if not order:
                order = list(range(len(examples)))
                rng.shuffle(order)
            batch.append(examples[order.pop()])
        total_tokens = sum(min(sum(e.loss_mask), max_length) for e in batch)
        optimizer.zero_grad(set_to_none=True)
        step_loss = 0.0
        for lo in range(0, len(batch), micro_batch_size):
            part = batch[lo : lo + micro_batch_size]
            length = min(max(len(e.tokens) for e in part), max_length)
            tokens = torch.zeros(len(part), length, dtype=torch.long)
            attention = torch.zeros_like(tokens)
            mask = torch.zeros(len(part), length)
            for i, e in enumerate(part):
                n = min(len(e.tokens), length)
                tokens[i, :n] = torch.tensor(e.tokens[:n])
                attention[i, :n] = 1
                mask[i, :n] = torch.tensor(e.loss_mask[:n], dtype=torch.float32)
            logprobs, _ = token_logprobs(model, tokens, attention)  # (b, T)
            loss = -(logprobs * mask).sum() / max(total_tokens, 1)  # batch token mean
            loss.backward()
            step_loss += loss.item()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        losses.append(step_loss)
        if step % log_every == 0 or step == steps - 1:
            logger.info(
                "sft step %d/%d loss %.4f (%.1fs)", step + 1, steps, step_loss,
                time.perf_counter() - start,
            )  # fmt: skip
    return losses


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
    p.add_argument("--threads", type=int, default=None, help="torch threads")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """``llmgym sft``: play the expert, fine-tune, save a plain model folder to ``--out``."""
    import torch
    from transformers import AutoTokenizer

    from llmgym.engines.base import configure_cpu_threads
    from llmgym.models import resolve_model
    from llmgym.trainers.grpo.policy import export_weights, load_policy

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
    losses = sft_train(
        model, examples, epochs=args.epochs, learning_rate=args.lr, batch_size=args.batch_size,
        micro_batch_size=args.micro_batch_size, seed=args.seed,
    )  # fmt: skip
    export_weights(model, Path(args.out), tokenizer)
    print(f"SFT: {len(losses)} steps, loss {losses[0]:.3f} -> {losses[-1]:.3f}; saved {args.out}")
    return 0
