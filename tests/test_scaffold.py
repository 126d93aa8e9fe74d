"""``llmgym new-env``: the written package passes the contract, installs as a plugin found
through the ``llmgym.envs`` entry point, and a broken copy gets actionable check failures."""

import subprocess
import sys
import venv

import gymnasium as gym
import pytest

from llmgym.checks import run_checks
from llmgym.scaffold import create_env


@pytest.fixture
def on_path(tmp_path):
    """Write a fresh package and make it importable (without installing it)."""

    def make(name, edit=None):
        root = create_env(name, tmp_path)
        package = f"llmgym_{name.lower()}"
        if edit:
            env_py = root / package / "env.py"
            env_py.write_text(edit(env_py.read_text()))
        sys.path.insert(0, str(root))
        env_id = f"scaffold_test/{name}-v0"
        gym.register(id=env_id, entry_point=f"{package}.env:{name}Env")
        return env_id

    yield make
    sys.path[:] = [p for p in sys.path if not p.startswith(str(tmp_path))]


def failures(env_id):
    return {r.name: r for r in run_checks(env_id, test_limit=20, cheat_limit=20) if not r.passed}


def test_the_written_env_passes_the_contract(on_path):
    assert failures(on_path("Shelves")) == {}


def test_a_broken_env_is_explained(on_path):
    def break_it(src):
        src = src.replace("np.random.default_rng(seed)", "np.random.default_rng()")  # unseeded
        src = src.replace(
            "reward=float(moved == len(goal) and untouched)", "reward=float(moved == len(goal))"
        )  # ignores collateral
        return src

    found = failures(on_path("Broken", break_it))
    # unseeded generation fails every check that replays a seed; the verifier bug the cheats
    # and the fuzzer (an extra move of another book still earns 1.0)
    assert set(found) == {
        "determinism",
        "gymnasium check_env",
        "async API",
        "cheats earn nothing",
        "verifier fuzzing",
    }, found
    assert "shelf_of/" in found["verifier fuzzing"].detail
    assert (
        "different" in found["determinism"].detail and "self.np_random" in found["determinism"].hint
    )
    assert "move_everything" in found["cheats earn nothing"].detail
    assert "canonical end state" in found["cheats earn nothing"].hint


def test_bad_names_are_refused(tmp_path):
    with pytest.raises(ValueError, match="CamelCase"):
        create_env("bad name", tmp_path)


@pytest.mark.slow
def test_installed_plugin_is_found_by_list_and_check(tmp_path):
    root = create_env("Shelves", tmp_path)
    venv.create(tmp_path / "venv", system_site_packages=True, with_pip=True)
    bin_dir = tmp_path / "venv" / "bin"
    subprocess.run(
        [str(bin_dir / "python"), "-m", "pip", "install", "-q", "--no-deps", str(root)],
        check=True,
        timeout=600,
    )

    def run(*a):
        return subprocess.run(
            [str(bin_dir / "python"), "-m", "llmgym.cli", *a],
            capture_output=True,
            text=True,
            timeout=600,
        )

    listed = run("list")
    assert "shelves/Shelves-v0" in listed.stdout, listed.stderr
    checked = run("check", "shelves/Shelves-v0")
    assert checked.returncode == 0 and "OK: 0 check(s) failed" in checked.stdout, checked.stdout
    tests = subprocess.run(
        [
            str(bin_dir / "python"),
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            str(root / "tests"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert tests.returncode == 0, tests.stdout


def test_checks_still_fail_under_python_O(tmp_path):
    """The contract is checked with ``require``, not ``assert``: ``python -O`` (which drops
    asserts) still reports a broken env. Before, every check passed under -O."""
    root = create_env("Optimised", tmp_path)
    env_py = root / "llmgym_optimised" / "env.py"
    env_py.write_text(env_py.read_text().replace('description = "', 'description = "" and "'))
    script = (
        "import sys, gymnasium as gym\n"
        f"sys.path.insert(0, {str(root)!r})\n"
        "gym.register(id='o/Optimised-v0', entry_point='llmgym_optimised.env:OptimisedEnv')\n"
        "from llmgym.checks import run_checks\n"
        "for r in run_checks('o/Optimised-v0', test_limit=2, cheat_limit=2, fuzz_limit=1):\n"
        "    print(r.name, r.passed, r.detail[:80])\n"
        "    if r.name == 'class contract': break\n"
    )
    out = subprocess.run([sys.executable, "-O", "-c", script], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "class contract False OptimisedEnv.description is not set" in out.stdout, out.stdout
