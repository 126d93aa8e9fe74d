"""The verifier fuzzer: mutate the scripted expert's episodes and look for undeserved rewards.

RL finds whatever the verifier pays for, so before a policy does, this module searches for it.
For each task it records the expert's tool calls and the env's :meth:`~llmgym.env.LLMEnv.
canonical_state` after each of them, then replays mutants of that call list (one call per
turn, ``submit`` last):

* drop, repeat, or swap with its neighbour one call;
* change one argument to another value seen in the episode (an id of the same shape from an
  observation, another value of the tool schema's enum, one element more or less in a list);
* insert an extra state-changing call (a copy of one of the expert's, one argument changed),
  and, second order, a call on a value that only the mutant's own inserted call created (book
  something extra, then cancel it);
* rewrite the free text the agent sends: append a contradiction, keep only its ids, append
  another value seen in the episode (a leak).

A mutant that earns the expert's full reward must leave the expert's end state, up to the
paths the env declares in ``state_equivalences``; every other difference is a :class:`Finding`.
So is a full reward earned without changing the state at all when the expert had to change it.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from llmgym.env import LLMEnv
from llmgym.fuzz_parts import (
    CONTRADICTION,
    MAX_DIFFS_SHOWN,
    SAY,
    Call,
    insert,
    is_free_text,
    observed_values,
    replace,
    scalars,
    shape,
    short,
    single_string_tools,
    state_differences,
    swap,
    text_variants,
    value_pool,
)
from llmgym.parsing import format_tool_call, parse_action


@dataclass(frozen=True)
class Finding:
    """A mutant that earned full reward although its end state is not the expert's."""

    task_id: str
    mutant: str
    reward: float
    differences: tuple[str, ...]
    """``path: expert value != mutant value`` for each undeclared difference (the first few)."""

    def __str__(self) -> str:
        return f"{self.task_id} [{self.mutant}] earned {self.reward}: " + "; ".join(
            self.differences
        )


@dataclass(frozen=True)
class FuzzReport:
    """What one fuzzing run played and found."""

    env_id: str
    tasks: int
    mutants: int
    rewarded: int
    """Mutants that earned the expert's full reward (with or without a difference)."""
    findings: tuple[Finding, ...]
    seconds: float


@dataclass(frozen=True)
class Episode:
    """A replayed call list: the reward, the end state and every value the observations showed."""

    reward: float
    end_state: dict[str, Any]
    states: tuple[dict[str, Any], ...]
    """canonical_state after reset and after each call (not after submit)."""
    seen: tuple[Any, ...]


class VerifierFuzzer:
    """Replays mutants of the expert's episodes on one unwrapped env.

    Args:
        env: the unwrapped env (made with ``max_turns`` high enough for one call per turn).
        max_mutants: mutants played per task at most (drawn reproducibly when there are more).
        candidates_per_argument: other values tried for each argument.
        seed: seed of the draw.
    """

    def __init__(
        self,
        env: LLMEnv,
        *,
        max_mutants: int = 120,
        candidates_per_argument: int = 3,
        seed: int = 0,
    ):
        self.env = env
        self.max_mutants = max_mutants
        self.candidates_per_argument = candidates_per_argument
        self.rng = random.Random(seed)
        self.single_string_tools: list[Call] = []

    # --- playing ------------------------------------------------------------------------
    def expert_calls(self, task_id: str) -> list[Call]:
        """The expert's tool calls on ``task_id`` in order, without the final submit."""
        env = self.env
        env.reset(options={"task_id": task_id})
        calls: list[Call] = []
        for _ in range(env.max_turns):
            parsed = parse_action(env.expert_action())
            calls += [(c.name, dict(c.arguments)) for c in parsed.tool_calls]
            _, _, terminated, truncated, _ = env.step(parsed.text)
            if terminated or truncated:
                break
        return [c for c in calls if c[0] != "submit"]

    def play(self, task_id: str, calls: list[Call]) -> Episode:
        """Play ``calls`` one per turn, then submit; record states and observed values."""
        env = self.env
        obs, _ = env.reset(options={"task_id": task_id})
        states = [env.canonical_state()]
        # what an agent can find out: the observations, and the world's own keys and values
        seen: list[Any] = [*observed_values(obs), *scalars(states[0], keys=True)]
        reward, prose = 0.0, ""
        for name, arguments in [*calls, ("submit", {})]:
            if name == SAY:  # prose goes with the next call, as an agent's turn would carry it
                prose += str(arguments["text"]) + "\n"
                continue
            action = prose + format_tool_call(name, **arguments)
            obs, reward, terminated, truncated, _ = env.step(action)
            prose = ""
            seen += observed_values(obs)
            if terminated or truncated:
                break
            states.append(env.canonical_state())
        return Episode(reward, env.canonical_state(), tuple(states), tuple(seen))

    # --- mutating -----------------------------------------------------------------------
    def mutants(
        self, calls: list[Call], base: Episode, schemas: list[dict[str, Any]], changing: list[int]
    ) -> list[tuple[str, list[Call]]]:
        """First-order mutants of ``calls`` (label, call list); ``changing``: the indices of
        the calls that changed the state."""
        pool = value_pool(base.seen, schemas)
        out: list[tuple[str, list[Call]]] = []
        for i, (name, _) in enumerate(calls):
            out.append((f"drop #{i} {name}", [*calls[:i], *calls[i + 1 :]]))
            out.append((f"repeat #{i} {name}", insert(calls, i, calls[i])))
            if i + 1 < len(calls):
                out.append((f"swap #{i} {name} and #{i + 1}", swap(calls, i)))
        for i, (name, arguments) in enumerate(calls):
            for key, variant in self._argument_variants(arguments, pool):
                changed = replace(calls, i, (name, variant))
                out.append((f"#{i} {name}: {key}={short(variant.get(key))}", changed))
                if i in changing:
                    inserted = insert(calls, i + 1, (name, variant))
                    out.append(
                        (f"insert after #{i} {name}({key}={short(variant.get(key))})", inserted)
                    )
        out.append(("a contradicting final message", [*calls, (SAY, {"text": CONTRADICTION})]))
        for i, (name, arguments) in enumerate(calls):
            for key, value in arguments.items():
                if is_free_text(value):
                    for label, text in text_variants(value, pool):
                        changed = replace(calls, i, (name, {**arguments, key: text}))
                        out.append((f"#{i} {name}: {key} {label}", changed))
        return self._draw(out)

    def second_order(
        self, label: str, calls: list[Call], episode: Episode, base: Episode, changing: list[Call]
    ) -> list[tuple[str, list[Call]]]:
        """Calls on values only this mutant's observations show (what its extra call created):
        the expert's state-changing calls with one argument swapped for such a value, and every
        tool that takes a single string (``cancel(id)``: the undo a hacker pairs with an extra)."""
        fresh = {v for v in episode.seen if isinstance(v, str)} - {
            v for v in base.seen if isinstance(v, str)
        }
        templates = [*changing, *self.single_string_tools]
        out = []
        for value in sorted(fresh):
            for name, arguments in templates:
                for key, old in arguments.items():
                    if (
                        isinstance(old, str)
                        and old != value
                        and shape(old)
                        in (
                            shape(value),
                            "any",
                        )
                    ):
                        call = (name, {**arguments, key: value})
                        out.append((f"{label}, then {name}({key}={value!r})", [*calls, call]))
        return out[: self.candidates_per_argument * 2]

    def _argument_variants(
        self, arguments: dict[str, Any], pool: dict[str, list[Any]]
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        for key, value in arguments.items():
            if isinstance(value, list):
                if value:
                    yield key, {**arguments, key: value[:-1]}
                similar = [v for v in pool.get(shape(value[0]) if value else "word", [])]
                extra = [v for v in similar if v not in value][:1]
                if extra:
                    yield key, {**arguments, key: [*value, *extra]}
                continue
            if is_free_text(value):
                continue
            others = [v for v in pool.get(shape(value), []) if v != value]
            for other in self.rng.sample(others, min(len(others), self.candidates_per_argument)):
                yield key, {**arguments, key: other}

    def _draw(self, mutants: list[tuple[str, list[Call]]]) -> list[tuple[str, list[Call]]]:
        if len(mutants) <= self.max_mutants:
            return mutants
        return self.rng.sample(mutants, self.max_mutants)

    # --- the run ------------------------------------------------------------------------
    def fuzz_task(self, task_id: str) -> tuple[int, int, list[Finding]]:
        """(mutants played, mutants rewarded, findings) for one task."""
        env = self.env
        calls = self.expert_calls(task_id)
        base = self.play(task_id, calls)
        if base.reward <= 0:
            raise AssertionError(
                f"{task_id}: the expert's calls replayed one per turn earned {base.reward}; "
                "the fuzzer needs an expert whose calls reproduce its episode"
            )
        schemas = env.toolset.schemas() if env.toolset else []
        self.single_string_tools = single_string_tools(schemas)
        if len(base.states) != len(calls) + 1:
            raise AssertionError(f"{task_id}: the expert's replay ended before its submit")
        changing = [i for i in range(len(calls)) if base.states[i] != base.states[i + 1]]
        queue = self.mutants(calls, base, schemas, changing)
        played = rewarded = 0
        findings: list[Finding] = []
        expert_changed = base.states[0] != base.end_state
        while queue and played < 2 * self.max_mutants:
            label, mutant = queue.pop(0)
            episode = self.play(task_id, mutant)
            played += 1
            if episode.reward < base.reward:
                if label.startswith(("insert", "repeat")):
                    # an extra call failed on its own: try undoing it with a call on what it made
                    templates = [calls[i] for i in changing]
                    queue += self.second_order(label, mutant, episode, base, templates)
                continue
            rewarded += 1
            diffs = state_differences(base.end_state, episode.end_state, env.state_equivalences)
            if expert_changed and episode.end_state == base.states[0]:
                diffs = ["the state did not change at all, yet the expert had to change it", *diffs]
            if diffs:
                findings.append(
                    Finding(task_id, label, episode.reward, tuple(diffs[:MAX_DIFFS_SHOWN]))
                )
        return played, rewarded, findings


def fuzz_env(
    env: LLMEnv,
    env_id: str,
    task_ids: list[str],
    *,
    max_seconds: float | None = None,
    **options: Any,
) -> FuzzReport:
    """Fuzz the verifier of ``env`` on ``task_ids`` (see :class:`VerifierFuzzer`); past
    ``max_seconds`` no further task is started (the report counts the tasks played)."""
    started = time.monotonic()
    fuzzer = VerifierFuzzer(env, **options)
    played = rewarded = tasks = 0
    findings: list[Finding] = []
    for task_id in task_ids:
        if max_seconds is not None and time.monotonic() - started > max_seconds:
            break
        tasks += 1
        p, r, f = fuzzer.fuzz_task(task_id)
        played, rewarded = played + p, rewarded + r
        findings += f
    return FuzzReport(env_id, tasks, played, rewarded, tuple(findings), time.monotonic() - started)
