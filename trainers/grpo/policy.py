"""The trainable policy: loading (full or LoRA), token logprobs, and exporting merged weights.

``token_logprobs`` is the one place that turns a causal LM's logits into the logprob of each
token given its prefix; the loss, the KL reference and the entropy statistic all go through it.
``SharedPrefix`` runs the leading tokens every row of a batch has in common (an agent's system
prompt with its tool schemas is often most of an episode) through the network once instead of
once per row, with the same gradient. ``export_weights`` writes plain (LoRA-merged) weights
that a generation engine can reload.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch

logger = logging.getLogger(__name__)

LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def prepare_model(
    model: Any, *, lora_rank: int = 0, lora_alpha: int = 32, gradient_checkpointing=False
) -> Any:
    """Wrap ``model`` for training: LoRA adapters when ``lora_rank > 0``, checkpointing if asked."""
    if gradient_checkpointing:
        # Non-reentrant checkpointing works with frozen inputs (LoRA) without extra hooks.
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        model.config.use_cache = False
    if lora_rank > 0:
        from peft import LoraConfig, get_peft_model

        lora = LoraConfig(
            r=lora_rank, lora_alpha=lora_alpha, lora_dropout=0.0, target_modules=LORA_TARGETS
        )
        model = get_peft_model(model, lora)
    model.train()
    return model


def load_policy(path: str | Path, *, dtype=torch.float32, **prepare: Any) -> Any:
    """Load a causal LM from a local folder and ``prepare_model`` it."""
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(path), dtype=dtype)
    return prepare_model(model, **prepare)


MIN_SHARED_PREFIX = 16
"""Shorter common prefixes are not worth the extra pass."""


class SharedPrefix:
    """The first ``length`` tokens of every row of a batch, encoded once for all its micro-batches.

    The prefix's keys and values are computed once, with grad. Each micro-batch attends to
    detached leaf copies of them (``cache``), so its backward stops at the leaves and adds the
    prefix's share of the gradient there; ``backward()`` then carries the accumulated leaf
    gradients through the prefix's own graph, once. The parameter gradients are those of the
    unshared forward over whole rows (the sum is only regrouped), and a batch of G rows runs
    one prefix plus G suffixes through the layers instead of G whole rows (the suffixes still
    attend to the whole prefix; bench/bench_train_step.py measures what that saves).

    Only tokens that are not scored can be shared: the prefix ends before the first position
    whose logprob is wanted, so every scored token is predicted from a suffix hidden state.
    """

    def __init__(self, model: Any, prefix: torch.Tensor, autocast_dtype: torch.dtype | None):
        base = unwrap(model)
        self.length = prefix.shape[-1]
        self.tokens = prefix.reshape(1, -1)
        self._config = base.config
        with torch.autocast(
            prefix.device.type, dtype=autocast_dtype, enabled=autocast_dtype is not None
        ):
            cache = base.get_decoder()(input_ids=self.tokens, use_cache=True).past_key_values
        self._outputs = [t for layer in cache.layers for t in (layer.keys, layer.values)]
        grad = torch.is_grad_enabled()
        self._leaves = [t.detach().requires_grad_(grad and t.requires_grad) for t in self._outputs]

    @classmethod
    def of_batch(
        cls,
        model: Any,
        tokens: torch.Tensor,
        attention_mask: torch.Tensor,
        positions: torch.Tensor,
        autocast_dtype: torch.dtype | None = None,
    ) -> SharedPrefix | None:
        """The shared prefix of ``tokens`` (B, T), or None where sharing would not pay.

        None for fewer than two rows, a common prefix under ``MIN_SHARED_PREFIX`` tokens, or a
        model with gradient checkpointing (it runs without a cache).
        """
        if tokens.shape[0] < 2 or getattr(unwrap(model), "is_gradient_checkpointing", False):
            return None
        length = shared_prefix_length(tokens, attention_mask, positions)
        if length < MIN_SHARED_PREFIX:
            return None
        return cls(model, tokens[0, :length], autocast_dtype)

    def cache(self, rows: int) -> Any:
        """A fresh key/value cache of the prefix for a micro-batch of ``rows`` rows."""
        from transformers import DynamicCache

        pairs = zip(self._leaves[0::2], self._leaves[1::2], strict=True)
        data = [(k.expand(rows, -1, -1, -1), v.expand(rows, -1, -1, -1)) for k, v in pairs]
        return DynamicCache(data, config=self._config)

    def backward(self) -> None:
        """Carry the gradient the micro-batches left on the prefix through the prefix's graph."""
        pairs = [(out, leaf.grad) for out, leaf in zip(self._outputs, self._leaves, strict=True)]
        pairs = [(out, grad) for out, grad in pairs if grad is not None]
        if pairs:
            torch.autograd.backward([out for out, _ in pairs], [grad for _, grad in pairs])
        self._outputs, self._leaves = [], []


def shared_prefix_length(
    tokens: torch.Tensor, attention_mask: torch.Tensor, positions: torch.Tensor
) -> int:
    """Leading tokens that all rows share and that end before the first scored position.

    The prefix stops one token before the first position in ``positions`` (B, T) of any row:
    that token is predicted by the hidden state just before it, which must be a suffix one.
    Every row keeps at least one token after the prefix.
    """
    same = (tokens == tokens[:1]).all(0) & attention_mask.bool().all(0)  # (T,)
    common = int(same.long().cumprod(0).sum())
    scored = positions.bool().any(0).nonzero()
    first_scored = int(scored[0]) if len(scored) else tokens.shape[1]
    shortest = int(attention_mask.sum(-1).min())
    return max(0, min(common, first_scored - 1, shortest - 1))


def token_logprobs(
    model: Any,
    tokens: torch.Tensor,
    attention_mask: torch.Tensor,
    *,
    positions: torch.Tensor | None = None,
    with_entropy: bool = False,
    autocast_dtype: torch.dtype | None = None,
    prefix: SharedPrefix | None = None,
    temperature: float = 1.0,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Logprob of each token given the tokens before it, and optionally the policy entropy.

    Args:
        tokens: (B, T) right-padded token ids.
        attention_mask: (B, T) 1 on real tokens.
        positions: (B, T) bool, the tokens whose logprob is needed (the loss mask). The
            vocabulary projection then runs only there: in agent episodes most tokens are
            prompt and tool output, and the (T, V) logits are a large share of the cost.
        autocast_dtype: run the network under CPU/GPU autocast (e.g. torch.bfloat16).
        prefix: the batch's ``SharedPrefix``: rows start with its tokens, which are not run
            again; no position in it (or the one after it) may be wanted.
        temperature: score under ``softmax(logits / temperature)``, the distribution a sampler
            at that temperature drew from, so that the importance ratio against its logprobs
            starts at 1 (as in TRL and verl); 1.0 is the plain model.

    Returns ``(logprobs, entropy)``, both (B, T) (float32 or wider), 0 at position 0 (it has no prefix)
    and outside ``positions``; ``entropy`` is None unless asked for (computed without grad).
    """
    base = unwrap(model)
    wanted = torch.ones_like(tokens, dtype=torch.bool) if positions is None else positions.bool()
    wanted = wanted.clone()
    wanted[:, 0] = False  # (B, T)
    start = 0 if prefix is None else prefix.length  # hidden[:, j] is position start + j
    if prefix is not None and (
        wanted[:, : start + 1].any()
        or not torch.equal(tokens[:, :start], prefix.tokens.expand(len(tokens), -1))
    ):
        raise ValueError("rows must start with the shared prefix, and none of it be scored")
    device_type = tokens.device.type
    with torch.autocast(device_type, dtype=autocast_dtype, enabled=autocast_dtype is not None):
        if prefix is None:
            hidden = base.get_decoder()(
                input_ids=tokens, attention_mask=attention_mask, use_cache=False
            ).last_hidden_state  # (B, T, H)
        else:
            hidden = base.get_decoder()(
                input_ids=tokens[:, start:], attention_mask=attention_mask,
                past_key_values=prefix.cache(len(tokens)), use_cache=True,
            ).last_hidden_state  # (B, T - start, H)  # fmt: skip
        # Position t-1 predicts token t: pick the hidden states before each wanted token.
        before = hidden[:, :-1][wanted[:, start + 1 :]]  # (N, H)
        logits = base.get_output_embeddings()(before)  # (N, V)
    logits = logits.to(torch.promote_types(logits.dtype, torch.float32))  # bf16 -> fp32
    if temperature != 1.0:
        logits = logits / temperature
    picked = logits.gather(-1, tokens[wanted].unsqueeze(-1)).squeeze(-1)  # (N,)
    logprobs = torch.zeros(tokens.shape, dtype=logits.dtype, device=tokens.device)
    logprobs = logprobs.masked_scatter(wanted, picked - torch.logsumexp(logits, dim=-1))
    entropy = None
    if with_entropy:
        with torch.no_grad():
            log_p = torch.log_softmax(logits, dim=-1)  # (N, V)
            entropy = torch.zeros_like(logprobs).masked_scatter(
                wanted, -(log_p.exp() * log_p).sum(-1)
            )  # (B, T)
    return logprobs, entropy


def merged_state_dict(model: Any) -> dict[str, torch.Tensor]:
    """Plain-model weights: LoRA adapters merged in (without changing ``model``)."""
    if not hasattr(model, "peft_config"):
        return {k: v.detach() for k, v in model.state_dict().items()}
    base = model.get_base_model()
    with torch.no_grad():
        model.merge_adapter()
        try:
            state = {
                k.replace(".base_layer", ""): v.detach().clone()
                for k, v in base.state_dict().items()
                if "lora_" not in k
            }
        finally:
            model.unmerge_adapter()
    return state


def export_weights(model: Any, out_dir: str | Path, tokenizer: Any = None) -> Path:
    """Save merged weights (safetensors) + config (+ tokenizer) as a loadable model folder."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    base = model.get_base_model() if hasattr(model, "peft_config") else model
    base.save_pretrained(str(out_dir), state_dict=merged_state_dict(model))
    if tokenizer is not None:
        tokenizer.save_pretrained(str(out_dir))
    return out_dir


def unwrap(model: Any) -> Any:
    """The plain transformers model under peft, for config access."""
    return model.get_base_model() if hasattr(model, "peft_config") else model
