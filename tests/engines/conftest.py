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
