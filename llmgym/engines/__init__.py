"""Generation engines behind one async protocol (token ids in, sampled token ids out).

``create_engine("auto" | "vllm" | "hf" | "openai", model=...)`` builds one; the heavy backends are
imported only then. See ``llmgym.engines.base`` for the protocol and records.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from llmgym.engines.base import Completion, Engine, SamplingParams

ENGINE_KINDS = ("auto", "vllm", "hf", "openai")
"""``auto``: the fastest engine installed (vLLM when importable, else transformers)."""

__all__ = ["ENGINE_KINDS", "Completion", "Engine", "SamplingParams", "create_engine", "engine_kind"]


def engine_kind(kind: str) -> str:
    """``kind`` with ``auto`` resolved to the fastest installed engine."""
    if kind == "auto":
        return "vllm" if importlib.util.find_spec("vllm") else "hf"
    if kind not in ENGINE_KINDS:
        raise ValueError(f"unknown engine kind {kind!r}; expected one of {ENGINE_KINDS}")
    return kind


def create_engine(
    kind: str,
    model: str | None = None,
    *,
    max_context: int | None = None,
    threads: int | None = None,
    seed: int | None = None,
    **kwargs: Any,
) -> Engine:
    """Build an engine of ``kind`` (see ``engine_kind``) for ``model`` (``None`` = the
    default model). The one place engines are built: every command and bench calls it.

    ``max_context`` bounds a sequence (vLLM's ``max_model_len``); ``threads`` sets the
    transformers engine's torch threads; ``seed`` seeds vLLM's own sampling stream (vLLM on
    CPU drops per-request seeds, so without it every run samples alike whatever its seed; the
    other engines take the seed of each request); other ``kwargs`` go to the engine's constructor
    (e.g. ``base_urls`` and ``tokenizer`` for "openai", ``max_batch_size`` for "hf").
    """
    from llmgym.models import resolve_model

    kind = engine_kind(kind)
    if kind == "vllm":
        from llmgym.engines.vllm_engine import VLLMEngine

        if max_context is not None:
            kwargs.setdefault("max_model_len", max_context)
        if seed is not None:
            kwargs.setdefault("seed", seed)
        return VLLMEngine(resolve_model(model), **kwargs)
    if kind == "hf":
        from llmgym.engines.hf_engine import HFEngine

        return HFEngine(resolve_model(model), num_threads=threads, **kwargs)
    from llmgym.engines.openai_engine import OpenAIEngine

    return OpenAIEngine(model=model, **kwargs)
