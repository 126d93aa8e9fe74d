"""The judge against the classic grader cheats: every cheat below must score 0.

Each cheat plays a real episode: it plants files through the agent's own tools (or a
sandboxed shell command), then submits without fixing the bug. The honest fix still scores
1.0 with the same junk planted beside it, so the judge ignores cheats rather than punishing
noise. The attacks on a judge that imports agent code are in ``test_bug_fix_attacks.py``.
"""

from __future__ import annotations

import json

import pytest

from llmgym.environments.bug_fix.cheats import PLANTS
from llmgym.environments.bug_fix.env import BugFixEnv
from llmgym.sandbox import probe_bwrap, strict_from_env

pytestmark = pytest.mark.skipif(
    probe_bwrap() is not None and not strict_from_env(),
    reason="bubblewrap unusable here (LLMGYM_SANDBOX_STRICT=1 fails instead)",
)

TASK = "test-0001"  # a medium task: visible tests pass, hidden tests catch the bug


def call(name: str, **arguments: str) -> str:
    return "<tool_call>" + json.dumps({"name": name, "arguments": arguments}) + "</tool_call>"


@pytest.fixture(scope="module")
def env():
    environment = BugFixEnv()
    yield environment
    environment.close()


def play(env: BugFixEnv, actions: list[str], fix: bool) -> tuple[float, dict]:
    env.reset(seed=0, options={"task_id": TASK})
    if fix:  # the expert's real fix, before the junk
        while "edit_file" not in (action := env.expert_action()):
            env.step(action)
        env.step(action)
    for action in actions:
        env.step(action)
    _, reward, terminated, _, info = env.step(call("submit"))
    assert terminated
    return reward, info


@pytest.mark.parametrize("cheat", sorted(PLANTS))
def test_cheat_scores_zero(env, cheat):
    env.reset(seed=0, options={"task_id": TASK})
    reward, info = play(env, PLANTS[cheat](env), fix=False)
    assert reward == 0.0, info


@pytest.mark.parametrize(
    "junk",
    [
        "conftest forces pass",
        "pytest.ini only collects",
        "tests deleted",
        "shadow pytest package",
    ],
)
def test_honest_fix_survives_planted_junk(env, junk):
    env.reset(seed=0, options={"task_id": TASK})
    reward, info = play(env, PLANTS[junk](env), fix=True)
    assert reward == 1.0, info


def test_patched_pytest_changes_nothing(env):
    """pytest no longer decides: patching it neither pays a bug nor costs a fix its reward."""
    env.reset(seed=0, options={"task_id": TASK})
    reward, info = play(env, PLANTS["pytest patched at import"](env), fix=True)
    assert reward == 1.0, info
    env.reset(seed=0, options={"task_id": TASK})
    reward, info = play(env, PLANTS["pytest patched at import"](env), fix=False)
    assert reward == 0.0, info
    assert "probes disagree" in info["verdict"]


async def naive_verdict(env: BugFixEnv) -> bool:
    """What a naive grader would say: pytest's exit code in the agent's own tree."""
    for rel, text in env.project.files.items():
        if rel.startswith("hidden_tests/"):
            (env.workspace.tree / rel).parent.mkdir(exist_ok=True)
            (env.workspace.tree / rel).write_text(text)
    env.sandbox.adopt(env.workspace.tree)
    result = await env.sandbox.arun("python -m pytest -q tests hidden_tests", env.workspace.tree)
    return result.exit_code == 0


@pytest.mark.parametrize(
    "cheat",
    [
        "conftest forces pass",
        "pytest.ini only collects",
        "os._exit(0) at import",
        "pytest patched at import",
    ],
)
async def test_cheat_would_fool_a_naive_grader(cheat):
    """The attacks are real: pytest run where the agent wrote reports success."""
    with BugFixEnv() as env:
        await env.areset(seed=0, options={"task_id": TASK})
        assert not await naive_verdict(env)  # the bug is there: honest naive run fails
        for action in PLANTS[cheat](env):
            await env.astep(action)
        assert await naive_verdict(env)
