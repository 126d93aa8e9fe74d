"""The environment contract (``llmgym check``), run over every registered id."""

import copy
import pickle

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import data_equivalence

import llmgym
from llmgym.checks import run_checks

# BugFix runs real sandboxed pytest per step: its full test split belongs to the slow run.
HEAVY = {"llmgym/BugFix-v0"}


@pytest.mark.parametrize("env_id", sorted(i for i in llmgym.registered() if i not in HEAVY))
def test_contract(env_id):
    failures = [
        f"{r.name}: {r.detail}\n  what to do: {r.hint}" for r in run_checks(env_id) if not r.passed
    ]
    assert not failures, "\n".join(failures)


@pytest.mark.slow
@pytest.mark.parametrize("env_id", sorted(i for i in llmgym.registered() if i in HEAVY))
def test_contract_heavy(env_id):
    failures = [
        f"{r.name}: {r.detail}\n  what to do: {r.hint}" for r in run_checks(env_id) if not r.passed
    ]
    assert not failures, "\n".join(failures)


# --- Gymnasium's generic expectations: pickle, deepcopy, vectorisation, wrappers ------------
# Gymnasium's own tests/envs/test_envs.py::test_pickle_env makes each env, pickles it, and
# steps both copies with the same action; here with a seeded reset (so both copies play the
# same task) and mid-episode too, with the result compared (upstream only computes it).


def _continue_identically(env, twin, steps: int) -> None:
    for _ in range(steps):
        action = env.unwrapped.expert_action()
        result, twin_result = env.step(action), twin.step(action)
        assert data_equivalence(result, twin_result), (action, result, twin_result)
        if result[2] or result[3]:
            break


@pytest.mark.parametrize("env_id", sorted(llmgym.registered()))
def test_pickle_env(env_id):
    env = gym.make(env_id)
    pickled = pickle.loads(pickle.dumps(env))  # before reset, as upstream
    assert data_equivalence(env.reset(seed=0), pickled.reset(seed=0))
    action = env.action_space.sample()
    assert data_equivalence(env.step(action), pickled.step(action))
    pickled.close()

    env.reset(seed=1)  # after reset, then mid-episode
    for depth in (0, 1):
        if depth:
            env.step(env.unwrapped.expert_action())
        twin = pickle.loads(pickle.dumps(env))
        assert data_equivalence(env.action_space.sample(), twin.action_space.sample())
        _continue_identically(env, twin, steps=2)
        twin.close()
        env.reset(seed=1)
    env.close()


@pytest.mark.parametrize("env_id", sorted(i for i in llmgym.registered() if i not in HEAVY))
def test_deepcopy_env_mid_episode(env_id):
    env = gym.make(env_id)
    env.reset(seed=2)
    env.step(env.unwrapped.expert_action())
    twin = copy.deepcopy(env)
    _continue_identically(env, twin, steps=3)
    env.close()
    twin.close()


def test_make_vec_async_with_default_arguments():
    envs = gym.make_vec("llmgym/TripBooking-v0", num_envs=2, vectorization_mode="async")
    try:
        obs, info = envs.reset(seed=0)
        assert len(obs) == 2 and all(o in envs.single_observation_space for o in obs)
        assert obs[0][1]["content"] != obs[1][1]["content"]  # two tasks, read back per env
        for action in ('<tool_call>{"name": "get_profile", "arguments": {}}</tool_call>', "hi"):
            obs, reward, terminated, truncated, info = envs.step([action, action])
            assert all(o in envs.single_observation_space for o in obs)
            assert reward.tolist() == [0.0, 0.0] and not terminated.any()
        assert obs[0][0]["content"].startswith("[environment] Invalid action")
    finally:
        envs.close()


def test_frame_stack_with_reset_padding():
    env = gym.wrappers.FrameStackObservation(gym.make("llmgym/TripBooking-v0"), 3)
    obs, _ = env.reset(seed=0)  # padding_type="reset" is the default
    assert len(obs) == 3 and obs[0] == obs[2] and obs[2][0]["role"] == "system"
    obs, *_ = env.step('<tool_call>{"name": "get_profile", "arguments": {}}</tool_call>')
    assert obs[1][0]["role"] == "system" and obs[2][0]["role"] == "tool"
    zero = gym.wrappers.FrameStackObservation(
        gym.make("llmgym/TripBooking-v0"), 2, padding_type="zero"
    )
    obs, _ = zero.reset(seed=0)
    assert obs[0] == [] and obs[1][0]["role"] == "system"
    env.close()
    zero.close()
