"""``llmgym check``: the environment contract as an executable list of checks.

Each check returns a :class:`CheckResult` that says what was expected, what happened and
where to look, so a contributor can act on a failure without reading this file.
"""

from __future__ import annotations

import traceback
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import gymnasium as gym
import gymnasium.utils.env_checker
import numpy as np

from llmgym.env import LLMEnv
from llmgym.episode import play
from llmgym.tasks import spec_fingerprint

HOSTILE_ACTIONS: dict[str, Any] = {
    "empty": "",
    "whitespace": "   \n\t ",
    "binary junk": bytes(range(256)).decode("latin-1"),
    "null bytes": "\x00\x00<tool_call>\x00</tool_call>",
    "broken JSON": '<tool_call>{"name": "submit", "arguments": {</tool_call>',
    "unclosed tag": '<tool_call>{"name": "submit", "arguments": {}}',
    "not an object": "<tool_call>[1, 2, 3]</tool_call>",
    "unknown tool": '<tool_call>{"name": "grant_full_reward", "arguments": {}}</tool_call>',
    "wrong argument types": '<tool_call>{"name": "submit", "arguments": {"force": [1, {"a": null}]}}</tool_call>',
    "arguments not an object": '<tool_call>{"name": "submit", "arguments": "yes please"}</tool_call>',
    "megabyte string": "<tool_call>" + "A" * 1_000_000 + "</tool_call>",
    "deeply nested JSON": "<tool_call>" + "[" * 5000 + "]" * 5000 + "</tool_call>",
    "claims success": "I have completed the task successfully. All constraints are satisfied. DONE.",
    "bad message dict": {
        "role": "assistant",
        "content": None,
        "tool_calls": [{"function": "nope"}],
    },
    "not text at all": 12345,
}


class CheckFailed(AssertionError):
    """A check found the environment in breach of the contract (the message says how)."""


def require(condition: object, message: str) -> None:
    """Fail the check with ``message`` unless ``condition`` holds (an ``assert`` that
    ``python -O`` does not remove)."""
    if not condition:
        raise CheckFailed(message)


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check."""

    name: str
    passed: bool
    detail: str
    hint: str = ""


def make_unwrapped(env_id: str, **kwargs: Any) -> LLMEnv:
    env = gym.make(env_id, **kwargs).unwrapped
    if not isinstance(env, LLMEnv):
        raise TypeError(
            f"{env_id} makes a {type(env).__name__}, which is not a subclass of llmgym.env.LLMEnv"
        )
    return env


def play_episode(
    env: LLMEnv,
    policy: Callable[[], str | None],
    *,
    seed: int | None = None,
    options: dict[str, Any] | None = None,
    submit_when_done: bool = True,
) -> dict[str, Any]:
    """Play one episode with ``policy`` (``llmgym.episode.play``); return a summary."""
    out = play(env, policy, seed=seed, options=options, submit_when_done=submit_when_done)
    return {
        "reward": out.reward,
        "reason": out.reason,
        "invalid": out.invalid,
        "transitions": out.transitions,
        "info": out.info,
    }


def _check(name: str, hint: str) -> Callable[[Callable[..., str]], Callable[..., CheckResult]]:
    """Wrap a check body: it returns a detail string on success and raises ``CheckFailed``
    (``require``) on failure."""

    def wrap(body: Callable[..., str]) -> Callable[..., CheckResult]:
        def run(*args: Any, **kwargs: Any) -> CheckResult:
            try:
                return CheckResult(name, True, body(*args, **kwargs))
            except AssertionError as exc:
                return CheckResult(name, False, str(exc), hint)
            except Exception as exc:
                tb = traceback.format_exc(limit=-3)
                return CheckResult(name, False, f"raised {type(exc).__name__}: {exc}\n{tb}", hint)

        run.__name__ = body.__name__
        return run

    return wrap


@_check(
    "class contract",
    "set task_family, description and test_split_sha256 on your LLMEnv subclass (see CONTRIBUTING.md)",
)
def check_class(env: LLMEnv) -> str:
    cls = type(env)
    for attr in ("task_family", "description"):
        require(getattr(cls, attr, None), f"{cls.__name__}.{attr} is not set")
    require(
        cls.test_split_sha256,
        (
            f"{cls.__name__}.test_split_sha256 is not set: freeze a split with `llmgym freeze` and record the hash it prints"
        ),
    )
    require(cls.difficulties, f"{cls.__name__}.difficulties is empty")
    for hook in ("generate_task", "start", "verify", "expert_action"):
        require(
            getattr(cls, hook) is not getattr(LLMEnv, hook),
            f"{cls.__name__} does not implement {hook}()",
        )
    return f"{cls.__name__}: family {cls.task_family!r}, difficulties {list(cls.difficulties)}"


@_check(
    "test split",
    "the file under tasks/<family>/test.jsonl must match test_split_sha256; regenerate with `llmgym freeze` only together with a version bump",
)
def check_split(env: LLMEnv, train_seeds: int) -> str:
    ids = env.task_ids("test")
    require(ids, "the test split is empty")
    tasks = env.split_tasks("test")
    levels = {t.difficulty for t in tasks}
    require(
        levels <= set(env.difficulties),
        f"test tasks use unknown difficulties {levels - set(env.difficulties)}",
    )
    test_prints = {t.fingerprint for t in tasks}
    typed = [*tasks]
    for difficulty in env.difficulties:
        for seed in range(train_seeds):
            task = env.make_train_task(seed, difficulty)
            require(
                spec_fingerprint(task.spec) not in test_prints,
                f"train task {task.task_id} equals a test task",
            )
            typed.append(task)
    shape = ""
    if env.task_spec_type is not None:  # raises InvalidTaskSpec naming the task and field
        shape = f", all {len([env.task_spec_type.of(t) for t in typed])} of type {env.task_spec_type.__name__}"
    return f"{len(ids)} test tasks ({', '.join(f'{lvl}: {sum(t.difficulty == lvl for t in tasks)}' for lvl in env.difficulties)}), hash ok, disjoint from {train_seeds * len(env.difficulties)} train tasks{shape}"


@_check(
    "gymnasium check_env",
    "the detail is Gymnasium's own message; the usual cause is reset() not calling super().reset(seed=seed) or randomness not taken from self.np_random",
)
def check_gymnasium(env_id: str) -> str:
    env = make_unwrapped(env_id)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gym.utils.env_checker.check_env(env)
    env.close()
    relevant = [
        str(w.message)
        for w in caught
        if "gymnasium" in str(w.filename) or "env_checker" in str(w.filename)
    ]
    return "passed" + (f" with warnings: {relevant}" if relevant else "")


@_check(
    "determinism",
    "take all randomness from self.np_random (reset) or from the task seed (generate_task); never the global random module or time",
)
def check_determinism(env_id: str) -> str:
    a, b = make_unwrapped(env_id), make_unwrapped(env_id)
    for seed in (0, 1, 12345):
        for difficulty in a.difficulties:
            ra = play_episode(a, a.expert_action, seed=seed, options={"difficulty": difficulty})
            rb = play_episode(b, b.expert_action, seed=seed, options={"difficulty": difficulty})
            require(
                a.task == b.task,
                f"reset(seed={seed}, difficulty={difficulty!r}) gave two different tasks",
            )
            require(
                gym.utils.env_checker.data_equivalence(ra["transitions"], rb["transitions"]),
                (
                    f"same seed {seed} and same actions gave different transitions (task {ra['info'].get('task_id')})"
                ),
            )
    a.close()
    b.close()
    return "same seed, same task; same actions, same transitions"


@_check(
    "expert solves the test split",
    "expert_action() must reach reward 1.0 on every test task; run `llmgym play ID --expert --task-id ID` to watch a failing one",
)
def check_expert(env: LLMEnv, limit: int | None) -> str:
    ids = env.task_ids("test")[:limit]
    failures = []
    for task_id in ids:
        out = play_episode(
            env, env.expert_action, options={"task_id": task_id}, submit_when_done=False
        )
        if out["reward"] != 1.0:
            failures.append(
                f"{task_id}: reward {out['reward']} ({out['reason']}; {out['info'].get('verdict', '')})"
            )
        require(
            out["invalid"] == 0 or failures,
            f"{task_id}: the expert made {out['invalid']} invalid actions",
        )
    require(
        not failures,
        f"{len(failures)}/{len(ids)} test tasks not solved:\n  " + "\n  ".join(failures[:10]),
    )
    return f"{len(ids)}/{len(ids)} test tasks solved with reward 1.0"


@_check(
    "hostile actions",
    "step() must never raise on agent output: malformed turns become an error message with info['invalid_action'] = True",
)
def check_hostile(env: LLMEnv) -> str:
    env.reset(seed=7)
    for label, action in HOSTILE_ACTIONS.items():
        obs, reward, terminated, truncated, info = env.step(action)
        require(info["invalid_action"], f"{label!r}: info['invalid_action'] is not True")
        require(
            reward == 0.0 and not terminated, f"{label!r}: earned {reward} or ended the episode"
        )
        require(
            env.observation_space.contains(obs),
            f"{label!r}: the observation is outside observation_space",
        )
        if truncated:
            env.reset(seed=7)
    return f"{len(HOSTILE_ACTIONS)} hostile actions: no exception, all invalid, no reward"


def _generic_cheats(env: LLMEnv) -> dict[str, Callable[[LLMEnv, dict[str, Any]], str | None]]:
    def claim(e: LLMEnv, memory: dict[str, Any]) -> str | None:
        memory["n"] = memory.get("n", 0) + 1
        return HOSTILE_ACTIONS["claims success"] if memory["n"] == 1 else None

    def junk(e: LLMEnv, memory: dict[str, Any]) -> str | None:
        memory["n"] = memory.get("n", 0) + 1
        return str(e.action_space.sample()) if memory["n"] <= 5 else None

    return {
        "submit at once": lambda e, m: None,
        "claim success, then submit": claim,
        "random junk, then submit": junk,
    }


@_check(
    "cheats earn nothing",
    "a degenerate policy scored above 0: the verifier must compare the canonical end state with what the task requires, and reject extra changes",
)
def check_cheats(env: LLMEnv, limit: int | None) -> str:
    ids = env.task_ids("test")[:limit]
    cheats = {**_generic_cheats(env), **type(env).cheats}
    rows = []
    for name, cheat in cheats.items():
        earned = []
        for task_id in ids:
            memory: dict[str, Any] = {}
            out = play_episode(env, partial(cheat, env, memory), options={"task_id": task_id})
            earned.append(out["reward"])
            require(out["reward"] == 0.0, f"cheat {name!r} earned {out['reward']} on {task_id}")
        rows.append(f"{name}: {len(earned)} episodes, mean reward {np.mean(earned):.2f}")
    return "\n  ".join([f"{len(cheats)} cheats x {len(ids)} test tasks, all 0", *rows])


@_check(
    "verifier fuzzing",
    "a mutant of the expert's episode earned full reward with a different end state: make the "
    "verifier compare that part of canonical_state(), or, if both end states are correct, "
    "declare the path in state_equivalences",
)
def check_fuzz(env_id: str, limit: int | None, max_mutants: int) -> str:
    from llmgym.fuzz import fuzz_env

    env = make_unwrapped(env_id, max_turns=500)  # the fuzzer plays one call per turn
    try:
        try:
            env.reset(seed=0)
            env.canonical_state()
        except NotImplementedError:
            raise AssertionError(
                f"{type(env).__name__}.canonical_state() is not implemented: return everything "
                "the agent could change, as plain JSON (see CONTRIBUTING.md, the verifier)"
            ) from None
        ids = env.task_ids("test")
        if limit is not None:  # spread over the split: its difficulties are usually in blocks
            ids = ids[:: max(1, len(ids) // max(1, limit))][:limit]
        report = fuzz_env(env, env_id, ids, max_mutants=max_mutants)
    finally:
        env.close()
    require(
        not report.findings,
        (
            f"{len(report.findings)} of {report.mutants} mutants earned full reward with an end "
            "state the expert did not reach:\n  "
            + "\n  ".join(str(f) for f in report.findings[:10])
        ),
    )
    return (
        f"{report.mutants} mutants of the expert on {report.tasks} test tasks "
        f"({report.rewarded} still earned full reward, each with the expert's end state) "
        f"in {report.seconds:.0f} s"
    )


@_check(
    "async API",
    "areset/astep are the native forms; reset/step must return exactly what they return",
)
def check_async(env_id: str) -> str:
    import asyncio

    sync_env, async_env = make_unwrapped(env_id), make_unwrapped(env_id)
    sync = play_episode(sync_env, sync_env.expert_action, seed=3)

    async def run() -> list[Any]:
        obs, _ = await async_env.areset(seed=3)
        out: list[Any] = [obs]
        for _ in range(async_env.max_turns):
            obs, reward, term, trunc, _ = await async_env.astep(async_env.expert_action())
            out.append((obs, reward, term, trunc))
            if term or trunc:
                break
        return out

    require(
        gym.utils.env_checker.data_equivalence(sync["transitions"], asyncio.run(run())),
        (
            "the same seed and actions gave different transitions through astep and step (if the determinism check fails too, fix that first)"
        ),
    )
    sync_env.close()
    async_env.close()
    async_env.close()  # close() must be idempotent
    return "areset/astep match reset/step; close() is idempotent"


def run_checks(
    env_id: str,
    *,
    test_limit: int | None = None,
    cheat_limit: int | None = None,
    train_seeds: int = 50,
    fuzz_limit: int | None = 8,
    fuzz_mutants: int = 120,
) -> Iterator[CheckResult]:
    """Run the whole contract on ``env_id``, yielding results as they come."""
    try:
        env = make_unwrapped(env_id)
    except Exception as exc:
        yield CheckResult(
            "make",
            False,
            f"gym.make({env_id!r}) raised {type(exc).__name__}: {exc}",
            "is the id registered (llmgym list) and its entry point 'module:Class' importable?",
        )
        return
    yield CheckResult("make", True, f"{type(env).__module__}.{type(env).__name__}")
    yield check_class(env)
    yield check_split(env, train_seeds)
    yield check_gymnasium(env_id)
    yield check_determinism(env_id)
    yield check_async(env_id)
    yield check_expert(env, test_limit)
    yield check_hostile(env)
    yield check_cheats(env, cheat_limit)
    env.close()
    yield check_fuzz(env_id, fuzz_limit, fuzz_mutants)
