"""The trainable policy: loading (full or LoRA), token logprobs, and exporting merged weights.

``token_logprobs`` is the one place that turns a causal LM's logits into the logprob of each
token given its prefix; the loss, the KL reference and the entropy statistic all go through it.
``export_weights`` writes plain (LoRA-merged) weights that a generation engine can reload.
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


def token_logprobs(
    model: Any,
    tokens: torch.Tensor,
    attention_mask: torch.Tensor,
    *,
    positions: torch.Tensor | None = None,
    with_entropy: bool = False,
    autocast_dtype: torch.dtype | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Logprob of each token given the tokens before it, and optionally the policy entropy.

    Args:
        tokens: (B, T) right-padded token ids.
        attention_mask: (B, T) 1 on real tokens.
        positions: (B, T) bool, the tokens whose logprob is needed (the loss mask). The
            vocabulary projection then runs only there: in agent episodes most tokens are
            prompt and tool output, and the (T, V) logits are a large share of the cost.
        autocast_dtype: run the network under CPU/GPU autocast (e.g. torch.bfloat16).

    Returns ``(logprobs, entropy)``, both (B, T) (float32 or wider), 0 at position 0 (it has no prefix)
    and outside ``positions``; ``entropy`` is None unless asked for (computed without grad).
    """
    base = unwrap(model)
    wanted = torch.ones_like(tokens, dtype=torch.bool) if positions is None else positions.bool()
    wanted = wanted.clone()
    wanted[:, 0] = False  # (B, T)
    device_type = tokens.device.type
    with torch.autocast(device_type, dtype=autocast_dtype, enabled=autocast_dtype is not None):
        hidden = base.get_decoder()(
            input_ids=tokens, attention_mask=attention_mask, use_cache=False
        ).last_hidden_state  # (B, T, H)
        # Position t-1 predicts token t: pick the hidden states before each wanted token.
        before = hidden[:, :-1][wanted[:, 1:]]  # (N, H)
        logits = base.get_output_embeddings()(before)  # (N, V)
    logits = logits.to(torch.promote_types(logits.dtype, torch.float32))  # bf16 -> fp32
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
