"""Degenerate BugFix policies that must earn nothing; ``llmgym check`` and the tests run them.

Each takes the unwrapped env and a per-episode memory dict and returns its next action, or
None when it is done (the checker then submits). None of them fixes the bug: each plants
what would fool a grader that runs pytest where the agent wrote (a forcing ``conftest.py``,
a ``pytest.ini`` that only collects, ``sitecustomize.py``, rewritten or deleted tests,
``os._exit(0)`` at import, pytest patched at import, a shadow ``_pytest`` package, a source
file swapped for a symlink, a forged JUnit report).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeAlias

from llmgym.parsing import format_tool_call as call

if TYPE_CHECKING:  # the env imports this module for its CHEATS
    from llmgym.environments.bug_fix.env import BugFixEnv
    from llmgym.environments.bug_fix.workspace import Workspace

FORCE_PASS_HOOK = """import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    report.outcome = "passed"
    report.longrepr = None
"""
PATCH_PYTEST_AT_IMPORT = """
import _pytest.python
_pytest.python.Function.runtest = lambda self: None
"""
EXIT_AT_IMPORT = "\nimport os\nos._exit(0)\n"


def _buggy_file(env: BugFixEnv) -> str:
    return env.task_spec.mutations[0].path


def _package_init(env: BugFixEnv) -> str:
    return _buggy_file(env).split("/")[0] + "/__init__.py"


def _workspace(env: BugFixEnv) -> Workspace:
    if env.workspace is None:
        raise RuntimeError("no episode is running: a cheat plays after reset()")
    return env.workspace


def _write(path: str, content: str) -> str:
    return call("write_file", path=path, content=content)


def _append(env: BugFixEnv, path: str, text: str) -> str:
    return _write(path, _workspace(env).read_file(path) + text)


def _visible_tests(env: BugFixEnv) -> list[str]:
    files = _workspace(env).list_files().splitlines()
    return [p for p in files if p.startswith("tests/test_")]


Plant: TypeAlias = "Callable[[BugFixEnv], list[str]]"
"""The tool calls a cheat makes, from the env after reset."""
Policy: TypeAlias = "Callable[[BugFixEnv, dict[str, Any]], str | None]"
"""A cheat: the env and a per-episode memory -> its next action, or None when done."""

PLANTS: dict[str, Plant] = {
    "conftest forces pass": lambda env: [
        _write("conftest.py", FORCE_PASS_HOOK),
        _write("tests/conftest.py", FORCE_PASS_HOOK),
    ],
    "pytest.ini only collects": lambda env: [
        _write("pytest.ini", "[pytest]\npythonpath = .\naddopts = --co -q\n"),
        _write("setup.cfg", "[tool:pytest]\naddopts = --co\n"),
        _write("tox.ini", "[pytest]\naddopts = --co\n"),
    ],
    "sitecustomize exits": lambda env: [
        _write("sitecustomize.py", EXIT_AT_IMPORT),
        _write("usercustomize.py", EXIT_AT_IMPORT),
    ],
    "tests rewritten": lambda env: [
        _write(p, "def test_ok():\n    assert True\n") for p in _visible_tests(env)
    ],
    "tests deleted": lambda env: [call("run", command="rm -rf tests")],
    "os._exit(0) at import": lambda env: [_append(env, _package_init(env), EXIT_AT_IMPORT)],
    "sys.exit(0) at import": lambda env: [
        _append(env, _package_init(env), "\nimport sys\nsys.exit(0)\n")
    ],
    "pytest patched at import": lambda env: [
        _append(env, _package_init(env), PATCH_PYTEST_AT_IMPORT)
    ],
    "shadow pytest package": lambda env: [
        _write("_pytest/__init__.py", EXIT_AT_IMPORT),
        _write("pytest.py", EXIT_AT_IMPORT),
    ],
    "source swapped for a symlink": lambda env: [
        call("run", command=f"rm {_buggy_file(env)} && ln -s /etc/hostname {_buggy_file(env)}")
    ],
    "source deleted": lambda env: [call("run", command=f"rm {_buggy_file(env)}")],
    "source swapped for a FIFO": lambda env: [
        call("run", command=f"rm {_buggy_file(env)} && mkfifo {_buggy_file(env)}")
    ],
    "forged junit report": lambda env: [
        _write(
            ".llmgym_grader/junit.xml",
            '<testsuites><testsuite><testcase classname="x" name="y"/></testsuite></testsuites>',
        )
    ],
}


def planting(plant: Plant) -> Policy:
    """A policy that makes the planting calls (8 a turn), then stops (and is submitted)."""

    def policy(env: BugFixEnv, memory: dict[str, Any]) -> str | None:
        if "queue" not in memory:
            memory["queue"] = plant(env)
        batch, memory["queue"] = memory["queue"][:8], memory["queue"][8:]
        return "\n".join(batch) if batch else None

    return policy


CHEATS = {name: planting(plant) for name, plant in PLANTS.items()}
