"""Hugging Face transformers engine: the fallback when vLLM is absent.

Concurrent ``generate`` calls land in a queue; a batcher task takes whatever is waiting
(up to ``max_batch_size``, after a short gathering window), runs one KV-cached, left-padded
batch in a worker thread with per-request sampling parameters, and resolves each caller's
future. Requests that arrive while a batch runs form the next batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmgym.engines.base import (
    Completion,
    SamplingParams,
    Weights,
    as_weights,
    configure_cpu_threads,
    resolve_dtype,
)

logger = logging.getLogger(__name__)


@dataclass
class _Request:
    prompt: list[int]
    params: SamplingParams
    future: asyncio.Future[Completion]
    tokens: list[int] = field(default_factory=list)
    logprobs: list[float] = field(default_factory=list)
    finish_reason: str | None = None


class HFEngine:
    """Batched, KV-cached transformers generation over token ids.

    Args:
        model: a model folder or hub id (see ``llmgym.models.resolve_model``), or an
            already-loaded ``PreTrainedModel`` (the trainer's policy, shared in place).
        tokenizer: needed when ``model`` is an object; loaded from the folder otherwise.
        dtype: "auto" (bfloat16 where the hardware multiplies it natively, else float32:
            ``llmgym.engines.base.fast_dtype``), "float32" or "bfloat16".
        max_batch_size: most requests decoded together.
        gather_s: how long the batcher waits for more requests once one has arrived.
        num_threads: torch threads (default ``$OMP_NUM_THREADS`` or the usable cores).
    """

    def __init__(
        self,
        model: Any,
        tokenizer: Any = None,
        *,
        dtype: str = "auto",
        max_batch_size: int = 32,
        gather_s: float = 0.01,
        num_threads: int | None = None,
    ) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        configure_cpu_threads(num_threads)
        if isinstance(model, str | Path):
            tokenizer = tokenizer or AutoTokenizer.from_pretrained(model)
            model = AutoModelForCausalLM.from_pretrained(
                model, dtype=getattr(torch, resolve_dtype(dtype))
            )
        if tokenizer is None:
            raise ValueError("HFEngine got a model object without a tokenizer; pass tokenizer=")
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.eos_token_ids = _eos_ids(model, tokenizer)
        self.pad_token_id = tokenizer.pad_token_id
        if self.pad_token_id is None:
            self.pad_token_id = self.eos_token_ids[0]
        self.max_batch_size = max_batch_size
        self.gather_s = gather_s
        self._version = 0
        self.batch_sizes: list[int] = []
        """Size of every batch run so far (for tests and benches)."""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[_Request] | None = None
        self._batcher: asyncio.Task[None] | None = None
        self._closed = False

    async def generate(self, prompt_token_ids: list[int], params: SamplingParams) -> Completion:
        """Queue one request; it is decoded together with others waiting at the same time."""
        if self._closed:
            raise RuntimeError("HFEngine is closed")
        loop = asyncio.get_running_loop()
        if self._queue is None or self._loop is not loop:
            # One batcher per event loop (a queue and task cannot outlive their loop).
            self._loop, self._queue = loop, asyncio.Queue()
            self._batcher = loop.create_task(self._run_batches(), name="hf-engine-batcher")
        future: asyncio.Future[Completion] = loop.create_future()
        await self._queue.put(_Request(list(prompt_token_ids), params, future))
        return await future

    async def _run_batches(self) -> None:
        assert self._queue is not None
        while True:
            batch = [await self._queue.get()]
            deadline = time.perf_counter() + self.gather_s
            while len(batch) < self.max_batch_size:
                timeout = deadline - time.perf_counter()
                try:
                    batch.append(await asyncio.wait_for(self._queue.get(), max(timeout, 0)))
                except TimeoutError:
                    break
            batch = [r for r in batch if not r.future.cancelled()]
            if not batch:
                continue
            self.batch_sizes.append(len(batch))
            try:
                await asyncio.to_thread(self._decode, batch)
            except Exception as exc:  # a failed batch fails its requests, not the engine
                logger.exception("HF batch of %d failed", len(batch))
                for request in batch:
                    if not request.future.done():
                        request.future.set_exception(exc)
                continue
            for request in batch:
                if not request.future.done():
                    request.future.set_result(
                        Completion(
                            tuple(request.tokens),
                            tuple(request.logprobs),
                            request.finish_reason or "length",  # type: ignore[arg-type]
                            text=self.tokenizer.decode(request.tokens),
                        )
                    )

    def _decode(self, batch: list[_Request]) -> None:
        """Left-pad the prompts and decode them together with one KV cache."""
        import torch

        longest = max(len(r.prompt) for r in batch)
        input_ids = torch.full((len(batch), longest), self.pad_token_id, dtype=torch.long)
        attention_mask = torch.zeros((len(batch), longest), dtype=torch.long)
        for row, request in enumerate(batch):
            input_ids[row, longest - len(request.prompt) :] = torch.tensor(request.prompt)
            attention_mask[row, longest - len(request.prompt) :] = 1
        generators = [_generator(r.params.seed) for r in batch]
        max_steps = max(r.params.max_tokens for r in batch)
        past = None
        with torch.inference_mode():
            for _ in range(max_steps):
                position_ids = (attention_mask.cumsum(-1) - 1).clamp(min=0)
                if past is not None:
                    position_ids = position_ids[:, -1:]
                out = self.model(
                    input_ids=input_ids,
                    attention_mask=attention_mask,
                    position_ids=position_ids,
                    past_key_values=past,
                    use_cache=True,
                )
                past = out.past_key_values
                logits = out.logits[:, -1, :].float()  # (B, V)
                next_ids = torch.full((len(batch),), self.pad_token_id, dtype=torch.long)
                for row, request in enumerate(batch):
                    if request.finish_reason is not None:
                        continue
                    token, logprob = _sample(logits[row], request.params, generators[row])
                    request.tokens.append(token)
                    request.logprobs.append(logprob)
                    next_ids[row] = token
                    request.finish_reason = self._finish_reason(request)
                if all(r.finish_reason is not None for r in batch):
                    break
                input_ids = next_ids[:, None]
                attention_mask = torch.cat(
                    [attention_mask, torch.ones((len(batch), 1), dtype=torch.long)], dim=1
                )

    def _finish_reason(self, request: _Request) -> str | None:
        params, last = request.params, request.tokens[-1]
        if last in self.eos_token_ids or last in params.stop_token_ids:
            return "stop"
        if params.stop:
            tail = self.tokenizer.decode(request.tokens[-16:])
            if any(s in tail for s in params.stop):
                return "stop"
        if len(request.tokens) >= params.max_tokens:
            return "length"
        return None

    @property
    def model_version(self) -> int:
        return self._version

    async def load_weights(self, weights: Weights | str | Path, *, version: int) -> None:
        """Copy new weights into the engine's model in place (tensors, no disk round trip)."""
        self.model.load_state_dict(as_weights(weights).state_dict(), strict=False)
        self._version = version

    async def close(self) -> None:
        self._closed = True
        if self._batcher is not None:
            self._batcher.cancel()
            if self._loop is asyncio.get_running_loop():
                with contextlib.suppress(asyncio.CancelledError):
                    await self._batcher
            self._batcher = None


def _eos_ids(model: Any, tokenizer: Any) -> tuple[int, ...]:
    ids = model.generation_config.eos_token_id
    ids = [ids] if isinstance(ids, int) else list(ids or [])
    if tokenizer.eos_token_id is not None:
        ids.append(tokenizer.eos_token_id)
    return tuple(dict.fromkeys(ids))


def _generator(seed: int | None) -> Any:
    if seed is None:
        return None
    import torch

    return torch.Generator().manual_seed(seed)


def _sample(logits: Any, params: SamplingParams, generator: Any) -> tuple[int, float]:
    """Sample one token from ``logits`` (V,); return it with its logprob under the
    distribution actually sampled from (temperature, top-k and top-p applied)."""
    import torch

    if params.temperature <= 0:
        logprobs = torch.log_softmax(logits, dim=-1)
        token = int(logprobs.argmax())
        return token, float(logprobs[token])
    logits = logits / params.temperature
    if params.top_k > 0:
        kth = torch.topk(logits, min(params.top_k, logits.numel())).values[-1]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if params.top_p < 1.0:
        sorted_logits, order = torch.sort(logits, descending=True)
        cumulative = torch.softmax(sorted_logits, dim=-1).cumsum(-1)
        drop = cumulative - torch.softmax(sorted_logits, dim=-1) > params.top_p
        logits = logits.masked_fill(torch.zeros_like(drop).scatter(0, order, drop), float("-inf"))
    logprobs = torch.log_softmax(logits, dim=-1)
    token = int(torch.multinomial(logprobs.exp(), 1, generator=generator))
    return token, float(logprobs[token])
