"""SFT warm-start: cross-entropy on scripted-expert trajectories, assistant tokens only.

The default 135M model almost never emits a valid tool call unaided, so GRPO has no reward
signal to start from. Playing each environment's scripted expert gives correct multi-turn
conversations; fine-tuning on their assistant turns (the loss mask: 1 on assistant tokens, 0 on
system, user and tool tokens) teaches the call format, after which GRPO improves decisions.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SFTConfig:
    """One SFT warm-start run (``run_sft``; ``llmgym sft`` sets every field from a flag)."""

    out: str
    """Folder to save the fine-tuned model to."""
    env_id: str = "llmgym/TripBooking-v0"
    model: str | None = None
    """Model folder (None: the bundled default model)."""
    episodes: int = 64
    """Scripted-expert episodes to train on."""
    difficulty: str | None = "easy"
    """Difficulty of the training tasks (None: any)."""
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    """Keyword arguments of the environment the expert plays in (``gym.make(env_id, **...)``),
    e.g. ``{"expert_notes": true}`` for TripBooking's expert that writes down its checks."""
    epochs: float = 2.0
    learning_rate: float = 5e-5
    batch_size: int = 8
    micro_batch_size: int = 2
    lora_rank: int = 0
    """LoRA rank (0: full fine-tune)."""
    trainable_layers: int = 0
    """Train only the top this many decoder layers (0: all; see ``prepare_model``)."""
    max_length: int = 8192
    """Longest example in tokens (the default model's context); longer ones are cut, with a
    warning. (It was 2048, which cut the booking and the submit off most easy TripBooking
    episodes: their median is ~2,160 tokens.)"""
    seed: int = 0
    bfloat16: bool | None = None
    """Autocast forward/backward to bfloat16 (weights stay float32); None: where the
    hardware multiplies bfloat16 natively (``llmgym.engines.base.fast_dtype``)."""
    threads: int | None = None

    def __post_init__(self) -> None:
        """Reject a bad value here, before any model loads or expert plays (and before a run
        folder records the recipe), with what was wrong and what is expected."""
        from llmgym.registration import difficulty_problem, env_id_problem, env_kwargs_problem

        checks = [
            ("episodes", self.episodes >= 1, "at least 1 expert episode"),
            ("epochs", self.epochs > 0, "a positive number of passes"),
            ("learning_rate", self.learning_rate > 0, "a positive learning rate"),
            ("batch_size", self.batch_size >= 1, "at least 1 episode per optimizer step"),
            ("micro_batch_size", self.micro_batch_size >= 1, "at least 1 episode per pass"),
            ("lora_rank", self.lora_rank >= 0, "0 (full fine-tune) or a positive rank"),
            ("trainable_layers", self.trainable_layers >= 0, "0 (all) or a positive count"),
            ("max_length", self.max_length >= 1, "a positive number of tokens"),
        ]
        bad = [f"{name}: got {getattr(self, name)!r}, expected {want}"
               for name, ok, want in checks if not ok]  # fmt: skip
        if problem := env_id_problem(self.env_id):
            bad.append(f"env_id: {problem}")
        else:
            if problem := env_kwargs_problem(self.env_id, self.env_kwargs):
                bad.append(f"env_kwargs: {problem}")
            if problem := difficulty_problem(self.env_id, self.difficulty):
                bad.append(f"difficulty: {problem}")
        if bad:
            raise ValueError("invalid SFT config:\n  " + "\n  ".join(bad))


def run_sft(
    config: SFTConfig, on_step: Callable[[int, int, float], None] | None = None
) -> list[float]:
    """The SFT composition root: play the expert, tokenize as the collector does, fine-tune,
    save a plain model folder to ``config.out``; returns the loss per step."""
    from pathlib import Path

    import torch
    from transformers import AutoTokenizer

    from llmgym.engines.base import configure_cpu_threads
    from llmgym.models import resolve_model
    from llmgym.trainers.policy import load_policy
    from llmgym.trainers.weights import export_weights

    configure_cpu_threads(config.threads)
    torch.manual_seed(config.seed)
    path = resolve_model(config.model)
    tokenizer = AutoTokenizer.from_pretrained(path)
    options = {"difficulty": config.difficulty} if config.difficulty else {}
    examples = expert_examples(
        config.env_id, tokenizer, config.episodes, seed=config.seed, options=options,
        env_kwargs=config.env_kwargs,
    )  # fmt: skip
    logger.info(
        "%d expert episodes, %d tokens, %d trained tokens", len(examples),
        sum(len(e.tokens) for e in examples), sum(sum(e.loss_mask) for e in examples),
    )  # fmt: skip
    model = load_policy(path, lora_rank=config.lora_rank, trainable_layers=config.trainable_layers)
    losses = sft_train(
        model, examples, epochs=config.epochs, learning_rate=config.learning_rate,
        batch_size=config.batch_size, micro_batch_size=config.micro_batch_size, seed=config.seed,
        max_length=config.max_length, on_step=on_step,
        autocast_dtype=torch.bfloat16 if _use_bfloat16(config.bfloat16) else None,
    )  # fmt: skip
    export_weights(model, Path(config.out), tokenizer)
    return losses


def sft_progress_bar() -> Callable[[int, int, float], None]:
    """An ``on_step`` for ``run_sft``: a tqdm bar of optimizer steps with the loss, closed
    after the last step."""
    from tqdm.auto import tqdm

    bar = tqdm(desc="sft", unit="step")

    def on_step(step: int, steps: int, loss: float) -> None:
        if bar.total is None:
            bar.reset(total=steps)  # restarts the clock: rate and ETA count from here
        if step == 0:
            return
        bar.update(1)
        bar.set_postfix(loss=f"{loss:.4f}")
        if step >= steps:
            bar.close()

    return on_step


def _use_bfloat16(choice: bool | None) -> bool:
    if choice is not None:
        return choice
    import torch

    from llmgym.engines.base import fast_dtype

    return fast_dtype("cuda" if torch.cuda.is_available() else "cpu") == "bfloat16"


@dataclass(frozen=True)
class SFTExample:
    """One tokenized conversation and its assistant-token mask."""

    tokens: list[int]
    loss_mask: list[int]
    """1 on assistant content tokens and their end-of-turn token, 0 elsewhere."""


def expert_examples(
    env_id: str,
    tokenizer: Any,
    num_episodes: int,
    *,
    seed: int = 0,
    options: dict[str, Any] | None = None,
    env_kwargs: dict[str, Any] | None = None,
) -> list[SFTExample]:
    """The scripted expert's episodes on ``num_episodes`` training tasks, as SFT examples.

    They are played by the rollout collector, as GRPO's episodes are, with the expert as
    the engine (``ExpertEngine``): the tokens and the loss mask are the trajectory's own, so
    SFT trains on exactly the layout GRPO samples in. Tasks: seeds ``seed``, ``seed + 1``...
    """
    import asyncio

    from llmgym.engines.scripted import ExpertEngine
    from llmgym.rollout import EpisodeSpec, RolloutCollector, RolloutConfig

    train = {"split": "train", **(options or {})}
    episodes = [(train, seed + episode) for episode in range(num_episodes)]
    kwargs = dict(env_kwargs or {})

    async def play() -> list[Any]:
        engine = ExpertEngine(env_id, tokenizer, episodes, env_kwargs=kwargs)
        collector = RolloutCollector(engine, tokenizer, RolloutConfig(env_kwargs=kwargs))
        try:
            return await collector.collect([EpisodeSpec(env_id, s, o) for o, s in episodes])
        finally:
            await engine.close()

    trajectories = asyncio.run(play())
    failed = [t for t in trajectories if t.error or not t.tokens]
    if failed:
        raise RuntimeError(
            f"{len(failed)} of {len(trajectories)} expert episodes of {env_id} failed "
            f"(first: {failed[0].task_id}: {failed[0].error}); the env's expert_action is broken"
        )
    return [SFTExample(tokens=list(t.tokens), loss_mask=list(t.loss_mask)) for t in trajectories]


def expert_conversations(
    env_id: str, num_episodes: int, *, seed: int = 0, options: dict[str, Any] | None = None
) -> list[list[dict[str, Any]]]:
    """Play the scripted expert on ``num_episodes`` training tasks; return the conversations
    (as messages; ``expert_examples`` gives the same episodes tokenized, for training)."""
    import gymnasium as gym

    import llmgym  # noqa: F401  (registers the ids)

    with gym.make(env_id) as env:
        expert = env.unwrapped.expert_action  # type: ignore[attr-defined]
        train = {"split": "train", **(options or {})}
        conversations = [
            play_conversation(env, expert, seed=seed + episode, options=train)
            for episode in range(num_episodes)
        ]
    return conversations


def play_conversation(env: Any, policy: Callable[[], str], **reset: Any) -> list[dict[str, Any]]:
    """``env.reset(**reset)``, then ``policy()`` (the next action) until the episode ends
    (``llmgym.episode.play``). Returns the conversation: the environment's messages and the
    policy's turns.
    """
    from llmgym.episode import play

    return play(env, policy, submit_when_done=False, **reset).messages


def tokenize_conversation(tokenizer: Any, messages: Sequence[dict[str, Any]]) -> SFTExample:
    """Tokens exactly as the rollout collector builds them, mask 1 on assistant turns (for
    conversations from elsewhere, e.g. transcripts; the expert's come from ``expert_examples``).

    The conversation is replayed through the collector's own ``EpisodeTokens`` and
    ``ChatFormat`` (the first prompt, each assistant turn as a completion ending in the eos
    token the engine stops on, each environment delta), so the token layout is defined once
    and SFT trains on the very layout GRPO samples in.
    """
    from llmgym.chat import ChatFormat
    from llmgym.engines.base import Completion
    from llmgym.episode_tokens import EpisodeTokens

    chat = ChatFormat(tokenizer)
    episode = EpisodeTokens()
    first = next(i for i, m in enumerate(messages) if m["role"] == "assistant")
    episode.append_context(chat.prompt_ids(messages[:first]))
    pending: list[dict[str, Any]] = []
    for message in messages[first:]:
        if message["role"] != "assistant":
            pending.append(message)
            continue
        if pending:
            episode.append_context(chat.delta_ids(pending, after_eos=True))
            pending = []
        ids = (*chat.encode(message["content"]), *chat.eos_token_ids)
        episode.append_completion(Completion(ids, (0.0,) * len(ids), "stop"))
    return SFTExample(tokens=list(episode.tokens), loss_mask=list(episode.loss_mask))


def sft_train(
    model: Any,
    examples: Sequence[SFTExample],
    *,
    epochs: float = 2.0,
    learning_rate: float = 5e-5,
    batch_size: int = 8,
    micro_batch_size: int = 2,
    max_length: int = 8192,
    seed: int = 0,
    log_every: int = 5,
    autocast_dtype: Any = None,
    on_step: Callable[[int, int, float], None] | None = None,
    share_prefix: bool = True,
) -> list[float]:
    """Cross-entropy (mean over assistant tokens of each batch); returns the loss per step.

    ``on_step(step, steps, loss)`` is called after each optimizer step (the CLI's progress bar),
    and once before the first with step 0 and a NaN loss.
    ``share_prefix`` runs the tokens conversations of a batch start with (the system prompt)
    once per batch (``backward_micro_batches``: same gradient, less compute).
    """
    import torch

    from llmgym.trainers.policy import backward_micro_batches

    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=learning_rate, weight_decay=0.0)
    steps = max(1, math.ceil(epochs * len(examples) / batch_size))
    cut = [len(e.tokens) for e in examples if len(e.tokens) > max_length]
    if cut:
        logger.warning(
            "%d of %d examples are longer than max_length=%d (up to %d tokens) and lose their "
            "last turns: raise max_length", len(cut), len(examples), max_length, max(cut),
        )  # fmt: skip
    order: list[int] = []
    rng = random.Random(seed)
    losses = []
    model.train()
    if on_step is not None:
        on_step(0, steps, math.nan)  # before the first step: the total is known
    for step in range(steps):
        start = time.perf_counter()
        batch: list[SFTExample] = []
        while len(batch) < batch_size:
            if not order:
                order = list(range(len(examples)))
                rng.shuffle(order)
            batch.append(examples[order.pop()])
        total_tokens = sum(min(sum(e.loss_mask), max_length) for e in batch)
        tokens, attention, mask = _pad(batch, max_length)
        optimizer.zero_grad(set_to_none=True)
        micro_losses: list[float] = []
        backward_micro_batches(
            model, tokens, attention,
            partial(_micro_loss, model, tokens, attention, mask, total_tokens, autocast_dtype,
                    micro_losses),
            micro_batch_size=micro_batch_size, share_prefix=share_prefix,
            autocast_dtype=autocast_dtype,
        )  # fmt: skip
        step_loss = sum(micro_losses)
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        losses.append(step_loss)
        if on_step is not None:
            on_step(step + 1, steps, step_loss)
        if step % log_every == 0 or step == steps - 1:
            logger.info(
                "sft step %d/%d loss %.4f (%.1fs)", step + 1, steps, step_loss,
                time.perf_counter() - start,
            )  # fmt: skip
    return losses


def _pad(batch: Sequence[SFTExample], max_length: int) -> tuple[Any, Any, Any]:
    """Right-padded (tokens, attention mask, loss mask) of ``batch``, cut at ``max_length``."""
    import torch

    length = min(max(len(e.tokens) for e in batch), max_length)
    tokens = torch.zeros(len(batch), length, dtype=torch.long)
    attention = torch.zeros_like(tokens)
    mask = torch.zeros(len(batch), length)
    for i, e in enumerate(batch):
        n = min(len(e.tokens), length)
        tokens[i, :n] = torch.tensor(e.tokens[:n])
        attention[i, :n] = 1
        mask[i, :n] = torch.tensor(e.loss_mask[:n], dtype=torch.float32)
    return tokens, attention, mask


def _micro_loss(
    model: Any,
    tokens: Any,
    attention: Any,
    mask: Any,
    total_tokens: int,
    autocast_dtype: Any,
    losses: list[float],
    rows: list[int],
    prefix: Any,
) -> Any:
    """The SFT loss of batch rows ``rows`` (their share of the batch mean); noted in ``losses``."""
    from llmgym.trainers.policy import token_logprobs

    length = int(attention[rows].sum(-1).max())
    logprobs, _ = token_logprobs(
        model, tokens[rows, :length], attention[rows, :length],
        positions=mask[rows, :length] > 0, autocast_dtype=autocast_dtype, prefix=prefix,
    )  # (b, T)  # fmt: skip
    loss = -(logprobs * mask[rows, :length]).sum() / max(total_tokens, 1)
    losses.append(loss.item())
    return loss
