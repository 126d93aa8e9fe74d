"""The generation protocol every engine implements: token ids in, sampled token ids out.

An engine takes a prompt as token ids plus ``SamplingParams`` and returns a ``Completion``:
the token ids it sampled, the sampler's logprob of each, and why it stopped. Working on
token ids (never re-rendered text) is what keeps trajectories faithful to what the policy
actually produced. Engines are async so that many episodes share one engine's batching.

A trainer moves the engine to new weights with ``load_weights(weights, version=...)``: the
engine takes them in the form it needs (``Weights``: the tensors in memory, or a saved
model folder) and from then on reports ``model_version == version``. The version has one
owner, the caller that loads the weights (the trainer's step count); no engine invents one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

FinishReason = Literal["stop", "length", "abort"]


def as_finish_reason(value: object) -> FinishReason:
    """Map a backend's finish reason onto ours ("stop", "length"; anything else "abort")."""
    if value == "stop":
        return "stop"
    if value == "length":
        return "length"
    return "abort"


@dataclass(frozen=True)
class SamplingParams:
    """How to sample one completion."""

    max_tokens: int = 256
    """Most new tokens to generate."""
    temperature: float = 1.0
    """0 means greedy."""
    top_p: float = 1.0
    top_k: int = 0
    """0 or -1 disables top-k."""
    stop: tuple[str, ...] = ()
    """Stop strings (the stop string is kept in the output)."""
    stop_token_ids: tuple[int, ...] = ()
    """Extra token ids that end the completion besides the tokenizer's eos."""
    seed: int | None = None


@dataclass(frozen=True)
class Completion:
    """What an engine sampled for one prompt."""

    token_ids: tuple[int, ...]
    logprobs: tuple[float, ...]
    """The sampler's logprob of each token in ``token_ids`` (same length)."""
    finish_reason: FinishReason
    text: str = ""
    """The decoded completion, where the engine provides it (informational)."""
    metadata: dict[str, object] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if len(self.token_ids) != len(self.logprobs):
            raise ValueError(
                f"a completion needs one logprob per token, got {len(self.token_ids)} tokens "
                f"and {len(self.logprobs)} logprobs"
            )


@runtime_checkable
class Weights(Protocol):
    """New policy weights, in both forms an engine may need."""

    @property
    def partial(self) -> bool:
        """True when ``state_dict`` holds only the weights training can change (a trainer
        with frozen layers): the engine keeps the others as it loaded them."""
        ...

    def state_dict(self) -> Mapping[str, Any]:
        """The weights as tensors, by parameter name (in-process engines copy these): every
        weight, or only the trained ones when ``partial``."""
        ...

    def folder(self) -> Path:
        """A saved model folder (safetensors + config) that a server or vLLM reloads."""
        ...


@dataclass(frozen=True)
class SavedWeights:
    """``Weights`` already saved as a model folder (e.g. a checkpoint or the base model)."""

    path: Path

    @property
    def partial(self) -> bool:
        return False

    def folder(self) -> Path:
        return self.path

    def state_dict(self) -> dict[str, Any]:
        from safetensors.torch import load_file

        tensors: dict[str, Any] = {}
        for file in sorted(self.path.glob("*.safetensors")):
            tensors.update(load_file(file))
        if not tensors:
            raise FileNotFoundError(f"no *.safetensors weights in {self.path}")
        return tensors


def as_weights(weights: Weights | str | Path) -> Weights:
    """``weights``, a model folder's path wrapped as ``SavedWeights``."""
    if isinstance(weights, str | Path):
        return SavedWeights(Path(weights))
    return weights


@runtime_checkable
class Engine(Protocol):
    """An async text generator over token ids; see the module docstring."""

    @property
    def model_version(self) -> int:
        """The version given with the weights last loaded (0 before any load)."""
        ...

    async def generate(self, prompt_token_ids: list[int], params: SamplingParams) -> Completion:
        """Sample one completion for ``prompt_token_ids``; concurrent calls are batched."""
        ...

    async def load_weights(self, weights: Weights | str | Path, *, version: int) -> None:
        """Replace the model's weights in place (no request in flight); then
        ``model_version == version``. A path is a saved model folder."""
        ...

    async def close(self) -> None:
        """Release the engine's resources (idempotent)."""
        ...


def configure_cpu_threads(num_threads: int | None = None) -> int:
    """Set torch's intra-op threads and passive OpenMP waiting; returns the thread count.

    On a few shared cores, OpenMP's default spin-waiting makes decode steps 10x slower
    under load (measured on a 2-core machine), so engines set ``OMP_WAIT_POLICY=PASSIVE``
    unless the user chose otherwise. ``num_threads`` defaults to ``$OMP_NUM_THREADS`` or the usable core count.
    The wait policy only takes effect if set before the OpenMP runtime starts (first torch
    import): scripts and CI should export ``OMP_WAIT_POLICY=PASSIVE`` themselves.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    if num_threads is None:
        env_value = os.environ.get("OMP_NUM_THREADS")
        num_threads = int(env_value) if env_value else len(os.sched_getaffinity(0))
    import torch

    torch.set_num_threads(max(1, num_threads))
    return torch.get_num_threads()


def fast_dtype(device: str = "cpu") -> str:
    """ "bfloat16" where ``device`` multiplies bfloat16 natively, else "float32".

    A CPU without bfloat16 instructions (AVX2 only, as on this project's 2-core AMD
    machine) runs bfloat16 matmuls through a scalar fallback: measured there, 0.7 GFLOP/s
    against 63 GFLOP/s for float32 (``bench/bench_train_step.py`` prints both), so
    "bfloat16" would make generation and training many times slower, not 2x faster.
    """
    import torch

    if device.startswith("cuda"):
        return (
            "bfloat16"
            if torch.cuda.is_available() and torch.cuda.is_bf16_supported()
            else "float32"
        )
    try:
        native = bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # a torch build without oneDNN
        native = False
    return "bfloat16" if native else "float32"


def resolve_dtype(dtype: str, device: str = "cpu") -> str:
    """``dtype`` with "auto" replaced by :func:`fast_dtype`; anything else is checked."""
    if dtype == "auto":
        return fast_dtype(device)
    if dtype not in ("float32", "bfloat16", "float16"):
        raise ValueError(f"dtype must be 'auto', 'float32', 'bfloat16' or 'float16', got {dtype!r}")
    return dtype


def unknown_names(options: dict[str, Any], known: set[str]) -> str | None:
    """The names in ``options`` that are not in ``known``, each with its closest known name
    ("'max_num_seq' (did you mean 'max_num_seqs'?)"), or None when all are known."""
    import difflib

    hints = []
    for name in sorted(set(options) - known):
        close = difflib.get_close_matches(name, known, 1)
        hints.append(f"{name!r} (did you mean {close[0]!r}?)" if close else repr(name))
    return ", ".join(hints) or None
