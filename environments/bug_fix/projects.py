"""The pool of clean projects the BugFix tasks are made from, loaded from a hashed bundle.

The projects are authored as plain folders under ``tasks/bug_fix/projects/<name>/`` (a
package, ``tests/`` the agent sees, ``hidden_tests/`` it never sees, ``pytest.ini``) and
frozen by ``python -m llmgym.environments.bug_fix.build`` into ``projects.json``, which is what
ships and what the grader treats as trusted storage.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict

VISIBLE_TESTS_DIR = "tests"
HIDDEN_TESTS_DIR = "hidden_tests"


class Project(BaseModel):
    """One clean project: every file's text and the test ids its full suite must report."""

    model_config = ConfigDict(frozen=True)

    name: str
    files: dict[str, str]
    expected_tests: tuple[str, ...] = ()
    """``classname::name`` of every visible and hidden test, as the JUnit report names them."""
    test_docs: dict[str, str] = {}
    """Hidden test id -> its docstring (a user-level statement of the expected behaviour)."""

    @property
    def sha256(self) -> str:
        return hashlib.sha256(json.dumps(self.files, sort_keys=True).encode()).hexdigest()

    @property
    def source_files(self) -> tuple[str, ...]:
        """The files an agent may change and the grader takes from the agent's tree."""
        return tuple(
            sorted(
                p
                for p in self.files
                if p.endswith(".py")
                and not p.startswith((VISIBLE_TESTS_DIR + "/", HIDDEN_TESTS_DIR + "/"))
            )
        )

    def agent_files(self) -> dict[str, str]:
        """What the agent's work tree starts with: everything but the hidden tests."""
        return {p: t for p, t in self.files.items() if not p.startswith(HIDDEN_TESTS_DIR + "/")}


def bundle_path() -> Path:
    return Path(str(resources.files("llmgym.task_data") / "bug_fix" / "projects.json"))


@cache
def load_projects() -> dict[str, Project]:
    """All projects of the bundle, by name."""
    path = bundle_path()
    if not path.exists():
        raise FileNotFoundError(
            f"missing {path}: build it with `python -m llmgym.environments.bug_fix.build`"
        )
    raw = json.loads(path.read_text())
    return {name: Project.model_validate(data) for name, data in raw.items()}


def read_project_folder(folder: Path) -> dict[str, str]:
    """Read an authored project folder into ``{relative path: text}`` (no caches)."""
    files = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_file() and "__pycache__" not in rel and ".pytest_cache" not in rel:
            files[rel] = path.read_text()
    return files
