"""Weight sync into a running vLLM engine through shared memory, with no model folder.

The trainer writes every tensor it trains (all of them, unless it froze some layers), cast to
the engine's dtype, into one memory-mapped file (under ``/dev/shm`` when it has room: RAM,
not disk) and sends the workers only its path and a layout of plain data (name, dtype, shape,
offset). Each worker maps the file and reloads the tensors in place by their checkpoint names
(vLLM's ``reload_weights``), so nothing is serialised tensor by tensor, nothing is written as
float32 and no per-tensor dtype warning is logged. vLLM finds the worker side by name
(``worker_extension_cls``).
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

WORKER_EXTENSION = f"{__name__}.SharedWeightLoader"
"""What ``VLLMEngine`` passes as vLLM's ``worker_extension_cls``."""


@dataclass(frozen=True)
class TensorSlot:
    """Where one tensor lies in the shared file: plain data, as sent to the workers."""

    name: str
    dtype: str  # a torch dtype's name, e.g. "bfloat16"
    shape: tuple[int, ...]
    offset: int
    nbytes: int

    def as_list(self) -> list[Any]:
        return [self.name, self.dtype, list(self.shape), self.offset, self.nbytes]


def shared_dir(nbytes: int) -> str:
    """``/dev/shm`` when it can hold ``nbytes`` with room to spare, else the temp folder
    (a container's default ``/dev/shm`` is 64 MiB)."""
    shm = "/dev/shm"
    if os.path.isdir(shm) and os.access(shm, os.W_OK) and shutil.disk_usage(shm).free > 2 * nbytes:
        return shm
    return tempfile.gettempdir()


def write_shared(
    state_dict: Mapping[str, Any], dtype: Any, folder: str
) -> tuple[str, list[TensorSlot]]:
    """Write ``state_dict`` cast to ``dtype`` into one new file under ``folder``.

    Floating-point tensors are cast to ``dtype`` (the engine's), others kept as they are;
    the cast happens while copying, so no float32 copy of the model is made. Returns the
    file's path (the caller deletes it) and the layout.
    """
    import torch

    slots, offset = [], 0
    for name, tensor in state_dict.items():
        kind = dtype if tensor.is_floating_point() else tensor.dtype
        nbytes = tensor.numel() * torch.empty((), dtype=kind).element_size()
        slots.append(
            TensorSlot(name, str(kind).removeprefix("torch."), tuple(tensor.shape), offset, nbytes)
        )
        offset += -(-nbytes // 64) * 64  # 64-byte aligned, for any dtype's view
    fd, path = tempfile.mkstemp(prefix="llmgym-weights-", suffix=".bin", dir=folder)
    try:
        os.ftruncate(fd, max(offset, 1))
    finally:
        os.close(fd)
    try:
        buffer = torch.from_file(path, shared=True, size=max(offset, 1), dtype=torch.uint8)
        with torch.no_grad():
            for slot, tensor in zip(slots, state_dict.values(), strict=True):
                view = _view(buffer, slot)
                view.copy_(tensor.detach().reshape(slot.shape))
        del buffer
    except BaseException:
        os.unlink(path)
        raise
    return path, slots


def read_shared(path: str, layout: list[list[Any]]) -> Iterator[tuple[str, Any]]:
    """The (name, tensor) pairs of a file written by :func:`write_shared`, mapped, not copied."""
    import torch

    size = os.path.getsize(path)
    buffer = torch.from_file(path, shared=False, size=size, dtype=torch.uint8)
    for name, dtype, shape, offset, nbytes in layout:
        yield name, _view(buffer, TensorSlot(name, dtype, tuple(shape), offset, nbytes))


def _view(buffer: Any, slot: TensorSlot) -> Any:
    import torch

    flat = buffer[slot.offset : slot.offset + slot.nbytes]
    return flat.view(getattr(torch, slot.dtype)).view(slot.shape)


class _UnsentWeightsNotice(logging.Filter):
    """Drops vLLM's notices about weights left out of a reload by design: "Failed to load
    weights" for a tied output head and the rotary table (not in a model folder either) and,
    for a partial load (the frozen layers not sent), that notice for every layer and the list
    of "weights ... not loaded". Such a layer keeps the weights it has. In a full load, other
    layers still warn."""

    def __init__(self, partial: bool = False) -> None:
        super().__init__()
        self.partial = partial

    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg)
        if message.startswith("Following weights were not loaded from checkpoint"):
            return not self.partial
        if message.endswith(": Failed to load weights"):
            layer = record.getMessage().split(":")[0]
            return not (self.partial or layer in ("ParallelLMHead", "RotaryEmbedding"))
        return True


class _IntendedCast(logging.Filter):
    """Drops vLLM's per-tensor notice that a checkpoint tensor is cast to the engine's dtype
    (one line per tensor at start-up when a float32 folder is served in bfloat16): the cast
    is what the engine was asked for."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Attempted to load weight %s with dtype %s into")


# Importing this module is how a vLLM worker gets its extension, before it loads the model.
logging.getLogger("vllm.model_executor.models.utils").addFilter(_IntendedCast())


class SharedWeightLoader:
    """Mixed into each vLLM worker (``worker_extension_cls``): loads a shared weights file."""

    model_runner: Any

    def load_shared_weights(self, path: str, layout: list[list[Any]], partial: bool = False) -> int:
        """Load the tensors of ``path`` into the model in place; returns how many.

        Goes through vLLM's in-place reload, which puts checkpoint tensors back into the
        kernels' own layout (CPU kernels repack float32 weights, quantized ones re-process).
        ``partial``: ``path`` holds only some layers' tensors; the others keep theirs.
        """
        weights = list(read_shared(path, layout))
        quiet = _UnsentWeightsNotice(partial)
        loggers = [
            logging.getLogger(f"vllm.model_executor.model_loader.reload.{module}")
            for module in ("layerwise", "inplace")
        ]
        for notices in loggers:
            notices.addFilter(quiet)
        try:
            self.model_runner.reload_weights(weights_iterator=iter(weights))
        finally:
            for notices in loggers:
                notices.removeFilter(quiet)
        return len(weights)
