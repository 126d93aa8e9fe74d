"""Probe specifications: the inputs on which the judge compares a repair with the clean code.

A probe is a short sequence of calls described as data (see ``harness.py`` for the format),
run in the judge's child process; its results are compared with the clean project's. Each
project has a spec module here (``probes/<project>.py``) whose ``probes(rng)`` draws many
inputs from a fixed seed, edge cases and the hidden tests' own inputs included. These specs
are trusted data: they live in the library, never in the agent's tree, and the sandbox cannot
read them.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from llmgym.environments.bug_fix.harness import encode

PROBE_SEED = "llmgym-bugfix-probes-v1"


@dataclass(frozen=True)
class Expr:
    """An expression evaluated in the child (a call, a reference to a bound value...)."""

    data: dict[str, Any]


@dataclass(frozen=True)
class Probe:
    """One isolated unit of comparison: steps run in order in a fresh working directory."""

    id: str
    group: str
    """What it exercises (a function or class), for reports."""
    steps: tuple[dict[str, Any], ...]

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "steps": list(self.steps)}

    def compares_message(self, index: int) -> bool:
        return bool(self.steps[index].get("message")) if index < len(self.steps) else False


def arg(value: Any) -> Any:
    """An argument: an :class:`Expr` as is, any other value in the tagged encoding (lists and
    tuples may hold expressions)."""
    if isinstance(value, Expr):
        return value.data
    if type(value) is list:
        return [arg(v) for v in value]
    if type(value) is tuple:
        return {"$tuple": [arg(v) for v in value]}
    return encode(value)


def call(target: str, *args: Any, **kwargs: Any) -> Expr:
    """``target(*args, **kwargs)``; target ``"pkg.mod:name"`` or ``"$bound.method"``."""
    return Expr(
        {
            "$call": target,
            "args": [arg(a) for a in args],
            "kwargs": {k: arg(v) for k, v in kwargs.items()},
        }
    )


def ref(name: str) -> Expr:
    return Expr({"$ref": name})


def get(target: str) -> Expr:
    return Expr({"$get": target})


def step(expr: Expr, bind: str | None = None, message: bool = False) -> dict[str, Any]:
    """A step; ``bind`` keeps its value under that name; ``message`` compares exception text."""
    out: dict[str, Any] = {"do": expr.data}
    if bind:
        out["as"] = bind
    if message:
        out["message"] = True
    return out


class ProbeSet:
    """Collects probes for one project; ids are ``group#n``."""

    def __init__(self) -> None:
        self.probes: list[Probe] = []
        self._counts: dict[str, int] = {}

    def add(self, group: str, *steps: dict[str, Any]) -> None:
        n = self._counts.get(group, 0)
        self._counts[group] = n + 1
        self.probes.append(Probe(f"{group}#{n}", group, tuple(steps)))

    def calls(
        self, target: str, inputs: Iterable[tuple[Any, ...]], message: bool = False, **kwargs: Any
    ) -> None:
        """One probe per argument tuple: ``target(*args, **kwargs)``."""
        for args in inputs:
            self.add(target, step(call(target, *args, **kwargs), message=message))


def text(rng: random.Random, alphabet: list[str] | str, low: int, high: int) -> str:
    """A random string of ``low..high`` pieces drawn from ``alphabet``."""
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(low, high)))


def _specs() -> dict[str, Callable[[ProbeSet, random.Random], None]]:
    from llmgym.environments.bug_fix.probes import (
        calendar_utils,
        configparse,
        money,
        structures,
        textkit,
        todo_cli,
    )

    modules = (calendar_utils, configparse, money, structures, textkit, todo_cli)
    return {m.__name__.rsplit(".", 1)[1]: m.build for m in modules}


@cache
def probes_for(project: str) -> tuple[Probe, ...]:
    """The probes of ``project`` (deterministic: a fixed seed per project)."""
    specs = _specs()
    if project not in specs:
        raise KeyError(
            f"no probe spec for project {project!r}: add environments/bug_fix/probes/{project}.py "
            f"with a build(probes, rng) function (have: {sorted(specs)})"
        )
    probes = ProbeSet()
    specs[project](probes, random.Random(f"{PROBE_SEED}:{project}"))
    ids = [p.id for p in probes.probes]
    assert len(ids) == len(set(ids)), f"duplicate probe ids in {project}"
    return tuple(probes.probes)


@cache
def probes_digest(project: str) -> str:
    """sha256 of the probe list (a cache key for reference results)."""
    raw = json.dumps([p.to_json() for p in probes_for(project)], sort_keys=True)
    return hashlib.sha256(raw.encode()).hexdigest()
