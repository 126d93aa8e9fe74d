"""The environment contract (``llmgym check``), run over every registered id."""

import pytest

import llmgym
from llmgym.checks import run_checks

# BugFix runs real sandboxed pytest per step: its full test split belongs to the slow run.
HEAVY = {"llmgym/BugFix-v0"}


@pytest.mark.parametrize("env_id", sorted(i for i in llmgym.registered() if i not in HEAVY))
def test_contract(env_id):
    failures = [
        f"{r.name}: {r.detail}\n  what to do: {r.hint}" for r in run_checks(env_id) if not r.passed
    ]
    assert not failures, "\n".join(failures)


@pytest.mark.slow
@pytest.mark.parametrize("env_id", sorted(i for i in llmgym.registered() if i in HEAVY))
def test_contract_heavy(env_id):
    failures = [
        f"{r.name}: {r.detail}\n  what to do: {r.hint}" for r in run_checks(env_id) if not r.passed
    ]
    assert not failures, "\n".join(failures)
