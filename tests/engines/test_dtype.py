"""The "auto" dtype: bfloat16 only where the hardware multiplies it natively."""

import pytest
import torch

from llmgym.engines.base import fast_dtype, resolve_dtype
from llmgym.trainers.grpo.config import GRPOConfig


def test_auto_follows_the_cpus_bfloat16_support():
    native = torch.ops.mkldnn._is_mkldnn_bf16_supported()
    assert fast_dtype("cpu") == ("bfloat16" if native else "float32")
    assert resolve_dtype("auto") == fast_dtype("cpu")


def test_an_explicit_dtype_is_kept_and_a_bad_one_is_refused():
    assert resolve_dtype("float32") == "float32"
    assert resolve_dtype("bfloat16") == "bfloat16"
    with pytest.raises(ValueError, match="'auto', 'float32'"):
        resolve_dtype("bf16")


def test_the_trainer_autocasts_to_bfloat16_only_where_it_is_fast():
    expected = torch.bfloat16 if fast_dtype("cpu") == "bfloat16" else None
    if torch.cuda.is_available():
        pytest.skip("checks the CPU choice")
    assert GRPOConfig().autocast_dtype is expected
    assert GRPOConfig(train_dtype="bfloat16").autocast_dtype is torch.bfloat16
    assert GRPOConfig(train_dtype="float32").autocast_dtype is None
