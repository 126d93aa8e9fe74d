"""Resumable training checkpoints: trainable weights, optimizer, RNG states, step, data position.

A checkpoint is a folder written atomically (temp folder, then rename), so a run killed while
saving leaves the previous checkpoint intact. Resuming restores every random generator the
trainer draws from, so a resumed run continues exactly as the uninterrupted one would.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import random
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckpointState:
    """The loop's own progress, saved beside the weights."""

    step: int
    """Optimisation steps completed."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Anything else the caller needs back (e.g. best eval score)."""


def _trainable_state(model: Any) -> dict[str, torch.Tensor]:
    # Only what the optimizer changes: LoRA adapters, or every weight for full fine-tuning.
    names = {n for n, p in model.named_parameters() if p.requires_grad}
    return {k: v.detach().clone() for k, v in model.state_dict().items() if k in names}


def save_checkpoint(
    directory: str | Path, model: Any, optimizer: torch.optim.Optimizer, state: CheckpointState
) -> Path:
    """Write ``directory`` (replacing it) with everything needed to resume exactly."""
    directory = Path(directory)
    tmp = directory.with_name(directory.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    torch.save(_trainable_state(model), tmp / "weights.pt")
    torch.save(optimizer.state_dict(), tmp / "optimizer.pt")
    rng = {
        "torch": torch.get_rng_state(),
        "python": random.getstate(),
        "numpy": np.random.get_state(),
    }
    torch.save(rng, tmp / "rng.pt")
    torch.save(asdict(state), tmp / "state.pt")
    if directory.exists():
        old = directory.with_name(directory.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(directory, old)
        os.replace(tmp, directory)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, directory)
    logger.info("saved checkpoint %s (step %d)", directory, state.step)
    return directory


def load_checkpoint(
    directory: str | Path, model: Any, optimizer: torch.optim.Optimizer
) -> CheckpointState:
    """Restore model weights, optimizer and RNG states in place; return the loop's state."""
    directory = Path(directory)
    if not (directory / "state.pt").is_file():
        raise FileNotFoundError(
            f"{directory} is not a checkpoint (no state.pt); pass a folder written by "
            "save_checkpoint, e.g. OUT/checkpoint"
        )
    weights = torch.load(directory / "weights.pt", weights_only=True)
    missing = set(_trainable_state(model)) - set(weights)
    if missing:
        raise ValueError(
            f"checkpoint {directory} lacks {len(missing)} trainable tensors "
            f"(e.g. {sorted(missing)[0]}): was it saved with another LoRA/full setting?"
        )
    model.load_state_dict(weights, strict=False)
    optimizer.load_state_dict(torch.load(directory / "optimizer.pt", weights_only=True))
    rng = torch.load(directory / "rng.pt", weights_only=False)
    torch.set_rng_state(rng["torch"])
    random.setstate(rng["python"])
    np.random.set_state(rng["numpy"])
    state = torch.load(directory / "state.pt", weights_only=False)
    logger.info("resumed from %s (step %d)", directory, state["step"])
    known = {f.name for f in dataclasses.fields(CheckpointState)}
    return CheckpointState(**{k: v for k, v in state.items() if k in known})


def saved_step(directory: str | Path) -> int:
    """The step a checkpoint in ``directory`` was saved at; 0 when there is none."""
    state = Path(directory) / "state.pt"
    return int(torch.load(state, weights_only=False)["step"]) if state.is_file() else 0
