"""The trainable policy: loading (full, LoRA or top layers only) and token logprobs.

``token_logprobs`` is the one place that turns a causal LM's logits into the logprob of each
token given its prefix; the loss, the KL reference and the entropy statistic all go through it.
``SharedPrefix`` runs the leading tokens a set of rows has in common (an agent's system prompt
with its tool schemas; the first turns the episodes of one group played alike) through the
network once instead of once per row, with the same gradient; ``backward_micro_batches`` plans
which rows share what and runs the backward passes. The policy's weights as an engine takes
them (merged, exported, only the trained ones) are in ``llmgym.trainers.weights``.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

logger = logging.getLogger(__name__)

LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def prepare_model(
    model: Any,
    *,
    lora_rank: int = 0,
    lora_alpha: int = 32,
    gradient_checkpointing: bool = False,
    trainable_layers: int = 0,
) -> Any:
    """Wrap ``model`` for training: LoRA adapters when ``lora_rank > 0``, checkpointing if asked.

    ``trainable_layers > 0`` trains only the top that many decoder layers and the final norm
    (LoRA: adapts only those layers); the embeddings, the output head (tied or not) and the layers
    below stay frozen. The frozen layers then run forward only, with no activations kept,
    and the backward pass stops at the lowest trained layer: on a 30-layer model, training the
    top 8 does about half the FLOPs of a full update.
    """
    if gradient_checkpointing:
        # Non-reentrant checkpointing works with frozen inputs (LoRA) without extra hooks.
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        model.config.use_cache = False
    layers = _decoder_layers(model) if trainable_layers > 0 else []
    if trainable_layers > len(layers) > 0:
        raise ValueError(
            f"trainable_layers={trainable_layers} but the model has {len(layers)} decoder "
            f"layers: pass at most {len(layers)}, or 0 to train every layer"
        )
    top = range(len(layers) - trainable_layers, len(layers))
    if lora_rank > 0:
        from peft import LoraConfig, get_peft_model

        lora = LoraConfig(
            r=lora_rank, lora_alpha=lora_alpha, lora_dropout=0.0, target_modules=LORA_TARGETS,
            layers_to_transform=list(top) if layers else None,
        )  # fmt: skip
        model = get_peft_model(model, lora)
    elif layers:
        model.requires_grad_(False)
        for i in top:
            layers[i].requires_grad_(True)
        norm = getattr(model.get_decoder(), "norm", None)
        if norm is not None:
            norm.requires_grad_(True)
    model.train()
    return model


def _decoder_layers(model: Any) -> Any:
    layers = getattr(model.get_decoder(), "layers", None)
    if layers is None:
        raise ValueError(
            f"trainable_layers needs a decoder with a .layers list; {type(model).__name__} has "
            "none: use trainable_layers=0"
        )
    return layers


def load_policy(path: str | Path, *, dtype=torch.float32, **prepare: Any) -> Any:
    """Load a causal LM from a local folder and ``prepare_model`` it."""
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(path), dtype=dtype)
    return prepare_model(model, **prepare)


MIN_SHARED_PREFIX = 16
"""Shorter common prefixes are not worth the extra pass."""


class SharedPrefix:
    """The first ``length`` tokens of a set of rows, encoded once for all of them.

    The prefix's keys, values and final hidden states are computed once, with grad. Each
    micro-batch of its rows attends to detached leaf copies of the keys and values (``cache``)
    and scores the prefix's own tokens from a leaf copy of its hidden states (``hidden``), so
    its backward stops at the leaves and adds the rows' share of the gradient there;
    ``backward()`` then carries the accumulated leaf gradients through the prefix's own graph,
    once. The parameter gradients are those of the unshared forward over whole rows (the sum
    is only regrouped).

    The prefix may hold scored tokens: the G episodes of one GRPO group usually play the same
    first turns (the same sampled calls, the same tool results) and part ways only at the
    decision that sets their rewards apart. Each row still weighs those tokens with its own
    advantage and sampler logprobs; only the network's pass over them is shared.
    """

    def __init__(self, model: Any, prefix: torch.Tensor, autocast_dtype: torch.dtype | None):
        base = unwrap(model)
        self.length = prefix.shape[-1]
        self.tokens = prefix.reshape(1, -1)
        self._config = base.config
        with torch.autocast(
            prefix.device.type, dtype=autocast_dtype, enabled=autocast_dtype is not None
        ):
            out = base.get_decoder()(input_ids=self.tokens, use_cache=True)
        cache = out.past_key_values
        kv = [t for layer in cache.layers for t in (layer.keys, layer.values)]
        self._outputs = [*kv, out.last_hidden_state]  # (1, heads, L, d) pairs, then (1, L, H)
        grad = torch.is_grad_enabled()
        self._leaves = [t.detach().requires_grad_(grad and t.requires_grad) for t in self._outputs]

    def cache(self, rows: int) -> Any:
        """A fresh key/value cache of the prefix for a micro-batch of ``rows`` rows."""
        from transformers import DynamicCache

        kv = self._leaves[:-1]
        pairs = zip(kv[0::2], kv[1::2], strict=True)
        data = [(k.expand(rows, -1, -1, -1), v.expand(rows, -1, -1, -1)) for k, v in pairs]
        return DynamicCache(data, config=self._config)

    def hidden(self, rows: int) -> torch.Tensor:
        """(rows, length, H) final hidden states of the prefix tokens (a leaf copy)."""
        return self._leaves[-1].expand(rows, -1, -1)

    def backward(self) -> None:
        """Carry the gradient the micro-batches left on the prefix through the prefix's graph."""
        pairs = [(out, leaf.grad) for out, leaf in zip(self._outputs, self._leaves, strict=True)]
        pairs = [(out, grad) for out, grad in pairs if grad is not None]
        if pairs:
            torch.autograd.backward([out for out, _ in pairs], [grad for _, grad in pairs])
        self._outputs, self._leaves = [], []


@dataclass(frozen=True)
class PrefixGroup:
    """Batch rows that run together, and the leading tokens they share (run once for all)."""

    rows: list[int]
    """Row indices into the batch."""
    length: int
    """Shared leading tokens; 0 = no sharing, each row runs whole."""


def plan_shared_prefixes(
    tokens: torch.Tensor,
    attention_mask: torch.Tensor,
    *,
    min_length: int = MIN_SHARED_PREFIX,
    overhead: int = 2 * MIN_SHARED_PREFIX,
) -> list[PrefixGroup]:
    """Split the rows of ``tokens`` (B, T) into groups that share a prefix, fewest tokens run.

    Rows are sorted by their tokens, so rows with long common prefixes (the episodes of one
    GRPO group; every conversation that starts with the same system prompt) sit side by
    side; a dynamic program over that order then picks the runs of rows that share their
    common prefix, minimising the tokens that go through the network (each shared prefix
    once, plus every row's suffix, plus ``overhead`` per extra pass). Every row keeps at least
    one token after its prefix. Rows that share nothing worth it come last, in one group of
    length 0.
    """
    lengths = attention_mask.sum(-1).tolist()  # (B,)
    seqs = [tokens[i, :n].tolist() for i, n in enumerate(lengths)]
    order = sorted(range(len(seqs)), key=lambda i: seqs[i])
    adjacent = [_common_length(seqs[a], seqs[b]) for a, b in itertools.pairwise(order)]
    # best[j]: fewest tokens to run the first j sorted rows; choice[j]: (start, shared length)
    best = [0] * (len(order) + 1)
    choice = [(0, 0)] * (len(order) + 1)
    for j in range(1, len(order) + 1):
        best[j], choice[j] = best[j - 1] + lengths[order[j - 1]], (j - 1, 0)
        common, shortest, total = 1 << 62, lengths[order[j - 1]], lengths[order[j - 1]]
        for i in range(j - 2, -1, -1):  # the run order[i:j]
            common = min(common, adjacent[i])
            shortest = min(shortest, lengths[order[i]])
            total += lengths[order[i]]
            shared = min(common, shortest - 1)
            if shared < min_length:
                break  # a longer run shares no more
            cost = best[i] + overhead + shared + total - (j - i) * shared
            if cost < best[j]:
                best[j], choice[j] = cost, (i, shared)
    groups, unshared, j = [], [], len(order)
    while j > 0:
        i, shared = choice[j]
        if shared:
            groups.append(PrefixGroup(rows=[order[k] for k in range(i, j)], length=shared))
        else:
            unshared.append(order[i])
        j = i
    groups.reverse()
    if unshared:
        groups.append(PrefixGroup(rows=sorted(unshared), length=0))
    return groups


def backward_micro_batches(
    model: Any,
    tokens: torch.Tensor,
    attention_mask: torch.Tensor,
    loss_of: Callable[[list[int], SharedPrefix | None], torch.Tensor],
    *,
    micro_batch_size: int,
    share_prefix: bool = True,
    autocast_dtype: torch.dtype | None = None,
) -> None:
    """Accumulate the gradient of a batch's loss, micro-batch by micro-batch.

    ``loss_of(rows, prefix)`` computes the loss of batch rows ``rows`` (a scalar tensor with
    grad; pass ``prefix``, what the rows start with, to ``token_logprobs``); its backward runs
    here, for every micro-batch, and so does each shared prefix's own backward once its last
    micro-batch is done. The whole pass is one call, so no micro-batch can be skipped and no
    prefix left without its backward (the gradient on shared tokens would silently be wrong).

    With ``share_prefix`` the rows are grouped by ``plan_shared_prefixes`` and a group's
    ``SharedPrefix`` is encoded once for its micro-batches; only one prefix graph is alive at
    a time. Without sharing (or under gradient checkpointing, which runs without a cache) the
    rows are taken in order, ``prefix`` None.
    """
    rows = list(range(tokens.shape[0]))
    groups = [PrefixGroup(rows=rows, length=0)]
    if share_prefix and not getattr(unwrap(model), "is_gradient_checkpointing", False):
        groups = plan_shared_prefixes(tokens, attention_mask)
    for group in groups:
        prefix = None
        if group.length:
            prefix = SharedPrefix(model, tokens[group.rows[0], : group.length], autocast_dtype)
        for lo in range(0, len(group.rows), micro_batch_size):
            loss = loss_of(group.rows[lo : lo + micro_batch_size], prefix)
            if not isinstance(loss, torch.Tensor) or loss.dim() != 0 or not loss.requires_grad:
                raise ValueError(
                    "loss_of must return a scalar tensor with grad (the micro-batch's share of "
                    f"the loss), got {type(loss).__name__}"
                    + (f" of shape {tuple(loss.shape)}" if isinstance(loss, torch.Tensor) else "")
                )
            loss.backward()
        if prefix is not None:
            prefix.backward()


def _common_length(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


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
        prefix: a ``SharedPrefix`` every row starts with: its tokens are not run again (their
            keys, values and hidden states come from it); they may be scored.
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
    start = 0 if prefix is None else prefix.length
    if prefix is not None and (
        tokens.shape[1] <= start
        or not torch.equal(tokens[:, :start], prefix.tokens.expand(len(tokens), -1))
    ):
        raise ValueError("rows must start with the shared prefix and go on after it")
    device_type = tokens.device.type
    with torch.autocast(device_type, dtype=autocast_dtype, enabled=autocast_dtype is not None):
        if prefix is None:
            hidden = base.get_decoder()(
                input_ids=tokens, attention_mask=attention_mask, use_cache=False
            ).last_hidden_state  # (B, T, H)
        else:
            suffix = base.get_decoder()(
                input_ids=tokens[:, start:], attention_mask=attention_mask,
                past_key_values=prefix.cache(len(tokens)), use_cache=True,
            ).last_hidden_state  # (B, T - start, H)  # fmt: skip
            shared = prefix.hidden(len(tokens)).to(suffix.dtype)  # (B, start, H)
            hidden = torch.cat([shared, suffix], dim=1)  # (B, T, H)
        # Position t-1 predicts token t: pick the hidden states before each wanted token.
        before = hidden[:, :-1][wanted[:, 1:]]  # (N, H)
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


def unwrap(model: Any) -> Any:
    """The plain transformers model under peft, for config access."""
    return model.get_base_model() if hasattr(model, "peft_config") else model
