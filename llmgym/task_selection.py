"""Reset arguments: check what a caller passed to ``reset(seed=..., options=...)``, pick the task.

``reset`` is the one place a user hands the environment free-form values, so they are checked
here, up front, into a typed :class:`ResetOptions`: a wrong type or value is a ``TypeError`` /
``ValueError`` that names the argument, shows the value (shortened: never ``repr`` of a
5,000-digit int, which itself raises) and says what is accepted, instead of an
``AttributeError`` or an int-conversion ``ValueError`` from deep inside task generation.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from llmgym.tasks import Task

if TYPE_CHECKING:
    from llmgym.env import LLMEnv

TRAIN_SEED_LIMIT = 2**31
"""Train task seeds lie in [0, 2**31) (test tasks are generated from seeds far above)."""
OPTION_KEYS = ("task_id", "split", "difficulty")
SPLITS = ("train", "test")
_TRAIN_ID_RE = re.compile(r"train-([A-Za-z0-9_]+)-([0-9]+)")
_MAX_REPR = 80


def short_repr(value: Any, limit: int = _MAX_REPR) -> str:
    """``repr(value)`` cut to ``limit`` characters; never raises (big ints, hostile objects)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 256:
        return f"<int of about {int(value.bit_length() * 0.30103) + 1} digits>"
    try:
        text = repr(value)
    except Exception:  # a hostile __repr__ must not hide the real error
        return f"<{type(value).__name__} object>"
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars)"


@dataclass(frozen=True)
class ResetOptions:
    """Checked ``reset`` options: a task id, or a split and an optional difficulty."""

    task_id: str | None = None
    split: str = "train"
    difficulty: str | None = None
    given: frozenset[str] = frozenset()
    """The keys the caller passed (a task id must agree with a split or difficulty given too)."""


def accepted_options(difficulties: tuple[str, ...]) -> str:
    """What ``options`` may hold, for error messages."""
    return (
        "options is None or a dict with any of: 'task_id' (a str: an id from "
        "task_ids('test') or 'train-<difficulty>-<seed>'), 'split' ('train' or 'test'), "
        f"'difficulty' (one of {difficulties} or None)"
    )


def check_seed(seed: Any) -> int | None:
    """``seed`` as Gymnasium takes it: None or a non-negative Python int (numpy ints accepted)."""
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise TypeError(
            f"reset(seed=...) must be None or a non-negative int, got {type(seed).__name__} "
            f"{short_repr(seed)}"
        )
    seed = int(seed)
    if seed < 0:
        raise ValueError(f"reset(seed=...) must be a non-negative int, got {short_repr(seed)}")
    return seed


def parse_reset_options(
    options: Any, difficulties: tuple[str, ...], default_difficulty: str | None
) -> ResetOptions:
    """Check ``reset(options=...)`` and return it as a :class:`ResetOptions`."""
    accepted = accepted_options(difficulties)
    if options is None:
        return ResetOptions(difficulty=default_difficulty)
    options = _plain_copy(options, accepted)
    unknown = [key for key in options if key not in OPTION_KEYS]
    if unknown:
        raise ValueError(
            f"unknown reset option(s) {', '.join(short_repr(k, 40) for k in unknown)}; {accepted}"
        )
    task_id = options.get("task_id")
    if task_id is not None and not isinstance(task_id, str):
        raise TypeError(
            f"reset option 'task_id' must be a str, got {type(task_id).__name__} "
            f"{short_repr(task_id)}; {accepted}"
        )
    split = options.get("split", "train")
    if not isinstance(split, str) or split not in SPLITS:
        raise (ValueError if isinstance(split, str) else TypeError)(
            f"reset option 'split' must be 'train' or 'test', got {short_repr(split)}"
        )
    difficulty = options.get("difficulty", default_difficulty)
    if difficulty is not None and (
        not isinstance(difficulty, str) or difficulty not in difficulties
    ):
        raise (ValueError if isinstance(difficulty, str) else TypeError)(
            f"difficulty must be one of {difficulties} or None (reset option 'difficulty'), "
            f"got {short_repr(difficulty)}"
        )
    given = frozenset(k for k in OPTION_KEYS if options.get(k) is not None)
    return ResetOptions(task_id=task_id, split=split, difficulty=difficulty, given=given)


def _plain_copy(options: Any, accepted: str) -> dict[str, Any]:
    """``options`` as a plain dict with plain ``str`` keys (and str values copied as plain
    ``str``): a subclass that overrides its methods (a hostile caller's) is read through
    ``dict``'s and ``str``'s own, and anything that cannot be read so is a clear TypeError."""
    try:
        if not isinstance(options, Mapping):
            raise TypeError(
                f"reset(options=...) must be a dict or None, got {type(options).__name__} "
                f"{short_repr(options)}; {accepted}"
            )
        items = list(dict.items(options) if isinstance(options, dict) else options.items())
        plain: dict[str, Any] = {}
        for item in items:
            key, value = item
            if not isinstance(key, str):  # never hashed or compared: refused as it is
                raise ValueError(f"unknown reset option(s) {short_repr(key, 40)}; {accepted}")
            plain[str.__str__(key)] = str.__str__(value) if isinstance(value, str) else value
        return plain
    except (TypeError, ValueError):
        raise
    except Exception as exc:
        raise TypeError(
            f"reset(options=...) could not be read ({type(exc).__name__}); pass a plain dict; "
            f"{accepted}"
        ) from None


def parse_train_id(task_id: str, difficulties: tuple[str, ...]) -> tuple[str, int]:
    """``train-<difficulty>-<seed>`` -> (difficulty, seed), checked; ValueError names what is wrong."""
    form = f"'train-<difficulty>-<seed>' with difficulty in {difficulties} and seed in [0, 2**31)"
    match = _TRAIN_ID_RE.fullmatch(task_id)
    if match is None:
        raise ValueError(
            f"reset option 'task_id' {short_repr(task_id)} is not a train id: use {form}"
        )
    difficulty, digits = match.groups()
    if difficulty not in difficulties:
        raise ValueError(
            f"reset option 'task_id' {short_repr(task_id)} names difficulty {difficulty!r}: "
            f"use {form}"
        )
    # compare the digit count first: int() of over 4,300 digits raises an unrelated ValueError
    significant = digits.lstrip("0") or "0"
    if len(significant) > len(str(TRAIN_SEED_LIMIT)) or int(significant) >= TRAIN_SEED_LIMIT:
        raise ValueError(
            f"reset option 'task_id' {short_repr(task_id)} has a seed of {len(digits)} digits, "
            f"out of range: use {form}"
        )
    return difficulty, int(significant)


def _task_by_id(env: LLMEnv, task_id: str) -> Task:
    if task_id.startswith("train-"):
        train_difficulty, seed = parse_train_id(task_id, env.difficulties)
        return env.make_train_task(seed, train_difficulty)
    for task in env.split_tasks("test"):
        if task.task_id == task_id:
            return task
    raise ValueError(
        f"unknown task_id {short_repr(task_id)} (reset option 'task_id'): use an id from "
        "task_ids('test') or a train id of the form 'train-<difficulty>-<seed>'"
    )


def choose_task(env: LLMEnv, options: ResetOptions) -> Task:
    """The task ``options`` select; random choices come from ``env.np_random``."""
    if options.task_id is not None:
        task = _task_by_id(env, options.task_id)
        for key in ("split", "difficulty"):  # given alongside a task id, they must agree
            wanted, actual = getattr(options, key), getattr(task, key)
            if key in options.given and wanted != actual:
                raise ValueError(
                    f"reset options conflict: task_id {short_repr(options.task_id)} is a "
                    f"{key} {actual!r} task, but option {key!r} is {wanted!r}; pass the "
                    f"task_id alone, or {key!r} without a task_id"
                )
        return task
    difficulty = options.difficulty
    if options.split == "test":
        tasks = [t for t in env.split_tasks("test") if difficulty in (None, t.difficulty)]
        if not tasks:
            raise ValueError(
                f"no test task of difficulty {difficulty!r}; levels: {env.difficulties}"
            )
        return tasks[int(env.np_random.integers(len(tasks)))]
    if difficulty is None:
        difficulty = env.difficulties[int(env.np_random.integers(len(env.difficulties)))]
    return env.make_train_task(int(env.np_random.integers(TRAIN_SEED_LIMIT - 1)), difficulty)
