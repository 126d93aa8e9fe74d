"""``import llmgym`` stays light: no torch, vLLM or transformers at import time."""

import subprocess
import sys


def test_import_llmgym_imports_nothing_heavy():
    code = "import sys, llmgym; print(sorted(m for m in ('torch', 'vllm', 'transformers', 'numpy.random') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    heavy = eval(out.stdout)
    assert "torch" not in heavy and "vllm" not in heavy and "transformers" not in heavy
