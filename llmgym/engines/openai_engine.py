"""OpenAI-compatible HTTP engine: one or more servers (``vllm serve``, any completions API).

Requests go to ``/v1/completions`` with the prompt as token ids. Against vLLM, the response
carries the sampled ``token_ids`` (``return_token_ids``) and each token's logprob, so
trajectories stay token-faithful. Servers that return only text are retokenized with the
local tokenizer (flagged ``retokenized`` in the completion's metadata: fine for evaluation,
not for training). Several base URLs are load-balanced by fewest requests in flight, and a
request that cannot reach one server is retried on the next.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from llmgym.engines.base import Completion, SamplingParams, Weights, as_finish_reason, as_weights

logger = logging.getLogger(__name__)


class OpenAIEngine:
    """Async client of OpenAI-compatible completion servers.

    Args:
        base_urls: server roots, e.g. ``["http://127.0.0.1:8000"]`` (a trailing ``/v1`` is fine).
        model: model name on the servers; ``None`` asks the first server's ``/v1/models``.
        tokenizer: used only when a server returns text without token ids.
        api_key: sent as a bearer token (default: none).
        timeout_s: per-request timeout.
        max_connections: per server.
    """

    _version = 0

    def __init__(
        self,
        base_urls: str | Sequence[str] = "http://127.0.0.1:8000",
        model: str | None = None,
        *,
        tokenizer: Any = None,
        api_key: str | None = None,
        timeout_s: float = 600.0,
        max_connections: int = 256,
    ) -> None:
        import httpx

        urls = [base_urls] if isinstance(base_urls, str) else list(base_urls)
        if not urls:
            raise ValueError("OpenAIEngine needs at least one base URL, got none")
        self.base_urls = [u.rstrip("/").removesuffix("/v1") for u in urls]
        self.model = model
        self.tokenizer = tokenizer
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        limits = httpx.Limits(max_connections=max_connections * len(self.base_urls))
        self._client = httpx.AsyncClient(
            headers=headers, timeout=httpx.Timeout(timeout_s), limits=limits
        )
        self.in_flight = dict.fromkeys(self.base_urls, 0)
        self.served = dict.fromkeys(self.base_urls, 0)
        """Requests answered by each server (for tests and load-balancing stats)."""
        self._tiebreak = itertools.count()
        self._warned_retokenized = False

    async def _model_name(self) -> str:
        import httpx

        for url in self.base_urls:
            if self.model is not None:
                break
            try:
                response = await self._client.get(f"{url}/v1/models")
            except httpx.TransportError as exc:
                logger.warning("server %s failed (%r); trying another", url, exc)
                continue
            response.raise_for_status()
            self.model = response.json()["data"][0]["id"]
        if self.model is None:
            raise ConnectionError(f"no server reachable among {self.base_urls} to list models")
        return self.model

    def _servers_by_load(self) -> list[str]:
        turn = next(self._tiebreak)
        n = len(self.base_urls)
        rotated = [self.base_urls[(turn + i) % n] for i in range(n)]
        return sorted(rotated, key=lambda url: self.in_flight[url])

    async def generate(self, prompt_token_ids: list[int], params: SamplingParams) -> Completion:
        import httpx

        body: dict[str, Any] = {
            "model": await self._model_name(),
            "prompt": list(prompt_token_ids),
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "logprobs": 0,
            "return_token_ids": True,
            "skip_special_tokens": False,
            "include_stop_str_in_output": True,
        }
        if params.top_k > 0:
            body["top_k"] = params.top_k
        if params.stop:
            body["stop"] = list(params.stop)
        if params.stop_token_ids:
            body["stop_token_ids"] = list(params.stop_token_ids)
        if params.seed is not None:
            body["seed"] = params.seed
        last_error: Exception | None = None
        for url in self._servers_by_load():
            self.in_flight[url] += 1
            try:
                response = await self._client.post(f"{url}/v1/completions", json=body)
            except httpx.TransportError as exc:  # unreachable: try the next server
                logger.warning("server %s failed (%r); trying another", url, exc)
                last_error = exc
                continue
            finally:
                self.in_flight[url] -= 1
            if response.status_code != 200:
                raise RuntimeError(
                    f"{url}/v1/completions answered {response.status_code}: {response.text[:500]}"
                )
            self.served[url] += 1
            return self._completion(response.json()["choices"][0])
        raise ConnectionError(f"no server reachable among {self.base_urls}: {last_error!r}")

    def _completion(self, choice: dict[str, Any]) -> Completion:
        finish = as_finish_reason(choice.get("finish_reason"))
        text = choice.get("text", "")
        token_logprobs = (choice.get("logprobs") or {}).get("token_logprobs") or []
        token_ids = choice.get("token_ids")
        if token_ids is not None:
            if len(token_logprobs) != len(token_ids):
                raise RuntimeError(
                    f"server returned {len(token_ids)} token ids but {len(token_logprobs)} "
                    "logprobs; is it a vLLM server with logprobs enabled?"
                )
            return Completion(tuple(token_ids), tuple(map(float, token_logprobs)), finish, text)
        if self.tokenizer is None:
            raise RuntimeError(
                "the server returned no token ids (not vLLM?); pass tokenizer= to retokenize"
            )
        if not self._warned_retokenized:
            logger.warning("server returns text only: completions are retokenized locally")
            self._warned_retokenized = True
        ids = list(self.tokenizer(text, add_special_tokens=False)["input_ids"])
        if finish == "stop" and self.tokenizer.eos_token_id is not None:
            ids.append(self.tokenizer.eos_token_id)
        logprobs = token_logprobs if len(token_logprobs) == len(ids) else [0.0] * len(ids)
        return Completion(
            tuple(ids),
            tuple(float(x or 0.0) for x in logprobs),
            finish,
            text,
            {"retokenized": True},
        )

    @property
    def model_version(self) -> int:
        return self._version

    async def load_weights(self, weights: Weights | str | Path, *, version: int) -> None:
        """Reload weights on every server in place (servers need ``VLLM_SERVER_DEV_MODE=1``)."""
        folder = as_weights(weights).folder()

        async def reload(url: str) -> None:
            rpc = {"method": "reload_weights", "kwargs": {"weights_path": str(folder)}}
            for path, body in (("/collective_rpc", rpc), ("/reset_prefix_cache", None)):
                response = await self._client.post(url + path, json=body)
                if response.status_code != 200:
                    raise RuntimeError(
                        f"{url}{path} answered {response.status_code}: {response.text[:300]} "
                        "(start the server with VLLM_SERVER_DEV_MODE=1)"
                    )

        await asyncio.gather(*(reload(url) for url in self.base_urls))
        self._version = version

    async def close(self) -> None:
        await self._client.aclose()
