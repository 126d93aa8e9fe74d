"""The shared-memory weights file that feeds vLLM's workers (no vLLM needed)."""

import os

import pytest
import torch

from llmgym.engines.vllm_weights import read_shared, shared_dir, write_shared


def test_weights_round_trip_in_the_engine_dtype_and_other_tensors_as_they_are(tmp_path):
    state = {
        "a.weight": torch.randn(3, 5),
        "b.bias": torch.randn(7, dtype=torch.float64),
        "steps": torch.arange(4, dtype=torch.int64),
        "scalar": torch.tensor(2.5),
    }
    path, layout = write_shared(state, torch.bfloat16, str(tmp_path))
    try:
        loaded = dict(read_shared(path, [slot.as_list() for slot in layout]))
    finally:
        os.unlink(path)
    assert list(loaded) == list(state)
    assert loaded["a.weight"].dtype == loaded["b.bias"].dtype == torch.bfloat16
    assert torch.equal(loaded["a.weight"], state["a.weight"].to(torch.bfloat16))
    assert torch.equal(loaded["b.bias"], state["b.bias"].to(torch.bfloat16))
    assert loaded["steps"].dtype == torch.int64 and torch.equal(loaded["steps"], state["steps"])
    assert loaded["scalar"].shape == () and float(loaded["scalar"]) == 2.5
    assert all(slot.offset % 64 == 0 for slot in layout)
    # the layout crossing to the workers is plain data
    assert all(type(v) in (str, int, list) for slot in layout for v in slot.as_list())


def test_a_failed_write_leaves_no_file(tmp_path):
    class Broken:
        shape = (2,)
        dtype = torch.float32

        def is_floating_point(self):
            return True

        def numel(self):
            return 2

        def detach(self):
            raise RuntimeError("tensor gone")

    with pytest.raises(RuntimeError, match="tensor gone"):
        write_shared({"x": Broken()}, torch.bfloat16, str(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_shared_dir_falls_back_when_shared_memory_is_too_small():
    assert shared_dir(1) in ("/dev/shm", __import__("tempfile").gettempdir())
    assert shared_dir(1 << 60) != "/dev/shm"


@pytest.mark.parametrize("partial", [False, True])
def test_notices_of_weights_left_out_are_dropped_only_where_left_out_by_design(partial):
    """A tied head and the rotary table are never sent: their notice is always dropped. Any
    other layer without weights, and vLLM's list of weights not loaded, is a real problem in
    a full load (kept) and the frozen layers by design in a partial one (dropped)."""
    import logging

    from llmgym.engines.vllm_weights import _UnsentWeightsNotice

    def record(msg, *args):
        return logging.LogRecord("vllm", logging.WARNING, __file__, 1, msg, args, None)

    quiet = _UnsentWeightsNotice(partial)
    assert not quiet.filter(record("%s: Failed to load weights", "ParallelLMHead"))
    assert not quiet.filter(record("%s: Failed to load weights", "RotaryEmbedding"))
    assert quiet.filter(record("%s: Failed to load weights", "QKVParallelLinear")) is not partial
    listed = record("Following weights were not loaded from checkpoint: %s", {"a.weight"})
    assert quiet.filter(listed) is not partial
    assert quiet.filter(record("something else entirely"))
