"""Sandbox for untrusted agent code: bubblewrap isolation, rlimits, wall-clock kill, sweep."""

from llmgym.sandbox.runner import (
    SANDBOX_WORKDIR,
    Sandbox,
    SandboxLimits,
    SandboxResult,
    SandboxUnavailableError,
    probe_bwrap,
    strict_from_env,
)
from llmgym.sandbox.trees import remove_tree, scratch_dir, walk_tree

__all__ = [
    "SANDBOX_WORKDIR",
    "Sandbox",
    "SandboxLimits",
    "SandboxResult",
    "SandboxUnavailableError",
    "probe_bwrap",
    "remove_tree",
    "scratch_dir",
    "strict_from_env",
    "walk_tree",
]
