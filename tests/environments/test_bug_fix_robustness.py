"""BugFix-v0 against trees built to break the env, and against oracles in the verdict.

From the third red team: agent code nests directories thousands deep (on Python 3.11 the
recursive ``os.walk`` and ``shutil.rmtree`` raised RecursionError from tools, ``close()``,
``reset()`` and ``step(submit)``, leaking temp dirs and the uid lease). It names a file with a
byte that is not UTF-8, which reached observations as a lone surrogate. And it replays a task
to read the judge's verdict and ``reward_components`` as an oracle. Everything goes through
``gym.make("llmgym/BugFix-v0")`` and the agent's tools.
"""

from __future__ import annotations

import fcntl
import glob
import json
import os
import re

import gymnasium as gym
import pytest

import llmgym  # noqa: F401  (registers the ids)
from llmgym.parsing import format_tool_call
from llmgym.sandbox import probe_bwrap, strict_from_env
from llmgym.sandbox.uids import LEASE_DIR

pytestmark = pytest.mark.skipif(
    probe_bwrap() is not None and not strict_from_env(),
    reason="bubblewrap unusable here (LLMGYM_SANDBOX_STRICT=1 fails instead)",
)

AS_ROOT = os.getuid() == 0  # uid leases exist only as root
DEPTH = 3_000  # "d/" * 3000: past Python's recursion limit and past PATH_MAX (4,096 bytes)
NEST = f"import os\nfor _ in range({DEPTH}):\n    os.mkdir('d'); os.chdir('d')\n"


def lease_is_free(uid: int) -> bool:
    fd = os.open(os.path.join(LEASE_DIR, str(uid)), os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True
    finally:
        os.close(fd)


def nest_in_place(top: str, depth: int = DEPTH) -> None:
    """Make ``top/d/d/...`` ``depth`` deep from this process (relative steps, as agent code)."""
    home = os.open(".", os.O_RDONLY)
    try:
        os.chdir(top)
        for _ in range(depth):
            os.mkdir("d")
            os.chdir("d")
    finally:
        os.fchdir(home)
        os.close(home)


def tool(env, name: str, **arguments: str) -> str:
    obs, *_ = env.step(format_tool_call(name, **arguments))
    return obs[-1]["content"]


def assert_utf8(env) -> None:
    """Every message the agent saw can be written as UTF-8 (no lone surrogate anywhere)."""
    json.dumps(env.unwrapped.transcript, ensure_ascii=False).encode("utf-8")


@pytest.fixture
def env():
    environment = gym.make("llmgym/BugFix-v0")
    yield environment
    environment.close()


# --- 1. deep trees ---------------------------------------------------------------------------


def test_a_deep_tree_made_with_run_leaves_every_tool_working(env):
    env.reset(options={"task_id": "test-0000"})
    tree = env.unwrapped.workspace.tree
    answer = tool(env, "run", command=f'python3 -c "{NEST}"; echo made')
    assert answer.startswith("[exit code 0]\nmade"), answer
    assert "folder(s) nested past" in answer  # the quota cut it back to walkable paths
    listing = tool(env, "list_files")
    assert "calutil/months.py" in listing and not listing.startswith("Error"), listing
    assert tool(env, "write_file", path="notes.txt", content="hi").startswith("Wrote 2 characters")
    assert tool(env, "read_file", path="notes.txt") == "hi"
    assert tool(env, "run", command="echo still").startswith("[exit code 0]\nstill")
    env.reset(options={"task_id": "test-0001"})  # the old tree goes, no RecursionError
    assert not tree.exists()


def test_close_and_reset_remove_a_tree_nested_past_path_max_and_free_the_lease(env):
    """A tree deeper than any path can name (built here, as a command could before the quota
    ran): close() and reset() delete it without raising, and the uid lease goes back."""
    env.reset(options={"task_id": "test-0000"})
    root, uid = env.unwrapped.workspace._root, env.unwrapped.sandbox.uid
    nest_in_place(str(env.unwrapped.workspace.tree))
    os.chmod(env.unwrapped.workspace.tree / "d" / "d", 0)  # and a folder the agent locked
    env.reset(options={"task_id": "test-0000"})
    assert not root.exists()
    root = env.unwrapped.workspace._root
    nest_in_place(str(env.unwrapped.workspace.tree))
    env.close()
    assert not root.exists()
    if AS_ROOT:
        assert lease_is_free(uid)


def test_a_deep_tree_made_in_the_judge_costs_no_fix_and_leaks_no_judge_dir(env):
    """Agent code imported by the judge's child nests folders in the judge tree: submit still
    answers (the fix is paid) and the judge tree is deleted."""
    before = set(glob.glob("/tmp/llmgym-judge-*"))
    env.reset(options={"task_id": "test-0000"})
    while "run_tests" not in (action := env.unwrapped.expert_action()):
        env.step(action)  # the expert's fix, without its submit
    init = tool(env, "read_file", path="calutil/__init__.py")
    payload = f"\nimport os as _os\n_home = _os.getcwd()\nexec({NEST!r})\n_os.chdir(_home)\n"
    tool(env, "write_file", path="calutil/__init__.py", content=init + payload)
    _, reward, terminated, _, info = env.step(format_tool_call("submit"))
    assert terminated and reward == 1.0, info
    assert set(glob.glob("/tmp/llmgym-judge-*")) - before == set()


# --- 2. names that are not UTF-8 -------------------------------------------------------------


def test_a_file_name_that_is_not_utf8_is_shown_escaped_and_answered_clearly(env):
    env.reset(options={"task_id": "test-0031"})
    made = tool(
        env,
        "run",
        command="touch \"$(printf 'bad\\377name')\"; mkdir \"$(printf 'dir\\376')\"; "
        "touch \"$(printf 'dir\\376/f.py')\"; ln -s \"$(printf 'bad\\377name')\" link.txt; ls",
    )
    assert made.startswith("[exit code 0]"), made
    listing = tool(env, "list_files")
    assert "bad\\xffname" in listing.splitlines() and "dir\\xfe/f.py" in listing.splitlines()
    assert "2 name(s) hold bytes that are not UTF-8" in listing
    assert "no such file" in tool(env, "read_file", path="bad\\xffname")
    assert tool(env, "write_file", path="link.txt", content="x") == (
        "Wrote 1 characters to bad\\xffname."
    )
    assert_utf8(env)


# --- 3. no oracle in the verdict -------------------------------------------------------------


@pytest.mark.parametrize("task_id", ["test-0043", "test-0031"])
def test_an_unrepaired_submit_reveals_no_count_and_no_value(env, task_id):
    """Replayed, an exact count of agreeing probes is a hill to climb, and a value is an answer
    (for a boolean probe, the value the agent's code gave is the negation of the right one)."""
    env.reset(options={"task_id": task_id})
    _, reward, terminated, _, info = env.step(format_tool_call("submit"))
    assert terminated and reward == 0.0
    assert set(info["reward_components"]) == {"probes", "failing_groups"}
    assert info["reward_components"]["failing_groups"] >= 1.0
    verdict = info["verdict"]
    assert verdict.startswith("probes disagree with the clean project, in "), verdict
    assert not re.search(r"\d+ of \d+|#\d|gave|expected|\"", verdict), verdict
