"""The asyncio rollout collector: many episodes at once against one generation engine.

Each episode runs as its own task under a concurrency bound (``asyncio.Semaphore``); while
one episode waits for the engine, others step their environments or wait in the same
engine batch. Token ids are kept exactly as sampled (``llmgym.chat``). An episode that
crashes (engine error, environment exception, timeout) becomes a trajectory with ``error``
set, never an exception that loses the batch. Results stream out as episodes finish
(``stream``), or as whole GRPO groups finish (``stream_groups``).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import AsyncGenerator, Awaitable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import gymnasium as gym

from llmgym import stepping
from llmgym.chat import ChatFormat
from llmgym.engines.base import Engine, SamplingParams
from llmgym.episode_tokens import EpisodeTokens
from llmgym.seeds import mix_seed
from llmgym.trajectory import Timings, Trajectory

logger = logging.getLogger(__name__)
T = TypeVar("T")


class _EnvTimeout(Exception):
    """An episode's environment calls used up ``RolloutConfig.env_timeout_s``."""


@dataclass(frozen=True)
class EpisodeSpec:
    """One episode to play: which env, which task (reset options) and which seed."""

    env_id: str
    seed: int
    options: dict[str, Any] = field(default_factory=dict)
    """``reset`` options, e.g. ``{"task_id": "test-0007"}`` or ``{"split": "train"}``."""
    group_id: str | None = None
    index: int = 0
    """Position in its group (or batch); decorrelates sampling seeds within a group."""


def group_specs(
    env_id: str, tasks: Iterable[tuple[dict[str, Any], int]], group_size: int
) -> list[EpisodeSpec]:
    """``group_size`` episodes per (reset options, seed) pair, each group with its own id."""
    specs = []
    for g, (options, seed) in enumerate(tasks):
        group_id = f"g{g}-{options.get('task_id', options.get('split', 'task'))}-s{seed}"
        specs += [EpisodeSpec(env_id, seed, dict(options), group_id, i) for i in range(group_size)]
    return specs


@dataclass(frozen=True)
class RolloutConfig:
    """How the collector plays episodes."""

    sampling: SamplingParams = field(default_factory=SamplingParams)
    concurrency: int = 32
    """Most episodes in flight at once."""
    env_timeout_s: float | None = 600.0
    """Limit on the time one episode's environment calls (reset and every step) take in all;
    past it the episode ends with termination reason "timeout" and error "environment calls
    exceeded ... s". A hung or runaway environment ends its episode here, whatever the
    engine's speed (a step in a worker thread runs on; its env is then left unclosed)."""
    episode_timeout_s: float | None = None
    """Wall-clock limit of one episode, generation included (None: none). Off by default: an
    episode's generation is bounded by its turns and tokens, but its wall time is mostly
    waiting for an engine shared with every other episode in flight, so a wall-clock limit
    fails episodes for the machine's load, not for anything the policy or environment did
    (a 40-task TicketClose evaluation, 16 episodes in flight on 2 cores shared with unit
    tests, lost 32 of 40 to the old 600 s default). Set it to bound a run on an engine that
    may stall."""
    max_context_tokens: int = 8192
    """Episode is truncated ("context_limit") when the next turn would not fit."""
    tools_in_template: bool = False
    """Render ``info["tools"]`` through the chat template (for tool-aware templates)."""
    env_in_thread: bool = False
    """Run reset/step in a worker thread (for envs whose steps block: no native async)."""
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    progress: bool = False
    """Show a tqdm progress bar."""
    progress_label: str = "episodes"
    """The bar's label (e.g. "eval", "rollouts")."""


class RolloutCollector:
    """Plays ``EpisodeSpec``s concurrently with ``engine`` and returns ``Trajectory``s.

    Args:
        engine: any ``llmgym.engines.Engine``.
        tokenizer: the engine model's Hugging Face tokenizer (chat template, decoding).
        config: see ``RolloutConfig``.
    """

    def __init__(self, engine: Engine, tokenizer: Any, config: RolloutConfig | None = None):
        self.engine = engine
        self.config = config or RolloutConfig()
        if self.config.concurrency < 1:
            raise ValueError(f"concurrency must be >= 1, got {self.config.concurrency}")
        self.chat = ChatFormat(tokenizer, tools=[] if self.config.tools_in_template else None)

    async def collect(self, specs: Sequence[EpisodeSpec]) -> list[Trajectory]:
        """Play every spec; trajectories come back in the order of ``specs``."""
        results: list[Trajectory | None] = [None] * len(specs)
        async with contextlib.aclosing(self._stream_indexed(specs)) as items:
            async for position, trajectory in items:
                results[position] = trajectory
        return [t for t in results if t is not None]

    async def stream(self, specs: Sequence[EpisodeSpec]) -> AsyncGenerator[Trajectory, None]:
        """Yield trajectories as their episodes finish (completion order).

        To stop early, iterate inside ``contextlib.aclosing(collector.stream(...))``: closing
        the iterator cancels the episodes still running.
        """
        async with contextlib.aclosing(self._stream_indexed(specs)) as items:
            async for _, trajectory in items:
                yield trajectory

    async def stream_groups(
        self, specs: Sequence[EpisodeSpec]
    ) -> AsyncGenerator[list[Trajectory], None]:
        """Yield each group (specs sharing ``group_id``) once all its episodes finished."""
        sizes: dict[str | None, int] = {}
        for spec in specs:
            sizes[spec.group_id] = sizes.get(spec.group_id, 0) + 1
        pending: dict[str | None, list[Trajectory]] = {}
        async with contextlib.aclosing(self.stream(specs)) as trajectories:
            async for trajectory in trajectories:
                group = pending.setdefault(trajectory.group_id, [])
                group.append(trajectory)
                if len(group) == sizes[trajectory.group_id]:
                    group.sort(key=lambda t: t.metadata["index"])
                    yield pending.pop(trajectory.group_id)

    async def _stream_indexed(
        self, specs: Sequence[EpisodeSpec]
    ) -> AsyncGenerator[tuple[int, Trajectory], None]:
        semaphore = asyncio.Semaphore(self.config.concurrency)
        done: asyncio.Queue[tuple[int, Trajectory]] = asyncio.Queue()

        async def run(position: int, spec: EpisodeSpec) -> None:
            async with semaphore:
                await done.put((position, await self.play(spec)))

        bar = None
        if self.config.progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(specs), desc=self.config.progress_label, unit="ep", leave=False)
        tasks = [asyncio.create_task(run(i, s), name=f"episode-{i}") for i, s in enumerate(specs)]
        try:
            for _ in specs:
                item = await done.get()
                if bar is not None:
                    bar.update(1)
                yield item
        finally:
            # A consumer that stops early (or is cancelled) must not leave episodes running.
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if bar is not None:
                bar.close()

    async def play(self, spec: EpisodeSpec) -> Trajectory:
        """Play one episode; failures are recorded on the returned trajectory."""
        state = _EpisodeState(spec=spec, model_version=self.engine.model_version)
        started = time.perf_counter()
        env, limit = None, asyncio.timeout(self.config.episode_timeout_s)
        try:
            env = await self._env_call(gym.make, spec.env_id, **self.config.env_kwargs)
            async with limit:
                await self._run_episode(env, spec, state)
        except Exception as exc:
            if isinstance(exc, _EnvTimeout):
                state.fail("timeout", f"environment calls exceeded {self.config.env_timeout_s} s")
            elif isinstance(exc, TimeoutError) and limit.expired():
                state.fail("timeout", f"episode exceeded {self.config.episode_timeout_s} s")
            else:  # a TimeoutError the env or engine raised itself is a crash like any other
                logger.warning("episode %s (seed %d) failed: %r", spec.options, spec.seed, exc)
                state.fail("error", f"{type(exc).__name__}: {exc}")
        finally:
            if state.env_abandoned:
                logger.warning("episode %s (seed %d): env left open, its timed-out call is "
                               "still running in a worker thread", spec.options, spec.seed)  # fmt: skip
            elif env is not None:
                try:
                    env.close()
                except Exception:
                    logger.exception("closing env %s failed", spec.env_id)
        return state.to_trajectory(env, time.perf_counter() - started)

    async def _env_call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if self.config.env_in_thread:
            return await asyncio.to_thread(fn, *args, **kwargs)
        return fn(*args, **kwargs)

    async def _budgeted(self, state: _EpisodeState, call: Awaitable[T], threaded: bool) -> T:
        """Await an environment call within what is left of ``env_timeout_s``.

        A call past it is cancelled and ends the episode with ``_EnvTimeout``; a call in a
        worker thread cannot be stopped, so it runs on and its env is left unclosed."""
        limit, t0 = self.config.env_timeout_s, time.perf_counter()
        if limit is None:
            return await call
        budget = asyncio.timeout(max(limit - state.env_call_s, 0.0))
        try:
            async with budget:
                result = await call
        except TimeoutError as e:
            if not budget.expired():  # the environment's own TimeoutError: a crash
                raise
            state.env_abandoned = threaded
            raise _EnvTimeout from e
        finally:
            state.env_call_s += time.perf_counter() - t0
        if state.env_call_s > limit:  # a call that blocked the event loop cannot be cancelled
            raise _EnvTimeout
        return result

    def _threaded(self, env: Any, method: str) -> bool:
        """Whether ``method`` runs in a worker thread: asked to, or the env has no native
        async version of it (``areset``, ``astep``)."""
        return self.config.env_in_thread or not hasattr(env.unwrapped, method)

    async def _reset(self, env: Any, spec: EpisodeSpec) -> tuple[Any, dict[str, Any]]:
        # natively async envs are awaited through their wrappers (llmgym.stepping): a
        # TimeLimit from max_episode_steps applies either way
        if not self._threaded(env, "areset"):
            return await stepping.areset(env, seed=spec.seed, options=dict(spec.options))
        return await asyncio.to_thread(env.reset, seed=spec.seed, options=dict(spec.options))

    async def _step(self, env: Any, action: str) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        if not self._threaded(env, "astep"):
            return await stepping.astep(env, action)
        return await asyncio.to_thread(env.step, action)

    async def _run_episode(self, env: Any, spec: EpisodeSpec, state: _EpisodeState) -> None:
        config, tokens = self.config, state.tokens
        obs, info = await self._budgeted(
            state, self._reset(env, spec), self._threaded(env, "areset")
        )
        state.task_id = str(info.get("task_id", spec.options.get("task_id", "")))
        chat = self.chat.with_tools(info.get("tools")) if config.tools_in_template else self.chat
        state.messages.extend(obs)
        tokens.append_context(chat.prompt_ids(obs))
        while True:
            room = config.max_context_tokens - len(tokens.tokens)
            if room <= 0:
                state.truncated, state.termination_reason = True, "context_limit"
                return
            params = dataclasses.replace(
                config.sampling,
                max_tokens=min(config.sampling.max_tokens, room),
                seed=_turn_seed(config.sampling.seed, spec, len(tokens.turns)),
            )
            t0 = time.perf_counter()
            completion = await self.engine.generate(tokens.prompt(), params)
            generate_s = time.perf_counter() - t0
            tokens.append_completion(completion, generate_s=generate_s)
            text = chat.completion_text(completion.token_ids)
            state.messages.append({"role": "assistant", "content": text})
            t0 = time.perf_counter()
            obs, reward, terminated, truncated, info = await self._budgeted(
                state, self._step(env, text), self._threaded(env, "astep")
            )
            env_s = time.perf_counter() - t0
            state.generate_s += generate_s
            state.env_s += env_s
            tokens.annotate_last_turn(
                env_s=env_s, invalid_action=bool(info.get("invalid_action", False))
            )
            state.messages.extend(obs)
            state.reward += float(reward)
            if terminated or truncated:
                state.terminated, state.truncated = terminated, truncated
                # a wrapper's truncation (TimeLimit from max_episode_steps) names no reason
                state.termination_reason = info.get("termination_reason") or (
                    "max_episode_steps" if truncated else None
                )
                state.reward_components = dict(info.get("reward_components", {}))
                return
            ended_with_eos = bool(completion.token_ids) and (
                completion.token_ids[-1] in chat.eos_token_ids
            )
            tokens.append_context(chat.delta_ids(obs, after_eos=ended_with_eos))


def _turn_seed(base: int | None, spec: EpisodeSpec, turn: int) -> int | None:
    """A distinct, reproducible sampling seed per (episode, turn) when a base seed is set:
    a shared seed would make every episode of a GRPO group sample the same tokens."""
    if base is None:
        return None
    return mix_seed(base, spec.seed, spec.index, turn)


@dataclass
class _EpisodeState:
    """What one episode accumulated so far (kept when it crashes)."""

    spec: EpisodeSpec
    model_version: Any
    task_id: str = ""
    messages: list[dict[str, Any]] = field(default_factory=list)
    tokens: EpisodeTokens = field(default_factory=EpisodeTokens)
    reward: float = 0.0
    reward_components: dict[str, float] = field(default_factory=dict)
    terminated: bool = False
    truncated: bool = False
    termination_reason: str | None = None
    error: str | None = None
    generate_s: float = 0.0
    env_s: float = 0.0
    env_call_s: float = 0.0
    """Time in environment calls so far, reset included (against ``env_timeout_s``)."""
    env_abandoned: bool = False
    """A call in a worker thread timed out and runs on: closing the env under it would race."""

    def fail(self, reason: str, error: str) -> None:
        self.termination_reason, self.error = reason, error

    def to_trajectory(self, env: Any, total_s: float) -> Trajectory:
        spec = getattr(env, "spec", None)
        unwrapped = getattr(env, "unwrapped", None)
        version = f"v{spec.version}" if spec is not None and spec.version is not None else ""
        split_hash = getattr(unwrapped, "test_split_sha256", None)
        if split_hash:
            version += f"+tasks.{split_hash[:12]}"
        return Trajectory(
            env_id=self.spec.env_id,
            env_version=version,
            task_id=self.task_id or str(self.spec.options.get("task_id", "")),
            seed=self.spec.seed,
            group_id=self.spec.group_id,
            messages=self.messages,
            reward=self.reward,
            reward_components=self.reward_components,
            terminated=self.terminated,
            truncated=self.truncated,
            termination_reason=self.termination_reason,
            tokens=self.tokens.tokens,
            loss_mask=self.tokens.loss_mask,
            logprobs=self.tokens.logprobs,
            turns=self.tokens.turns,
            model_version=self.model_version,
            timings=Timings(total_s=total_s, generate_s=self.generate_s, env_s=self.env_s),
            error=self.error,
            metadata={"index": self.spec.index, "options": self.spec.options},
        )
