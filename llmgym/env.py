"""The base class of every llmgym environment: a multi-turn, tool-using chat task.

Every subclass sets ``task_family``, ``description``, ``test_split_sha256`` and implements
four hooks; the base class does the rest (task selection, parsing, tool dispatch, budgets,
termination and reward bookkeeping, the ``submit`` tool, sync and async stepping):

* ``generate_task(seed, difficulty) -> dict``: a train task's JSON spec from a seed;
* ``start(task) -> Scenario``: build the episode's world, its prompt and its tool objects
  (from ``self.task_spec``, the task validated against ``task_spec_type``);
* ``verify() -> Verdict`` (may be async): grade the canonical end state after ``submit``;
* ``expert_action() -> str``: the next action of the scripted expert from the current state.

``reset``/``step`` follow Gymnasium; ``areset``/``astep`` are the native forms.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any, ClassVar, Literal, TypeVar

import gymnasium as gym

from llmgym import messages as msg
from llmgym.messages import ToolCall
from llmgym.parsing import ParsedAction
from llmgym.spaces import AssistantAction, ChatMessages
from llmgym.syncloop import LoopThread, drive
from llmgym.task_selection import check_seed, choose_task, parse_reset_options
from llmgym.tasks import Task, TaskSpec, load_split, spec_fingerprint, train_task_id
from llmgym.tools import Toolset, tool
from llmgym.turns import (
    NO_TOOL_CALL,
    TOOL_FORMAT_HELP,
    format_message,
    ignored_calls,
    problems,
    read_turn,
    run_call,
    skipped_calls,
)
from llmgym.verdict import Scenario, Verdict

log = logging.getLogger(__name__)
T = TypeVar("T")


class LLMEnv(gym.Env[list[dict[str, Any]], Any]):
    """A multi-turn tool-using task with a verifiable terminal reward.

    Args:
        max_turns: agent turns before the episode is truncated ("max_turns").
        max_action_chars: longest accepted turn; longer ones are rejected unread.
        max_tool_calls: most tool calls executed in one turn.
        max_observation_chars: a tool result longer than this is cut, with a note.
        max_episode_seconds: wall-clock budget; past it the episode is truncated ("time_limit").
        difficulty: default difficulty of train tasks (None: drawn from ``np_random``).
        tools_in_prompt: describe tools and the call format in the system prompt (for models
            whose chat template does not render ``info["tools"]``).
        render_mode: None or "ansi".
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}  # noqa: RUF012 - Gymnasium's convention

    # --- set by every subclass -------------------------------------------------------------
    task_family: ClassVar[str]
    """Folder holding the fixed splits, inside ``task_data_package``."""
    task_data_package: ClassVar[str] = "llmgym.task_data"
    """Importable package whose ``<task_family>/test.jsonl`` is the test split (``tasks/`` for
    bundled envs; a third-party env names a package of its own)."""
    description: ClassVar[str] = ""
    """One line shown by ``llmgym list``."""
    test_split_sha256: ClassVar[str | None] = None
    """sha256 of ``tasks/<family>/test.jsonl``; checked on load."""
    difficulties: ClassVar[tuple[str, ...]] = ("easy", "medium", "hard")
    task_spec_type: ClassVar[type[TaskSpec] | None] = None
    """The typed shape of this env's task specs (a :class:`llmgym.tasks.TaskSpec`): each task
    is validated against it when it starts and kept as ``self.task_spec``. None: untyped."""
    cheats: ClassVar[Mapping[str, Callable[[Any, dict[str, Any]], str | None]]] = {}
    """Degenerate policies that must earn 0: each maps (unwrapped env, per-episode memory dict)
    to its next action, or None when it has nothing more to do (the checker then submits). ``llmgym check`` runs
    them, with generic ones (submit at once, claim success, junk), on the test split."""

    def __init__(
        self,
        *,
        max_turns: int = 30,
        max_action_chars: int = 16_000,
        max_tool_calls: int = 8,
        max_observation_chars: int = 6_000,
        max_episode_seconds: float | None = None,
        difficulty: str | None = None,
        tools_in_prompt: bool = True,
        render_mode: str | None = None,
    ):
        if render_mode not in (None, "ansi"):
            raise ValueError(f"render_mode must be None or 'ansi', got {render_mode!r}")
        if difficulty is not None and difficulty not in self.difficulties:
            raise ValueError(f"difficulty must be one of {self.difficulties}, got {difficulty!r}")
        if max_turns < 1:
            raise ValueError(f"max_turns must be >= 1, got {max_turns}")
        self.max_turns = max_turns
        self.max_action_chars = max_action_chars
        self.max_tool_calls = max_tool_calls
        self.max_observation_chars = max_observation_chars
        self.max_episode_seconds = max_episode_seconds
        self.difficulty = difficulty
        self.tools_in_prompt = tools_in_prompt
        self.render_mode = render_mode
        # a turn's observation: its errors, the calls run, and the calls skipped (see astep)
        self.observation_space = ChatMessages(max_messages=max(64, max_tool_calls + 3))
        self.action_space = AssistantAction()
        self.task: Task | None = None
        self.task_spec: TaskSpec | None = None
        """The current task's spec as ``task_spec_type`` (set by ``reset``, before ``start``)."""
        self.toolset: Toolset | None = None
        self.transcript: list[dict[str, Any]] = []
        self.turn = 0
        self.done = False
        self.submitted = False
        self._last_obs: list[dict[str, Any]] = []
        self._started_at = 0.0
        self._loop = LoopThread()
        """Runs async hooks for the sync ``reset``/``step`` (``llmgym.syncloop``)."""
        self._async_hooks = False
        self._closed = False

    # --- hooks ---------------------------------------------------------------------------
    def generate_task(self, seed: int, difficulty: str) -> dict[str, Any]:
        """Generate a train task's JSON spec from ``seed`` (deterministic)."""
        raise NotImplementedError

    def start(self, task: Task) -> Scenario | Awaitable[Scenario]:
        """Build the episode's world for ``task`` (``self.task_spec`` already holds its typed
        spec when the class sets ``task_spec_type``)."""
        raise NotImplementedError

    def verify(self) -> Verdict | Awaitable[Verdict]:
        """Grade the end state after ``submit``."""
        raise NotImplementedError

    def expert_action(self) -> str:
        """The next action of the scripted expert, as text."""
        raise NotImplementedError

    def end_episode(self) -> None:
        """Release per-episode resources (temp dirs, processes). Called on reset and close."""

    def begin_turn(self, turn: int) -> None:
        """Called at the start of each step (turn 1, 2, ...), before any of its tool calls
        runs: a world that must tell what the agent knew when it acted (an answer arrives
        with the turn's observation, not within the turn) keeps the turn here."""

    # --- the compared state (the verifier's input; the fuzzer of ``llmgym check`` diffs it) ----
    state_equivalences: ClassVar[tuple[str, ...]] = ()
    """Paths of :meth:`canonical_state` whose values may legitimately differ between two
    episodes of one task that both deserve full reward (``fnmatch`` patterns over the
    ``/``-joined keys of the flattened state, e.g. ``"bookings/*/flight_id"``). Everything not
    declared here must be equal; the verifier fuzzer reports any other difference."""

    def canonical_state(self) -> dict[str, Any]:
        """Everything the agent could have changed in the world, as plain JSON data.

        The verifier grades this state (not the agent's claims); ``llmgym check`` compares it
        between the expert's episode and mutants of it that still earn full reward.
        """
        raise NotImplementedError

    # --- the submit tool, shared by every env -----------------------------------------------
    @tool
    def submit(self) -> str:
        """Finish the episode. Your work is graded on the final state of the world."""
        self.submitted = True
        return "Submitted."

    # --- tasks ---------------------------------------------------------------------------
    def task_ids(self, split: str = "test", difficulty: str | None = None) -> list[str]:
        """Ids of a fixed split's tasks, optionally of one difficulty."""
        return [t.task_id for t in self.split_tasks(split) if difficulty in (None, t.difficulty)]

    def split_tasks(self, split: str = "test") -> tuple[Task, ...]:
        """The tasks of a fixed split (the test split), as loaded and hash-checked."""
        if split != "test":
            raise ValueError(
                f"only the 'test' split is a fixed file; train tasks are generated, got {split!r}"
            )
        return load_split(self.task_family, split, self.test_split_sha256, self.task_data_package)

    def _test_fingerprints(self) -> frozenset[str]:
        cached = getattr(type(self), "_fingerprints_cache", None)
        if cached is None:
            cached = frozenset(t.fingerprint for t in self.split_tasks("test"))
            type(self)._fingerprints_cache = cached  # type: ignore[attr-defined]
        return cached

    def make_train_task(self, seed: int, difficulty: str) -> Task:
        """The train task of ``seed``; never one of the test split's tasks."""
        if difficulty not in self.difficulties:
            raise ValueError(f"difficulty must be one of {self.difficulties}, got {difficulty!r}")
        spec = self.generate_task(seed, difficulty)
        attempt = 0
        while spec_fingerprint(spec) in self._test_fingerprints():  # keep train and test disjoint
            attempt += 1
            spec = self.generate_task(seed + attempt * 1_000_003, difficulty)
        return Task(
            task_id=train_task_id(difficulty, seed),
            split="train",
            difficulty=difficulty,
            seed=seed,
            spec=spec,
        )

    # --- Gymnasium API -------------------------------------------------------------------
    async def areset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        seed = check_seed(seed)
        chosen = parse_reset_options(options, self.difficulties, self.difficulty)
        super().reset(seed=seed)
        task = choose_task(self, chosen)  # a bad task id fails here, the old episode intact
        task_spec = self.task_spec_type.of(task) if self.task_spec_type else None  # and a bad spec
        self.end_episode()
        self._closed = False
        self.task, self.task_spec = task, task_spec
        scenario = await _maybe_await(self.start(self.task))
        self.toolset = Toolset.from_objects(*scenario.tool_objects, self)
        self.action_space = AssistantAction(
            self.toolset.names, seed=int(self.np_random.integers(2**31))
        )
        self._async_hooks = _has_async_hooks(self)
        system_prompt = scenario.system_prompt
        if self.tools_in_prompt:
            system_prompt += "\n\n# Tools\n" + self.toolset.describe() + "\n\n" + TOOL_FORMAT_HELP
        obs = [msg.system(system_prompt).to_dict(), msg.user(scenario.user_message).to_dict()]
        self.transcript = list(obs)
        self.turn = 0
        self.done = self.submitted = False
        self._started_at = time.monotonic()
        self._last_obs = obs
        info = {
            "task_id": self.task.task_id,
            "difficulty": self.task.difficulty,
            "split": self.task.split,
            "tools": self.toolset.schemas(),
        }
        return obs, info

    async def astep(
        self, action: Any
    ) -> tuple[list[dict[str, Any]], float, bool, bool, dict[str, Any]]:
        if self._closed:
            raise RuntimeError(
                f"{type(self).__name__} is closed: call reset() to start a new episode "
                "before step()"
            )
        if self.task is None or self.toolset is None:
            raise RuntimeError("call reset() before step()")
        if self.done:
            raise RuntimeError(
                "the episode is over (terminated or truncated): call reset() before step()"
            )
        self.turn += 1
        self.begin_turn(self.turn)
        parsed = self._parse(action)
        self.transcript.append(parsed.to_message(with_tool_calls=isinstance(action, Mapping)))
        obs: list[dict[str, Any]] = []
        invalid = bool(parsed.errors)
        if parsed.errors:  # one message however many: a turn's observation stays bounded
            obs.append(
                msg.user(f"[environment] Invalid action: {problems(parsed.errors)}").to_dict()
            )
        if not parsed.tool_calls and not parsed.errors:
            invalid = True
            obs.append(msg.user(NO_TOOL_CALL).to_dict())
        ignored, skipped = [], []
        for index, call in enumerate(parsed.tool_calls):
            if self.submitted:
                ignored.append(call.name)
                continue
            if index >= self.max_tool_calls:
                skipped.append(call.name)
                continue
            result, bad_call = await self._invoke(call)
            invalid |= bad_call
            obs.append(msg.tool_result(self._cut(result), call=call).to_dict())
        # calls that did not run are answered in one message each kind, so that a turn's
        # observation has at most max_tool_calls + 3 messages however many calls it holds
        if skipped:
            invalid = True
            obs.append(msg.user(skipped_calls(skipped, self.max_tool_calls)).to_dict())
        if ignored:
            obs.append(msg.user(ignored_calls(ignored)).to_dict())

        reward, terminated, truncated, reason = 0.0, False, False, None
        info: dict[str, Any] = {
            "invalid_action": invalid,
            "turn": self.turn,
            "task_id": self.task.task_id,
        }
        if self.submitted:
            verdict = await _maybe_await(self.verify())
            reward, terminated, reason = verdict.reward, True, "submitted"
            info["reward_components"] = dict(verdict.components)
            info["verdict"] = verdict.explanation
        elif self.turn >= self.max_turns:
            truncated, reason = True, "max_turns"
        elif (
            self.max_episode_seconds is not None
            and time.monotonic() - self._started_at > self.max_episode_seconds
        ):
            truncated, reason = True, "time_limit"
        info["termination_reason"] = reason
        self.done = terminated or truncated
        self.transcript.extend(obs)
        self._last_obs = obs
        return obs, reward, terminated, truncated, info

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        return self._run(
            self.areset(seed=seed, options=options),
            always_loop=inspect.iscoroutinefunction(self.start),
        )

    def step(self, action: Any) -> tuple[list[dict[str, Any]], float, bool, bool, dict[str, Any]]:
        return self._run(self.astep(action), always_loop=self._async_hooks)

    def render(self) -> str | None:
        if self.render_mode != "ansi":
            return None
        return "\n".join(format_message(m) for m in self._last_obs)

    def close(self) -> None:
        """Release the episode's resources (idempotent); ``reset`` starts a new episode."""
        self.end_episode()
        self._closed = True
        self._loop.close()
        super().close()

    def __getstate__(self) -> dict[str, Any]:
        """Pickle/deepcopy state: everything but the private event loop (made again on use)."""
        state = dict(self.__dict__)
        state["_loop"] = LoopThread()
        return state

    def __enter__(self) -> LLMEnv:
        return self

    def __exit__(self, *exc: object) -> Literal[False]:
        self.close()
        return False

    # --- internals -----------------------------------------------------------------------
    def _parse(self, action: Any) -> ParsedAction:
        """The turn, size-bounded and parsed; never raises (``llmgym.turns``)."""
        return read_turn(action, self.max_action_chars)

    async def _invoke(self, call: ToolCall) -> tuple[str, bool]:
        """Run one tool call: (the text the agent reads, whether the call was invalid)."""
        if self.toolset is None:
            raise RuntimeError("call reset() before step()")
        return await run_call(self.toolset, call)

    def _cut(self, text: str) -> str:
        limit = self.max_observation_chars
        if len(text) <= limit:
            return text
        return text[:limit] + f"\n[... output cut: {len(text) - limit} more characters]"

    def _run(self, coro: Coroutine[Any, Any, T], *, always_loop: bool) -> T:
        """Run a native coroutine from the sync API (``llmgym.syncloop``): driven directly
        when the env is pure-CPU, else on the env's private loop thread."""
        if not always_loop:
            return drive(coro, type(self).__name__)
        return self._loop.run(coro)


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


def _has_async_hooks(env: LLMEnv) -> bool:
    """Whether a step may need an event loop (async tools or an async verifier)."""
    assert env.toolset is not None
    tool_fns = [env.toolset._tools[name][1] for name in env.toolset.names]
    return any(inspect.iscoroutinefunction(f) for f in [*tool_fns, env.verify])
