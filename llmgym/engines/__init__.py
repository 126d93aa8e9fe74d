"""Generation engines behind one async protocol (token ids in, sampled token ids out).

``create_engine("vllm" | "hf" | "openai", model=...)`` builds one; the heavy backends are
imported only then. See ``llmgym.engines.base`` for the protocol and records.
"""

from __future__ import annotations

from typing import Any

from llmgym.engines.base import Completion, Engine, SamplingParams

ENGINE_KINDS = ("vllm", "hf", "openai")

__all__ = ["ENGINE_KINDS", "Completion", "Engine", "SamplingParams", "create_engine"]


def create_engine(kind: str, model: str | None = None, **kwargs: Any) -> Engine:
    """Build an engine of ``kind`` for ``model`` (``None`` = the default model).

    ``kwargs`` go to the engine's constructor (e.g. ``base_urls`` for "openai",
    ``max_batch_size`` for "hf", ``max_model_len`` for "vllm").
    """
    from llmgym.models import resolve_model

    if kind == "vllm":
        from llmgym.engines.vllm_engine import VLLMEngine

        return VLLMEngine(resolve_model(model), **kwargs)
    if kind == "hf":
        from llmgym.engines.hf_engine import HFEngine

        return HFEngine(resolve_model(model), **kwargs)
    if kind == "openai":
        from llmgym.engines.openai_engine import OpenAIEngine

        return OpenAIEngine(model=model, **kwargs)
    raise ValueError(f"unknown engine kind {kind!r}; expected one of {ENGINE_KINDS}")
