"""transformers engine with the real default model: batching, padding, logprobs, seeds."""

import asyncio

import pytest

from llmgym.engines.base import Engine, SamplingParams
from llmgym.engines.hf_engine import HFEngine


@pytest.fixture(scope="module")
def engine(default_model_dir):
    # fp32 so that batched and single decoding agree exactly enough for greedy comparisons
    return HFEngine(default_model_dir, dtype="float32", gather_s=0.05, num_threads=2)


async def test_concurrent_requests_share_a_batch_and_match_single_decoding(engine, chat_prompts):
    assert isinstance(engine, Engine)
    greedy = SamplingParams(max_tokens=12, temperature=0.0)
    before = len(engine.batch_sizes)
    batched = await asyncio.gather(*(engine.generate(p, greedy) for p in chat_prompts))
    assert engine.batch_sizes[before:] == [len(chat_prompts)]
    for prompt, completion in zip(chat_prompts, batched, strict=True):
        single = await engine.generate(prompt, greedy)
        assert completion.token_ids == single.token_ids
        assert completion.finish_reason in ("stop", "length")
        assert len(completion.logprobs) == len(completion.token_ids)
    assert "Paris" in batched[1].text


async def test_logprobs_match_a_teacher_forced_forward_pass(engine, chat_prompts):
    import torch

    prompt = chat_prompts[2]
    completion = await engine.generate(
        prompt, SamplingParams(max_tokens=10, temperature=1.0, seed=1)
    )
    ids = torch.tensor([prompt + list(completion.token_ids)])
    with torch.inference_mode():
        logits = engine.model(ids).logits[0, len(prompt) - 1 : -1].float()  # (T, V)
    expected = torch.log_softmax(logits, -1).gather(1, ids[0, len(prompt) :, None])[:, 0]
    assert torch.allclose(torch.tensor(completion.logprobs), expected, atol=1e-3)


async def test_seeded_sampling_is_reproducible_and_max_tokens_respected(engine, chat_prompts):
    params = SamplingParams(max_tokens=6, temperature=1.0, top_p=0.9, top_k=50, seed=7)
    first, second = await asyncio.gather(
        engine.generate(chat_prompts[0], params), engine.generate(chat_prompts[0], params)
    )
    assert first.token_ids == second.token_ids
    assert len(first.token_ids) <= 6
    if len(first.token_ids) == 6:
        assert first.finish_reason == "length"


async def test_closed_engine_refuses_requests(default_model_dir, chat_prompts, engine):
    closing = HFEngine(engine.model, engine.tokenizer)
    await closing.generate(chat_prompts[0], SamplingParams(max_tokens=1))
    await closing.close()
    await closing.close()  # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        await closing.generate(chat_prompts[0], SamplingParams(max_tokens=1))


async def test_the_engine_protocol_with_tensors_and_folders(
    default_model_dir, perturbed_model_dir, engine_protocol
):
    """Weights as in-memory tensors (what the trainer passes) and as a saved folder."""
    from llmgym.engines.base import SavedWeights

    class InMemory:  # Weights whose folder() must not be needed by an in-process engine
        partial = False

        def __init__(self, folder):
            self.tensors = SavedWeights(folder).state_dict()

        def state_dict(self):
            return self.tensors

        def folder(self):
            raise AssertionError("the transformers engine must take the tensors")

    engine = HFEngine(default_model_dir, dtype="float32", gather_s=0.0, num_threads=2)
    await engine_protocol(engine, InMemory(perturbed_model_dir), default_model_dir)
