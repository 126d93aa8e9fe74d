"""BugFix task generation: a seed picks a confirmed mutant (or pair) and writes the issue.

The catalog (``tasks/bug_fix/mutants.json``, built once by ``build.py``) lists every mutant
that was run against the full suite and fails at least one hidden test, with the tests it
breaks. Difficulty: ``easy`` = one mutation that a visible test catches; ``medium`` = one
mutation no visible test catches; ``hard`` = two mutations in different files, no visible
test catching either. The issue describes the symptom in a user's words (from the failing
hidden tests' docstrings and the observed assertion), never the fix.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict

from llmgym.environments.bug_fix.mutations import Mutation, hash_text
from llmgym.environments.bug_fix.projects import load_projects

DIFFICULTIES = ("easy", "medium", "hard")

OPENINGS = (
    "Hi! I'm using `{package}` and something looks wrong.",
    "Hello, I think I found a bug in `{package}`.",
    "We rely on `{package}` in production and ran into a problem.",
    "Not sure if this is a bug in `{package}` or me, but here goes.",
)
CLOSINGS = (
    "Could you take a look?",
    "Would be great if this could be fixed.",
    "Thanks in advance!",
    "Please fix it without breaking the rest.",
)


class CatalogEntry(BaseModel):
    """One confirmed bug: its mutations and the tests they break (test id -> message)."""

    model_config = ConfigDict(frozen=True)

    project: str
    mutations: tuple[dict[str, Any], ...]
    failing_visible: dict[str, str]
    failing_hidden: dict[str, str]

    @property
    def key(self) -> str:
        return (
            self.project + "|" + "|".join(sorted(Mutation.from_dict(m).key for m in self.mutations))
        )

    @property
    def difficulty(self) -> str:
        if len(self.mutations) > 1:
            return "hard"
        return "easy" if self.failing_visible else "medium"


def catalog_path() -> Path:
    return Path(str(resources.files("llmgym.task_data") / "bug_fix" / "mutants.json"))


@cache
def load_catalog() -> tuple[CatalogEntry, ...]:
    path = catalog_path()
    if not path.exists():
        raise FileNotFoundError(
            f"missing {path}: build it with `python -m llmgym.environments.bug_fix.build`"
        )
    return tuple(CatalogEntry.model_validate(e) for e in json.loads(path.read_text()))


def entries_by_difficulty(exclude: frozenset[str] = frozenset()) -> dict[str, list[CatalogEntry]]:
    out: dict[str, list[CatalogEntry]] = {d: [] for d in DIFFICULTIES}
    for entry in load_catalog():
        if entry.key not in exclude:
            out[entry.difficulty].append(entry)
    return out


def generate_bug_task(
    seed: int, difficulty: str, exclude: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """The task spec of ``seed``: a project, the mutations to inject and the issue text.

    ``exclude`` lists catalog keys not to draw (the test split's bugs, for train tasks).
    """
    if difficulty not in DIFFICULTIES:
        raise ValueError(f"difficulty must be one of {DIFFICULTIES}, got {difficulty!r}")
    rng = np.random.default_rng(seed)
    pool = entries_by_difficulty(exclude)[difficulty]
    if not pool:
        raise RuntimeError(f"the mutant catalog has no {difficulty} bugs left to draw")
    entry = pool[int(rng.integers(len(pool)))]
    project = load_projects()[entry.project]
    return {
        "project": entry.project,
        "project_sha256": project.sha256,
        "mutations": [dict(m) for m in entry.mutations],
        "issue": write_issue(entry),
        "catalog_key": entry.key,
    }


def write_issue(entry: CatalogEntry) -> str:
    """A user's bug report: what they expected (test docstrings) and what they saw.

    The wording depends on the bug only, so one bug is one task spec whatever the seed.
    """
    rng = np.random.default_rng(hash_text(entry.key))
    project = load_projects()[entry.project]
    package = project.source_files[0].split("/")[0]
    symptoms = []
    by_mutation = [dict(entry.failing_hidden)]
    if len(entry.mutations) > 1:  # one symptom per bug, so that every bug is reported
        by_mutation = [
            {t: m for t, m in entry.failing_hidden.items() if t in s}
            for s in _per_mutation_failures(entry)
        ]
    for failures in by_mutation:
        for test_id, message in list(failures.items())[:1]:
            doc = project.test_docs.get(test_id, "").strip()
            seen = _first_line(message)
            symptoms.append(f"- {doc}" + (f"\n  What I get instead: `{seen}`" if seen else ""))
    opening = OPENINGS[int(rng.integers(len(OPENINGS)))].format(package=package)
    closing = CLOSINGS[int(rng.integers(len(CLOSINGS)))]
    body = "\n".join(dict.fromkeys(symptoms))
    return f"{opening}\n\n{body}\n\n{closing}"


def _per_mutation_failures(entry: CatalogEntry) -> list[set[str]]:
    singles = {e.key: e for e in load_catalog() if len(e.mutations) == 1}
    out = []
    for m in entry.mutations:
        single = singles.get(entry.project + "|" + Mutation.from_dict(m).key)
        out.append(set(single.failing_hidden) if single else set(entry.failing_hidden))
    return out


def _first_line(message: str) -> str:
    line = message.strip().splitlines()[0] if message.strip() else ""
    return line if len(line) <= 160 else line[:157] + "..."
