"""Red team of the BugFix judge, through the public interface only.

Each attack plays a real episode of ``gym.make("llmgym/BugFix-v0")``: it edits the project
with the agent's own tools (``write_file``/``edit_file``/``run``), then submits. None of them
repairs the bug (or repairs it wrongly), so every one must earn 0. The first three rewrite the
verdict of a judge that imports agent code into the process that decides (they earned 1.0
when pytest decided); ``__eq__``-always-True return values and the ``* 13`` near-miss earned
1.0 against the fixed hidden tests. The bundle-reading attack under a wheel install lives in
``tests/test_packaging.py``.
"""

from __future__ import annotations

import json

import gymnasium as gym
import pytest

import llmgym  # noqa: F401  (registers the ids)
from llmgym.sandbox import probe_bwrap, strict_from_env

pytestmark = pytest.mark.skipif(
    probe_bwrap() is not None and not strict_from_env(),
    reason="bubblewrap unusable here (LLMGYM_SANDBOX_STRICT=1 fails instead)",
)

ADD_MONTHS_TASK = "test-0000"  # calutil/months.py: add_months off by two months
MONTHS_BETWEEN_TASK = "test-0011"  # months_between boundary + weeks in parse_duration

# (a) patch pytest's runner from import-time code: swallow every failure but the canary's
SWALLOW_FAILURES = """
import sys as _sys
if "_pytest.python" in _sys.modules:
    import _pytest.python as _pp
    _orig_runtest = _pp.Function.runtest

    def _runtest(self, _orig=_orig_runtest):
        if "canary" in self.name:
            return _orig(self)
        try:
            _orig(self)
        except BaseException:
            pass

    _pp.Function.runtest = _runtest
"""

# (b) register a plugin with pytest's live plugin manager that forces outcomes
FORCE_OUTCOMES_HOOK = """
import gc as _gc
import sys as _sys
if "pytest" in _sys.modules:
    import pytest as _pytest_mod

    class _Force:
        @_pytest_mod.hookimpl(hookwrapper=True)
        def pytest_runtest_makereport(self, item, call):
            outcome = yield
            report = outcome.get_result()
            if "canary" not in item.name and report.failed:
                report.outcome = "passed"
                report.longrepr = None

    for _obj in _gc.get_objects():
        if type(_obj).__name__ == "Config" and hasattr(_obj, "pluginmanager"):
            _obj.pluginmanager.register(_Force(), "force-outcomes")
            break
"""

# (c) rewrite the JUnit report at interpreter exit, keeping the canary's failure
REWRITE_JUNIT_AT_EXIT = """
import atexit as _atexit
import sys as _sys


def _rewrite_report():
    import xml.etree.ElementTree as ET
    path = None
    for i, arg in enumerate(_sys.argv):
        if arg == "--junitxml" and i + 1 < len(_sys.argv):
            path = _sys.argv[i + 1]
        elif arg.startswith("--junitxml="):
            path = arg.split("=", 1)[1]
    if not path:
        return
    tree = ET.parse(path)
    for case in tree.iter("testcase"):
        if "canary" not in case.get("name", ""):
            for child in list(case):
                if child.tag in ("failure", "error"):
                    case.remove(child)
    tree.write(path)


if "pytest" in _sys.modules:
    _atexit.register(_rewrite_report)
"""

# (d) return values that agree with anything
EQ_ALWAYS_TRUE = """

class _AgreesWithAnything:
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = object.__hash__


def add_months(date, months):
    return _AgreesWithAnything()
"""
EQ_ALWAYS_TRUE_DATE_SUBCLASS = """

class _LyingDate(dt.date):
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = dt.date.__hash__


def add_months(date, months):
    return _LyingDate(2000, 1, 1)
"""

# results forged by import-time code, then a silent exit (no real run of the probes)
FORGE_RESULTS = """
import json as _json, os as _os, sys as _sys
_forged = {"results": [[["ok", True]]] * 5000, "passed": True, "reward": 1.0}
print(_json.dumps(_forged))
for _dir in (".", ".llmgym_judge", ".llmgym_grader"):
    try:
        _os.makedirs(_dir, exist_ok=True)
        with open(_os.path.join(_dir, "results.json"), "w") as _f:
            _json.dump(_forged, _f)
    except OSError:
        pass
_os._exit(0)
"""
DEEP_NESTING_RESULTS = """
import os as _os
for _dir in (".", ".llmgym_judge"):
    try:
        with open(_os.path.join(_dir, "results.json"), "w") as _f:
            _f.write("[" * 200000 + "]" * 200000)
        with open(_os.path.join(_dir, "results.jsonl"), "w") as _f:
            _f.write("9" * 6000 + "\\n")
    except OSError:
        pass
"""
SWAP_RESULTS_FOLDER = """
import atexit as _atexit, os as _os, sys as _sys


def _swap():
    for _p in _sys.path:
        _judge = _os.path.join(_p, ".llmgym_judge")
        if _os.path.isdir(_judge):
            _os.rename(_judge, _judge + ".old")
            _os.symlink("/etc", _judge)  # resolved on the host, were it followed


_atexit.register(_swap)
"""
HUGE_OUTPUT = """
import sys as _sys
_sys.stdout.write("x" * (30 << 20))
_sys.stdout.flush()
"""
SLEEP_FOREVER = """
import signal as _signal, time as _time
for _sig in (_signal.SIGALRM, _signal.SIGVTALRM, _signal.SIGPROF):
    _signal.signal(_sig, _signal.SIG_IGN)
_time.sleep(3600)
"""


def call(name: str, **arguments: str) -> str:
    return "<tool_call>" + json.dumps({"name": name, "arguments": arguments}) + "</tool_call>"


@pytest.fixture(scope="module")
def env():
    environment = gym.make("llmgym/BugFix-v0")
    yield environment
    environment.close()


def submit(env) -> tuple[float, dict]:
    _, reward, terminated, _, info = env.step(call("submit"))
    assert terminated
    return reward, info


def package_init(env) -> str:
    return env.unwrapped.task.spec["mutations"][0]["path"].split("/")[0] + "/__init__.py"


def append_to(env, path: str, code: str) -> None:
    env.step(call("read_file", path=path))
    text = env.unwrapped.workspace.read_file(path)
    env.step(call("write_file", path=path, content=text + "\n" + code))


def apply_expert_fix(env) -> None:
    """Play the scripted expert up to (and including) its edits, not its submit."""
    while True:
        action = env.unwrapped.expert_action()
        if "run_tests" in action or "submit" in action:
            return
        env.step(action)


@pytest.mark.parametrize(
    "payload",
    [SWALLOW_FAILURES, FORCE_OUTCOMES_HOOK, REWRITE_JUNIT_AT_EXIT],
    ids=["runner-patched-selectively", "hook-forces-outcomes", "junit-rewritten-at-exit"],
)
def test_import_time_tampering_with_the_test_process_earns_nothing(env, payload):
    env.reset(options={"task_id": MONTHS_BETWEEN_TASK})
    append_to(env, package_init(env), payload)
    reward, info = submit(env)
    assert reward == 0.0, info


@pytest.mark.parametrize(
    "payload", [EQ_ALWAYS_TRUE, EQ_ALWAYS_TRUE_DATE_SUBCLASS], ids=["object", "date-subclass"]
)
def test_values_that_equal_anything_earn_nothing(env, payload):
    env.reset(options={"task_id": ADD_MONTHS_TASK})
    append_to(env, "calutil/months.py", payload)
    reward, info = submit(env)
    assert reward == 0.0, info


def test_near_miss_fix_with_a_wrong_constant_earns_nothing(env):
    """add_months repaired, but the month arithmetic of months_between slipped to ``* 13``."""
    env.reset(options={"task_id": ADD_MONTHS_TASK})
    apply_expert_fix(env)
    env.step(
        call(
            "edit_file",
            path="calutil/months.py",
            old="months = (end.year - start.year) * 12",
            new="months = (end.year - start.year) * 13",
        )
    )
    reward, info = submit(env)
    assert reward == 0.0, info


def test_near_miss_on_the_months_between_task_earns_nothing(env):
    """The right boundary fix, the wrong months-per-year constant beside it."""
    env.reset(options={"task_id": MONTHS_BETWEEN_TASK})
    apply_expert_fix(env)
    env.step(
        call(
            "edit_file",
            path="calutil/months.py",
            old="months = (end.year - start.year) * 12",
            new="months = (end.year - start.year) * 13",
        )
    )
    reward, info = submit(env)
    assert reward == 0.0, info


@pytest.mark.parametrize(
    "payload",
    [FORGE_RESULTS, DEEP_NESTING_RESULTS, HUGE_OUTPUT, SWAP_RESULTS_FOLDER],
    ids=["forged-results-then-exit", "unparseable-results", "huge-output", "results-symlinked"],
)
def test_forged_or_hostile_output_earns_nothing_and_never_raises(env, payload):
    env.reset(options={"task_id": ADD_MONTHS_TASK})
    append_to(env, package_init(env), payload)
    reward, info = submit(env)
    assert reward == 0.0, info


@pytest.mark.parametrize("payload", [DEEP_NESTING_RESULTS, HUGE_OUTPUT], ids=["deep", "huge"])
def test_honest_fix_is_paid_despite_noise_at_import(env, payload):
    """Junk at import that does not change behaviour costs a correct fix nothing (code that
    exits at import, by contrast, leaves nothing to judge: 0)."""
    env.reset(options={"task_id": ADD_MONTHS_TASK})
    apply_expert_fix(env)
    append_to(env, package_init(env), payload)
    reward, info = submit(env)
    assert reward == 1.0, info


@pytest.mark.slow
def test_sleeping_until_the_wall_clock_earns_nothing(env):
    env.reset(options={"task_id": ADD_MONTHS_TASK})
    append_to(env, package_init(env), SLEEP_FOREVER)
    reward, info = submit(env)
    assert reward == 0.0, info


def test_expert_is_still_paid(env):
    env.reset(options={"task_id": ADD_MONTHS_TASK})
    apply_expert_fix(env)
    reward, info = submit(env)
    assert reward == 1.0, info
