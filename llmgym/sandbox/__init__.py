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

__all__ = [
    "SANDBOX_WORKDIR",
    "Sandbox",
    "SandboxLimits",
    "SandboxResult",
    "SandboxUnavailableError",
    "probe_bwrap",
    "strict_from_env",
]
