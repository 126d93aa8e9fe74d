"""BugFix-v0 lifecycle: close, step after close, envs dropped unclosed, deepcopy and pickle.

Resources of an episode: the work tree (a temp dir) and the sandbox's uid lease (a flocked
file; as root, one uid per live sandbox, which the process sweep relies on). Closing releases
both; so does dropping the env (finalizers); a copy or an unpickled env holds its own.
"""

from __future__ import annotations

import copy
import fcntl
import gc
import os
import pickle
import subprocess
import sys

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import data_equivalence

import llmgym  # noqa: F401
from llmgym.environments.bug_fix.env import BugFixEnv
from llmgym.parsing import format_tool_call
from llmgym.sandbox.uids import LEASE_DIR, lease_uid

AS_ROOT = os.getuid() == 0  # uid leases exist only as root (else commands run as ourselves)


def lease_is_free(uid: int) -> bool:
    """Whether nobody holds the lease of ``uid`` (a new open file description's flock)."""
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


def started(task_id: str = "test-0000") -> BugFixEnv:
    env = BugFixEnv()
    env.reset(seed=0, options={"task_id": task_id})
    return env


def test_step_after_close_is_a_clear_error_and_reset_reopens():
    env = started()
    env.close()
    with pytest.raises(RuntimeError, match=r"closed: call reset\(\)"):
        env.step(format_tool_call("submit"))
    with pytest.raises(RuntimeError, match=r"call reset\(\)"):
        env.expert_action()
    env.close()  # idempotent
    env.reset(seed=0, options={"task_id": "test-0000"})  # a new episode, a new sandbox
    obs, *_ = env.step(format_tool_call("list_files"))
    assert obs[0]["role"] == "tool" and ".py" in obs[0]["content"]
    env.close()


def test_an_env_dropped_without_close_releases_its_tree_and_uid():
    env = gym.make("llmgym/BugFix-v0")
    env.reset(seed=0, options={"task_id": "test-0000"})
    root = env.unwrapped.workspace._root
    uid = env.unwrapped.sandbox.uid
    assert root.exists()
    if AS_ROOT:
        assert not lease_is_free(uid)
    del env
    gc.collect()
    assert not root.exists()
    if AS_ROOT:
        assert lease_is_free(uid)


@pytest.mark.skipif(not AS_ROOT, reason="uid leases are taken only as root")
def test_a_dropped_lease_is_freed_and_a_copied_lease_is_another_uid():
    lease = lease_uid()
    twin = copy.deepcopy(lease)
    assert twin.uid != lease.uid and twin.held
    uid = lease.uid
    del lease
    gc.collect()
    assert lease_is_free(uid)
    twin.release()
    twin.release()  # idempotent
    assert lease_is_free(twin.uid)
    assert not pickle.loads(pickle.dumps(twin)).held  # a released lease stays released


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_copies_are_independent(how):
    env = started()
    env.step(format_tool_call("write_file", path="notes.txt", content="mine"))
    twin = copy.deepcopy(env) if how == "deepcopy" else pickle.loads(pickle.dumps(env))
    original_root, twin_root = env.workspace._root, twin.workspace._root
    assert twin_root != original_root
    assert (twin.workspace.tree / "notes.txt").read_text() == "mine"
    if AS_ROOT:
        assert twin.sandbox.uid != env.sandbox.uid
        assert os.stat(twin.workspace.tree).st_uid == twin.sandbox.uid
    twin.step(format_tool_call("write_file", path="notes.txt", content="twin's"))
    assert (env.workspace.tree / "notes.txt").read_text() == "mine"
    uid = env.sandbox.uid
    twin.close()
    assert not twin_root.exists()
    assert original_root.exists()  # closing the copy leaves the original's tree...
    if AS_ROOT:
        assert not lease_is_free(uid)  # ...and its uid
    obs, *_ = env.step(format_tool_call("read_file", path="notes.txt"))
    assert obs[0]["content"] == "mine"
    env.close()


def test_a_copy_continues_like_the_original_through_the_sandbox():
    env = started()
    env.step(env.expert_action())
    twin = copy.deepcopy(env)
    for _ in range(3):  # the expert's next actions (edit, run_tests, submit) on both
        action = env.expert_action()
        assert twin.expert_action() == action
        step, twin_step = env.step(action), twin.step(action)
        assert data_equivalence(step, twin_step)
    assert step[1] == 1.0 and step[2]  # both graded, both solved
    env.close()
    twin.close()


def test_interpreter_exit_without_close_removes_the_tree():
    code = (
        "import gymnasium as gym, llmgym\n"
        "env = gym.make('llmgym/BugFix-v0')\n"
        "env.reset(seed=0, options={'task_id': 'test-0000'})\n"
        "print(env.unwrapped.workspace._root, env.unwrapped.sandbox.uid)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    root, uid = out.stdout.split()
    assert not os.path.exists(root)
    if AS_ROOT:
        assert lease_is_free(int(uid))
