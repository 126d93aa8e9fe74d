"""Generation engines behind one async protocol (token ids in, sampled token ids out).

``create_engine("auto" | "vllm" | "hf" | "openai", model=...)`` builds one; the heavy backends are
imported only then. See ``llmgym.engines.base`` for the protocol and records.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from llmgym.engines.base import Completion, Engine, SamplingParams, unknown_names

ENGINE_KINDS = ("auto", "vllm", "hf", "openai")
"""``auto``: the fastest engine installed (vLLM when importable, else transformers)."""

__all__ = [
    "ENGINE_KINDS",
    "Completion",
    "Engine",
    "SamplingParams",
    "create_engine",
    "engine_kind",
    "engine_options_problem",
]


def engine_kind(kind: str) -> str:
    """``kind`` with ``auto`` resolved to the fastest installed engine."""
    if kind == "auto":
        return "vllm" if importlib.util.find_spec("vllm") else "hf"
    if kind not in ENGINE_KINDS:
        raise ValueError(f"unknown engine kind {kind!r}; expected one of {ENGINE_KINDS}")
    return kind


OWNED_OPTIONS = {
    "model": "model",
    "max_model_len": "max_context",
    "seed": "seed",
    "num_threads": "threads",
    "tokenizer": "model (its own tokenizer)",
}
"""Engine arguments that ``create_engine`` sets from its own parameters (named here)."""


def engine_options_problem(
    kind: str, options: dict[str, Any], owned: dict[str, str] = OWNED_OPTIONS
) -> str | None:
    """Why ``options`` cannot be passed to ``create_engine(kind, ...)`` as extra keyword
    arguments, or None: one the caller sets elsewhere (``owned``: argument -> where), or one
    the engine does not take (vLLM: ``AsyncEngineArgs`` fields; checking those imports vLLM)."""
    import inspect

    if taken := sorted(set(options) & set(owned)):
        where = "; ".join(f"{name!r} comes from {owned[name]}" for name in taken)
        return f"got {', '.join(map(repr, taken))}: {where}; set it there"
    resolved = engine_kind(kind)
    if not options or resolved == "openai":
        return None
    if resolved == "vllm":
        from llmgym.engines.vllm_engine import engine_args_problem

        return engine_args_problem(options)
    from llmgym.engines.hf_engine import HFEngine

    known = set(inspect.signature(HFEngine.__init__).parameters) - {"self", *OWNED_OPTIONS}
    if not (unknown := unknown_names(options, known)):
        return None
    which = "the hf engine" if kind == "hf" else f"engine {kind!r}, the hf engine here (no vLLM)"
    return f"got {unknown}, expected keyword arguments of {which}: {sorted(known)}"


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
