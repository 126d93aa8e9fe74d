"""Shared fixtures for engine tests: the default model folder and its tokenizer."""

import importlib.metadata

import pytest

from llmgym import models


@pytest.fixture(scope="session")
def default_model_dir() -> str:
    try:
        importlib.metadata.distribution(models.GGUF_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        pytest.skip(f"default model needs `{models.INSTALL_HINT}`")
    return models.resolve_model("default")


@pytest.fixture(scope="session")
def tokenizer(default_model_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(default_model_dir)


@pytest.fixture(scope="session")
def chat_prompts(tokenizer) -> list[list[int]]:
    """Three chat prompts of different lengths (so batches need padding)."""
    questions = ["Hi.", "What is the capital of France?", "List three colours, one per line."]
    prompts = []
    for q in questions:
        text = tokenizer.apply_chat_template(
            [{"role": "user", "content": q}], add_generation_prompt=True, tokenize=False
        )
        prompts.append(list(tokenizer(text, add_special_tokens=False)["input_ids"]))
    return prompts


@pytest.fixture(scope="session")
def engine_protocol(chat_prompts):
    """``await engine_protocol(engine, perturbed, original)``: what every engine must do.

    It is an ``Engine``; ``model_version`` is 0 until weights are loaded and then the
    version given with them; loading ``perturbed`` weights (a model folder or ``Weights``)
    changes greedy output, loading ``original`` brings it back; ``close`` is idempotent.
    ``perturbed`` None: an engine without weights (a scripted policy), only versions checked.
    """
    from llmgym.engines.base import Engine, SamplingParams

    async def check(engine, perturbed=None, original=None, prompt=None):
        assert isinstance(engine, Engine)
        assert engine.model_version == 0
        greedy = SamplingParams(max_tokens=8, temperature=0.0)
        prompt = prompt or chat_prompts[1]
        before = await engine.generate(prompt, greedy)
        assert len(before.token_ids) == len(before.logprobs) > 0
        if perturbed is not None:
            await engine.load_weights(perturbed, version=3)
            assert engine.model_version == 3
            assert (await engine.generate(prompt, greedy)).token_ids != before.token_ids
            await engine.load_weights(original, version=4)
            assert engine.model_version == 4
            assert (await engine.generate(prompt, greedy)).token_ids == before.token_ids
        else:
            await engine.load_weights("unused", version=5)
            assert engine.model_version == 5
        await engine.close()
        await engine.close()

    return check


@pytest.fixture(scope="session")
def perturbed_model_dir(default_model_dir, tmp_path_factory):
    """The default model with every weight moved a little, saved as a model folder."""
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(default_model_dir, dtype=torch.float32)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=generator) * 0.05)
    out = tmp_path_factory.mktemp("perturbed")
    model.save_pretrained(out)
    return out
