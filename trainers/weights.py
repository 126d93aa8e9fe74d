"""The policy's weights as a generation engine takes them: LoRA merged in
(``merged_state_dict``), saved as a model folder (``export_weights``), and, for a weight sync,
only the tensors training can change (``PolicyWeights(trained_only=True)``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch


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


def trained_weight_names(model: Any) -> set[str] | None:
    """Names (as ``merged_state_dict`` gives them) of the weights training can change; None
    when that is every weight. With LoRA: the weights its adapters merge into."""
    if hasattr(model, "peft_config"):
        base = model.get_base_model()
        if any(p.requires_grad and "lora_" not in n for n, p in base.named_parameters()):
            return None  # modules trained outside the adapters: send everything
        return {k.replace(".base_layer", "") for k in base.state_dict() if ".base_layer." in k}
    params = dict(model.named_parameters())
    if all(p.requires_grad for p in params.values()):
        return None
    return {name for name, p in params.items() if p.requires_grad}


class PolicyWeights:
    """The policy's current weights as an engine takes them (``llmgym.engines.Weights``):
    the merged tensors in memory, or (made on first request) a model folder under
    ``out_dir``. One per weight sync: the model must not change while it is used.

    ``trained_only``: the tensors are only those training can change (``partial``), for an
    engine that already holds the rest: one that was started from, or last given in full,
    the weights the trainer started from. The folder always holds every weight.
    """

    def __init__(
        self, model: Any, out_dir: str | Path, tokenizer: Any = None, *, trained_only: bool = False
    ):
        self.model, self.out_dir, self.tokenizer = model, Path(out_dir), tokenizer
        self._folder: Path | None = None
        self._trained = trained_weight_names(model) if trained_only else None

    @property
    def partial(self) -> bool:
        return self._trained is not None

    def state_dict(self) -> dict[str, torch.Tensor]:
        state = merged_state_dict(self.model)
        if self._trained is None:
            return state
        return {name: tensor for name, tensor in state.items() if name in self._trained}

    def folder(self) -> Path:
        if self._folder is None:
            self._folder = export_weights(self.model, self.out_dir, self.tokenizer)
        return self._folder
