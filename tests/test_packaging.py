"""The built wheel works in a fresh virtual environment, task data included, and installs no
top-level ``environments``/``trainers``/``tasks`` packages."""

import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

SMOKE = """
import sys, importlib.util, gymnasium as gym
for name in ("environments", "trainers", "tasks"):
    assert importlib.util.find_spec(name) is None, f"top-level package {name!r} was installed"
env = gym.make("llmgym:llmgym/TripBooking-v0").unwrapped
ids = env.task_ids("test")
assert len(ids) >= 100, len(ids)
env.reset(options={"task_id": ids[0]})
for _ in range(env.max_turns):
    obs, reward, terminated, truncated, info = env.step(env.expert_action())
    if terminated or truncated:
        break
assert reward == 1.0, info
assert "site-packages" in env.__module__ or "site-packages" in sys.modules[type(env).__module__].__file__
print("wheel ok", len(ids))
"""


BUGFIX_SANDBOX = """
import json, os, gymnasium as gym
import llmgym.environments.bug_fix.probes as probes
from llmgym.environments.bug_fix.projects import bundle_path

bundle = str(bundle_path())
assert "site-packages" in bundle and os.path.exists(bundle), bundle


def call(name, **arguments):
    return "<tool_call>" + json.dumps({"name": name, "arguments": arguments}) + "</tool_call>"


env = gym.make("llmgym/BugFix-v0").unwrapped
env.reset(options={"task_id": "test-0000"})
steal = (
    f"python -c \\"print(open('{bundle}').read()[:300])\\"; cat {bundle} | head -c 300; "
    f"ls -R {os.path.dirname(os.path.dirname(bundle))} | head; cat {probes.__file__} | head; "
    "python -c 'import llmgym; print(llmgym.__file__)'; "
    "find / -name 'projects.json' -o -name 'mutants.json' 2>/dev/null | head -3"
)
obs, *_ = env.step(call("run", command=steal))
seen = obs[0]["content"]
for secret in ("hidden_tests", "calendar_utils", "def build", "llmgym/__init__.py", "mutants.json"):
    assert secret not in seen, (secret, seen)
obs, *_ = env.step(call("run_tests"))
assert "passed" in obs[0]["content"], obs[0]["content"]
env.reset(options={"task_id": "test-0000"})
for _ in range(10):
    obs, reward, terminated, truncated, info = env.step(env.expert_action())
    if terminated or truncated:
        break
assert reward == 1.0, info
env.close()
print("bugfix sandbox ok")
"""


@pytest.fixture(scope="module")
def wheel_python(tmp_path_factory) -> Path:
    """A fresh venv with the built wheel installed (not editable): its python."""
    tmp_path = tmp_path_factory.mktemp("wheel")
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)],
        check=True,
        timeout=600,
    )
    (wheel,) = dist.glob("llmgym-*.whl")
    venv.create(tmp_path / "venv", with_pip=True)
    py = tmp_path / "venv" / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", str(wheel)], check=True, timeout=600)
    return py


@pytest.mark.slow
def test_bug_fix_sandbox_cannot_read_the_bundle_under_a_wheel_install(wheel_python, tmp_path):
    """The task data sit in site-packages here; the agent's run tool must not reach them,
    while run_tests (pytest) still works and the expert is still paid."""
    out = subprocess.run(
        [str(wheel_python), "-c", BUGFIX_SANDBOX],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "bugfix sandbox ok" in out.stdout


@pytest.mark.slow
def test_wheel_in_a_fresh_venv(wheel_python, tmp_path):
    py = wheel_python
    out = subprocess.run(
        [str(py), "-c", SMOKE], capture_output=True, text=True, cwd=tmp_path, timeout=300
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("wheel ok")
    listed = subprocess.run(
        [str(py.parent / "llmgym"), "list"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert "llmgym/TripBooking-v0" in listed.stdout, listed.stderr
