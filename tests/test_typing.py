"""Every library module is type-checked, from one tree.

``llmgym/environments``, ``llmgym/trainers`` and ``llmgym/task_data`` are links to the
top-level ``environments/``, ``trainers/`` and ``tasks/`` folders, so the package as installed,
an editable install, mypy and an editor all see one ``llmgym`` tree (``pyproject.toml``).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINKS = {"environments": "environments", "trainers": "trainers", "task_data": "tasks"}


def library_modules() -> list[Path]:
    """The .py files of the llmgym package, links followed, task data (BugFix's projects,
    code with bugs in it on purpose) left out."""
    found = []
    for folder, dirs, files in os.walk(ROOT / "llmgym", followlinks=True):
        dirs[:] = [
            d for d in dirs if d != "__pycache__" and not Path(folder, d).samefile(ROOT / "tasks")
        ]
        found += [Path(folder, f) for f in files if f.endswith(".py")]
    return found


def test_the_top_level_folders_are_the_packages_subpackages():
    for name, target in LINKS.items():
        link = ROOT / "llmgym" / name
        assert link.is_symlink() and os.readlink(link) == f"../{target}", link


def test_every_llmgym_module_loads_from_this_checkout():
    import llmgym.environments.bug_fix.env
    import llmgym.task_data
    import llmgym.trainers.grpo.loop

    root = Path(llmgym.__file__).resolve().parents[1]
    for module in (llmgym.environments.bug_fix.env, llmgym.trainers.grpo.loop, llmgym.task_data):
        assert Path(module.__file__).resolve().is_relative_to(root), module.__file__


@pytest.mark.slow
def test_mypy_checks_every_library_module_with_no_error():
    pytest.importorskip("mypy")
    out = subprocess.run(
        [sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True, timeout=1500
    )
    print(out.stdout[-3000:])
    match = re.search(r"Success: no issues found in (\d+) source files", out.stdout)
    assert out.returncode == 0 and match, out.stdout[-5000:] + out.stderr[-2000:]
    expected = len(library_modules())
    assert int(match[1]) >= expected >= 90, f"mypy checked {match[1]} of {expected} modules"
