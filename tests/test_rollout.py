"""Rollout collector on the real TripBooking env, driven by the scripted expert engine.

The expert replays ``expert_action()`` through the tokenizer, so rewards, token sequences
and failure handling are checked against a real, deterministic policy. Faults (an env
that crashes, an engine that raises, an engine slower than the episode timeout) are
injected around the real components.
"""

import asyncio
import contextlib
import importlib.metadata
import time

import gymnasium as gym
import pytest

import llmgym  # noqa: F401
from llmgym import models
from llmgym.engines.base import SamplingParams
from llmgym.engines.scripted import ExpertEngine
from llmgym.environments.trip_booking.env import TripBookingEnv
from llmgym.rollout import EpisodeSpec, RolloutCollector, RolloutConfig, group_specs
from llmgym.trajectory import read_jsonl, write_jsonl

ENV_ID = "llmgym/TripBooking-v0"


class CrashingTripBooking(TripBookingEnv):
    """TripBooking whose third step raises, as a buggy environment would."""

    async def astep(self, action):
        if self.turn >= 2:
            raise RuntimeError("simulated environment crash")
        return await super().astep(action)


gym.register("llmgym-test/CrashingTripBooking-v0", entry_point=CrashingTripBooking)


class SlowTripBooking(TripBookingEnv):
    """TripBooking whose steps after the first take ``delay_s``: asynchronously (yielding),
    blocking the event loop, or blocking the worker thread of a synchronous step; or whose
    reset takes it ("reset"); or whose second step raises its own TimeoutError ("raise")."""

    delay_s, how, closed = 0.0, "yield", 0

    async def areset(self, *, seed=None, options=None):
        if self.how == "reset":
            await asyncio.sleep(self.delay_s)
        return await super().areset(seed=seed, options=options)

    async def astep(self, action):
        if self.turn >= 1 and self.how == "raise":
            raise TimeoutError("the booking backend did not answer")
        if self.turn >= 1 and self.how == "yield":
            await asyncio.sleep(self.delay_s)
        elif self.turn >= 1 and self.how == "block":
            time.sleep(self.delay_s)
        return await super().astep(action)

    def step(self, action):
        if self.turn >= 1 and self.how == "thread":
            time.sleep(self.delay_s)
        return super().step(action)

    def close(self):
        type(self).closed += 1
        super().close()


gym.register("llmgym-test/SlowTripBooking-v0", entry_point=SlowTripBooking)


@pytest.fixture(scope="module")
def tokenizer():
    try:
        importlib.metadata.distribution(models.GGUF_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        pytest.skip(f"default model needs `{models.INSTALL_HINT}`")
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(models.resolve_model("default"))


@pytest.fixture(scope="module")
def test_tasks():
    env = gym.make(ENV_ID)
    ids = env.unwrapped.task_ids("test")[:6]
    env.close()
    return [({"task_id": task_id}, i) for i, task_id in enumerate(ids)]


async def test_expert_episodes_score_one_with_faithful_tokens(tokenizer, test_tasks):
    engine = ExpertEngine(ENV_ID, tokenizer, test_tasks)
    collector = RolloutCollector(engine, tokenizer, RolloutConfig(concurrency=4))
    specs = [EpisodeSpec(ENV_ID, seed, options) for options, seed in test_tasks]
    trajectories = await collector.collect(specs)
    assert [t.task_id for t in trajectories] == [o["task_id"] for o, _ in test_tasks]
    for trajectory in trajectories:
        assert trajectory.ok and trajectory.reward == 1.0
        assert trajectory.termination_reason == "submitted"
        assert trajectory.reward_components and trajectory.env_version.startswith("v0")
        for turn in trajectory.turns:
            sampled = trajectory.tokens[turn.completion_start : turn.completion_end]
            assert trajectory.loss_mask[turn.completion_start : turn.completion_end] == [1] * len(
                sampled
            )
            assert tokenizer.decode(sampled).startswith("<tool_call>")
        assert trajectory.num_sampled_tokens == sum(
            t.completion_end - t.completion_start for t in trajectory.turns
        )
        assert len([m for m in trajectory.messages if m["role"] == "assistant"]) == len(
            trajectory.turns
        )


async def test_groups_share_task_and_seed_and_stream_whole(tokenizer, test_tasks):
    tasks = test_tasks[:3]
    engine = ExpertEngine(ENV_ID, tokenizer, tasks, latency_s=0.01)
    collector = RolloutCollector(engine, tokenizer, RolloutConfig(concurrency=8))
    groups = [g async for g in collector.stream_groups(group_specs(ENV_ID, tasks, group_size=4))]
    assert len(groups) == 3
    for group in groups:
        assert len(group) == 4
        assert len({(t.group_id, t.task_id, t.seed) for t in group}) == 1
        assert [t.metadata["index"] for t in group] == [0, 1, 2, 3]
        assert all(t.reward == 1.0 for t in group)


async def test_failures_are_recorded_and_never_lose_the_batch(tokenizer, test_tasks):
    tasks = test_tasks[:2]
    engine = ExpertEngine(ENV_ID, tokenizer, tasks)  # its shadow envs do not crash
    collector = RolloutCollector(engine, tokenizer, RolloutConfig(concurrency=2))
    crashed = await collector.collect(
        [EpisodeSpec("llmgym-test/CrashingTripBooking-v0", s, o) for o, s in tasks]
    )
    for trajectory in crashed:
        assert trajectory.termination_reason == "error"
        assert "simulated environment crash" in trajectory.error
        assert trajectory.num_turns == 3 and trajectory.reward == 0.0

    class FlakyEngine(ExpertEngine):
        async def generate(self, prompt_token_ids, params):
            if self.requests == 1:
                self.requests += 1
                raise ConnectionError("engine went away")
            return await super().generate(prompt_token_ids, params)

    specs = [EpisodeSpec(ENV_ID, s, o) for o, s in test_tasks[:3]]
    flaky = FlakyEngine(ENV_ID, tokenizer, test_tasks[:3])
    results = await RolloutCollector(flaky, tokenizer, RolloutConfig(concurrency=1)).collect(specs)
    assert [t.error is None for t in results].count(False) == 1
    assert "ConnectionError: engine went away" in next(t.error for t in results if t.error)
    assert [t.reward for t in results if t.ok] == [1.0, 1.0]


async def test_episode_timeout_is_recorded(tokenizer, test_tasks):
    engine = ExpertEngine(ENV_ID, tokenizer, test_tasks[:2], latency_s=0.3)
    config = RolloutConfig(concurrency=2, episode_timeout_s=0.5)
    started = time.perf_counter()
    results = await RolloutCollector(engine, tokenizer, config).collect(
        [EpisodeSpec(ENV_ID, s, o) for o, s in test_tasks[:2]]
    )
    assert time.perf_counter() - started < 5
    for trajectory in results:
        assert trajectory.termination_reason == "timeout" and "0.5 s" in trajectory.error
        assert trajectory.num_turns == 1  # the second request was cut off


async def test_a_slow_engine_does_not_time_out_episodes_by_default(tokenizer, test_tasks):
    """Waiting for a shared engine is not the episode's fault: by default only environment
    time is limited, so an engine slower than the environment budget fails nothing."""
    # 4 turns of 0.4 s of generation (1.6 s) each, against 1 s of environment time (its
    # steps take milliseconds: the margin is for a loaded machine)
    engine = ExpertEngine(ENV_ID, tokenizer, test_tasks[:2], latency_s=0.4)
    config = RolloutConfig(concurrency=2, env_timeout_s=1.0)
    assert RolloutConfig().episode_timeout_s is None
    results = await RolloutCollector(engine, tokenizer, config).collect(
        [EpisodeSpec(ENV_ID, s, o) for o, s in test_tasks[:2]]
    )
    assert [(t.error, t.reward) for t in results] == [(None, 1.0), (None, 1.0)]


@pytest.mark.parametrize("how", ["yield", "block", "thread"])
async def test_an_environment_past_its_time_budget_ends_the_episode(
    tokenizer, test_tasks, monkeypatch, how
):
    """Slow steps add up against ``env_timeout_s`` (reset and steps in all): a step that
    yields or runs in a worker thread is cut off at the budget; one that blocks the event
    loop cannot be, and is caught when it returns. The episode is recorded as timed out."""
    monkeypatch.setattr(SlowTripBooking, "delay_s", 0.4)
    monkeypatch.setattr(SlowTripBooking, "how", how)
    monkeypatch.setattr(SlowTripBooking, "closed", 0)
    slow_id = "llmgym-test/SlowTripBooking-v0"
    engine = ExpertEngine(ENV_ID, tokenizer, test_tasks[:1])
    config = RolloutConfig(env_timeout_s=0.6, env_in_thread=how == "thread")
    started = time.perf_counter()
    [trajectory] = await RolloutCollector(engine, tokenizer, config).collect(
        [EpisodeSpec(slow_id, s, o) for o, s in test_tasks[:1]]
    )
    assert trajectory.termination_reason == "timeout"
    assert "environment calls exceeded 0.6 s" in trajectory.error
    # the expert needs 4 turns; steps 2-4 are slow, and step 3 (0.8 s in all) is past 0.6 s
    assert trajectory.num_turns == 3 and trajectory.reward == 0.0
    assert time.perf_counter() - started < 3
    # a step still running in its worker thread keeps its env: closing it would race
    assert SlowTripBooking.closed == (0 if how == "thread" else 1)


async def test_reset_counts_against_the_budget_and_an_envs_own_timeout_is_a_crash(
    tokenizer, test_tasks, monkeypatch
):
    slow_id = "llmgym-test/SlowTripBooking-v0"
    spec = [EpisodeSpec(slow_id, s, o) for o, s in test_tasks[:1]]
    monkeypatch.setattr(SlowTripBooking, "delay_s", 0.4)
    monkeypatch.setattr(SlowTripBooking, "how", "reset")
    engine = ExpertEngine(ENV_ID, tokenizer, test_tasks[:1])
    config = RolloutConfig(env_timeout_s=0.3)
    [trajectory] = await RolloutCollector(engine, tokenizer, config).collect(spec)
    assert trajectory.termination_reason == "timeout" and trajectory.num_turns == 0
    monkeypatch.setattr(SlowTripBooking, "how", "raise")
    for limit in (600.0, None):  # not mistaken for the budget, with or without one
        engine = ExpertEngine(ENV_ID, tokenizer, test_tasks[:1])
        config = RolloutConfig(env_timeout_s=limit)
        [trajectory] = await RolloutCollector(engine, tokenizer, config).collect(spec)
        assert trajectory.termination_reason == "error"
        assert trajectory.error == "TimeoutError: the booking backend did not answer"


async def test_concurrency_bound_overlaps_engine_waits(tokenizer, test_tasks):
    engine = ExpertEngine(ENV_ID, tokenizer, test_tasks, latency_s=0.05)
    specs = [EpisodeSpec(ENV_ID, s, o) for o, s in test_tasks]
    in_flight, peak = 0, 0
    original = engine.generate

    async def counting(prompt, params):
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        try:
            return await original(prompt, params)
        finally:
            in_flight -= 1

    engine.generate = counting
    await RolloutCollector(engine, tokenizer, RolloutConfig(concurrency=3)).collect(specs)
    assert peak == 3


async def test_context_limit_truncates_and_jsonl_round_trips(tokenizer, test_tasks, tmp_path):
    engine = ExpertEngine(ENV_ID, tokenizer, test_tasks[:1])
    config = RolloutConfig(max_context_tokens=1500, sampling=SamplingParams(max_tokens=64))
    collector = RolloutCollector(engine, tokenizer, config)
    [trajectory] = await collector.collect([EpisodeSpec(ENV_ID, 0, test_tasks[0][0])])
    assert trajectory.truncated and trajectory.termination_reason == "context_limit"
    assert trajectory.error is None
    write_jsonl(tmp_path / "t.jsonl", [trajectory])
    assert read_jsonl(tmp_path / "t.jsonl") == [trajectory]


async def test_stopping_the_stream_early_cancels_running_episodes(tokenizer, test_tasks):
    engine = ExpertEngine(ENV_ID, tokenizer, test_tasks, latency_s=0.05)
    collector = RolloutCollector(engine, tokenizer, RolloutConfig(concurrency=6))
    specs = [EpisodeSpec(ENV_ID, s, o) for o, s in test_tasks]
    async with contextlib.aclosing(collector.stream(specs)) as stream:
        async for _ in stream:
            break
    requests = engine.requests
    await asyncio.sleep(0.2)
    assert engine.requests == requests


@pytest.mark.parametrize("env_in_thread", [False, True])
async def test_wrappers_of_the_registered_env_apply_on_both_paths(
    tokenizer, test_tasks, env_in_thread
):
    """``max_episode_steps`` (a TimeLimit from gym.make) truncates the episode whether the
    collector awaits the env's ``astep`` or runs ``step`` in a thread. Before, the async
    path stepped ``env.unwrapped`` and the limit never applied (the expert submitted)."""
    kwargs = {"max_episode_steps": 2}
    engine = ExpertEngine(ENV_ID, tokenizer, test_tasks[:2], env_kwargs=kwargs)
    config = RolloutConfig(concurrency=2, env_in_thread=env_in_thread, env_kwargs=kwargs)
    specs = [EpisodeSpec(ENV_ID, seed, options) for options, seed in test_tasks[:2]]
    for trajectory in await RolloutCollector(engine, tokenizer, config).collect(specs):
        assert trajectory.ok, trajectory.error
        assert len(trajectory.turns) == 2 and trajectory.truncated
        assert trajectory.termination_reason == "max_episode_steps"
        assert trajectory.reward == 0.0


async def test_an_action_wrapper_is_refused_on_the_async_path():
    """A wrapper that rewrites actions cannot run after the env already stepped on the
    action as given: the async path refuses it by name (``env_in_thread`` runs it)."""
    from llmgym import stepping

    class Shout(gym.ActionWrapper):
        def action(self, action):
            return action.upper()

    env = Shout(gym.make(ENV_ID))
    with pytest.raises(TypeError, match="Shout changes the action"):
        await stepping.areset(env, options={"task_id": "test-0000"})
    env.close()
