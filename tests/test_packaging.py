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


@pytest.mark.slow
def test_wheel_in_a_fresh_venv(tmp_path):
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
    out = subprocess.run(
        [str(py), "-c", SMOKE], capture_output=True, text=True, cwd=tmp_path, timeout=300
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("wheel ok")
    listed = subprocess.run(
        [str(tmp_path / "venv" / "bin" / "llmgym"), "list"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert "llmgym/TripBooking-v0" in listed.stdout, listed.stderr
