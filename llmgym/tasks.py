"""Tasks and splits: seeded train tasks, fixed hashed test splits, and their disjointness.

A task is a frozen record holding the generator's JSON ``spec``. Train tasks are generated
on demand from a seed (unbounded); the test split is a JSONL file under ``tasks/<family>/``
whose sha256 the environment class records, so an edited split is detected at load.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, ValidationError

Split = Literal["train", "test"]


class Task(BaseModel):
    """One task: its id, split, difficulty, generator seed and the env-specific spec."""

    model_config = ConfigDict(frozen=True)

    task_id: str
    split: Split
    difficulty: str
    seed: int
    spec: dict[str, Any]

    @property
    def fingerprint(self) -> str:
        """A hash of the spec alone: equal specs are the same task, whatever their ids."""
        return spec_fingerprint(self.spec)


class InvalidTaskSpec(ValueError):
    """A task's spec does not have the shape its environment's ``TaskSpec`` declares."""


class TaskSpec(BaseModel):
    """Base of an environment's typed task spec: a frozen record of the generator's JSON.

    An environment declares its spec's shape by subclassing this (nested records, tuples for
    lists, ``Literal`` for closed sets) and naming the subclass in ``LLMEnv.task_spec_type``;
    the base class validates each task once when it starts, and the env's world, verifier,
    expert and cheats read typed fields. The task itself keeps the JSON (``Task.spec``), so
    task files and their hashes do not depend on this class. Validation is strict and in JSON
    mode: no unknown keys, no ``"5"`` for ``5``, and nothing but plain JSON data.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    @classmethod
    def of(cls, task: Task) -> Self:
        """``task``'s spec as this type; :class:`InvalidTaskSpec` says which field is wrong."""
        try:
            return cls.model_validate_json(json.dumps(task.spec))
        except (ValidationError, TypeError, ValueError) as exc:
            raise InvalidTaskSpec(
                f"task {task.task_id!r} does not match {cls.__name__}: {exc}\n"
                "The task comes from its environment's generator or test split: regenerate "
                "the split, or fix the generator and the spec type together."
            ) from None


class SplitIntegrityError(RuntimeError):
    """A fixed split's file does not match the hash its environment records."""


def spec_fingerprint(spec: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]


def train_task_id(difficulty: str, seed: int) -> str:
    return f"train-{difficulty}-{seed}"


def parse_train_task_id(task_id: str) -> tuple[str, int] | None:
    """``train-<difficulty>-<seed>`` -> (difficulty, seed), or None for other ids."""
    parts = task_id.split("-")
    if len(parts) == 3 and parts[0] == "train" and parts[2].isdigit():
        return parts[1], int(parts[2])
    return None


BUNDLED_TASK_DATA = "llmgym.task_data"


def split_path(family: str, split: str, package: str = BUNDLED_TASK_DATA) -> Path:
    """Where a family's fixed split lives: ``<package>/<family>/<split>.jsonl`` (package data)."""
    return Path(str(resources.files(package) / family / f"{split}.jsonl"))


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@cache
def load_split(
    family: str, split: str, expected_sha256: str | None, package: str = BUNDLED_TASK_DATA
) -> tuple[Task, ...]:
    """Load a family's fixed split, checking its hash against the one the environment records."""
    path = split_path(family, split, package)
    if not path.exists():
        raise FileNotFoundError(
            f"no {split} split for {family!r}: expected {path}. Freeze one with "
            f"`llmgym freeze ENV_ID` (see CONTRIBUTING.md)."
        )
    return read_split(path, expected_sha256)


def read_split(path: Path, expected_sha256: str | None) -> tuple[Task, ...]:
    """Read a split file, refusing it if its sha256 differs from ``expected_sha256``."""
    actual = file_sha256(path)
    if expected_sha256 is not None and actual != expected_sha256:
        raise SplitIntegrityError(
            f"{path} has sha256 {actual}, but the environment records {expected_sha256}. "
            "The fixed split was modified: restore it (git checkout), or if the change is "
            "intended, bump the environment's version and record the new hash."
        )
    tasks = tuple(
        Task.model_validate_json(line) for line in path.read_text().splitlines() if line.strip()
    )
    ids = [t.task_id for t in tasks]
    if len(set(ids)) != len(ids):
        raise SplitIntegrityError(f"{path} has duplicate task ids")
    return tasks


def write_split(
    family: str,
    split: str,
    tasks: list[Task],
    root: Path | None = None,
    package: str = BUNDLED_TASK_DATA,
) -> tuple[Path, str]:
    """Write a split as JSONL (one task per line, stable key order); return (path, sha256)."""
    path = (root / family / f"{split}.jsonl") if root else split_path(family, split, package)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(t.model_dump_json() + "\n" for t in tasks))
    return path, file_sha256(path)


TEST_SEED_BASE = 10**12
"""Test tasks are generated from seeds at and above this; train seeds are below 2**31."""


def make_test_split(generate: Any, difficulties: tuple[str, ...], count: int) -> list[Task]:
    """Generate ``count`` test tasks, difficulties in turn, from the reserved test seeds."""
    tasks: list[Task] = []
    seen: set[str] = set()
    seed = TEST_SEED_BASE
    while len(tasks) < count:
        difficulty = difficulties[len(tasks) % len(difficulties)]
        spec = generate(seed, difficulty)
        seed += 1
        if spec_fingerprint(spec) in seen:
            continue
        seen.add(spec_fingerprint(spec))
        tasks.append(
            Task(
                task_id=f"test-{len(tasks):04d}",
                split="test",
                difficulty=difficulty,
                seed=seed - 1,
                spec=spec,
            )
        )
    return tasks
