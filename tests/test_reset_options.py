"""``reset(seed=..., options=...)``: a wrong value is a clear TypeError/ValueError up front.

Each error names the argument, shows the value (shortened) and says what is accepted; a failed
reset leaves the running episode as it was.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import llmgym
from llmgym.parsing import format_tool_call
from llmgym.task_selection import TRAIN_SEED_LIMIT, short_repr

ENV_IDS = sorted(llmgym.registered())


@pytest.fixture(scope="module", params=ENV_IDS)
def env(request):
    environment = gym.make(request.param).unwrapped
    yield environment
    environment.close()


@pytest.mark.parametrize(
    ("options", "error", "words"),
    [
        ([1], TypeError, ["options", "must be a dict or None", "list", "'task_id'"]),
        ("task_id=test-0000", TypeError, ["must be a dict or None", "str"]),
        (5, TypeError, ["must be a dict or None", "int 5"]),
        ({"level": 1}, ValueError, ["unknown reset option", "'level'", "'split'"]),
        ({1: "x"}, ValueError, ["unknown reset option", "1"]),
        ({"task_id": 5}, TypeError, ["'task_id' must be a str", "int 5"]),
        ({"task_id": ["test-0000"]}, TypeError, ["'task_id' must be a str", "list"]),
        ({"task_id": "test-9999"}, ValueError, ["unknown task_id", "'test-9999'"]),
        ({"task_id": "train-easy-" + "9" * 5000}, ValueError, ["'task_id'", "5000 digits", "2**31"]),
        ({"task_id": "train-easy-" + str(2**31)}, ValueError, ["'task_id'", "out of range"]),
        ({"task_id": "train-extreme-3"}, ValueError, ["difficulty 'extreme'", "train-<difficulty>-<seed>"]),
        ({"task_id": "train-easy-٣"}, ValueError, ["not a train id"]),  # a non-ASCII digit
        ({"task_id": "train-easy--1"}, ValueError, ["not a train id"]),
        ({"split": "validation"}, ValueError, ["'split' must be 'train' or 'test'", "'validation'"]),
        ({"split": ["test"]}, TypeError, ["'split' must be 'train' or 'test'"]),
        ({"difficulty": "extreme"}, ValueError, ["difficulty must be one of", "'extreme'"]),
        ({"difficulty": ["easy"]}, TypeError, ["difficulty must be one of"]),
        ({"difficulty": 10**5000}, TypeError, ["difficulty must be one of", "5001 digits"]),
        ({"task_id": "train-easy-" + "0" * 5000 + "9" * 11}, ValueError, ["'task_id'", "out of range"]),
        # a task id names its split and difficulty: options that say otherwise are a mistake
        ({"task_id": "train-easy-1", "split": "test"}, ValueError, ["conflict", "'split'", "'test'", "'train'"]),
        ({"task_id": "train-easy-1", "difficulty": "hard"}, ValueError, ["conflict", "'difficulty'", "'hard'"]),
        ({"task_id": "test-0000", "split": "train"}, ValueError, ["conflict", "'split'"]),
    ],
)  # fmt: skip
def test_bad_options_are_clear_errors(env, options, error, words):
    with pytest.raises(error) as caught:
        env.reset(options=options)
    message = str(caught.value)
    assert all(w in message for w in words), message
    assert len(message) < 700, "the bad value must be shortened"


@pytest.mark.parametrize(
    ("seed", "error"),
    [(-1, ValueError), (1.5, TypeError), ("3", TypeError), (True, TypeError), ([1], TypeError)],
)
def test_bad_seeds_are_clear_errors(env, seed, error):
    with pytest.raises(error, match=r"reset\(seed=\.\.\.\) must be"):
        env.reset(seed=seed)


def test_numpy_and_huge_seeds_are_accepted_and_replay(env):
    for seed in (np.int64(7), 10**50):
        _, first = env.reset(seed=seed)
        _, again = env.reset(seed=int(seed))
        assert first["task_id"] == again["task_id"]


def test_accepted_option_forms_still_work(env):
    _, info = env.reset(options={"task_id": "train-easy-3"})
    assert info["task_id"] == "train-easy-3"
    _, info = env.reset(options={"task_id": f"train-hard-{TRAIN_SEED_LIMIT - 1}"})
    assert info["difficulty"] == "hard"
    test_id = env.task_ids("test")[0]
    _, info = env.reset(options={"task_id": test_id})
    assert info["task_id"] == test_id
    _, info = env.reset(seed=1, options={"split": "test", "difficulty": "medium"})
    assert info["split"] == "test" and info["difficulty"] == "medium"
    _, info = env.reset(seed=1, options={})
    assert info["split"] == "train"
    # leading zeros do not count against the seed's length (the code before this test let
    # int() see all 5,001 digits and raise Python's int-string limit error)
    _, info = env.reset(options={"task_id": "train-hard-" + "0" * 5000 + "1"})
    assert info["task_id"] == "train-hard-1"
    # options that agree with the task id are fine
    _, info = env.reset(options={"task_id": test_id, "split": "test"})
    assert info["task_id"] == test_id


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_a_failed_first_reset_under_gym_make_leaves_the_env_usable(env_id):
    """Gymnasium's PassiveEnvChecker counts a first reset that raised as checked; its next
    step then died on its own bookkeeping (TypeError) in the code before this test."""
    env = gym.make(env_id)
    with pytest.raises(ValueError):
        env.reset(options={"task_id": "no-such-task"})
    env.reset(options={"task_id": env.unwrapped.task_ids("test")[0]})
    obs, reward, terminated, truncated, info = env.step("no tool call here")
    assert info["invalid_action"] and obs in env.observation_space
    env.close()


def test_a_failed_reset_leaves_the_episode_running():
    env = gym.make("llmgym/TripBooking-v0").unwrapped
    _, info = env.reset(seed=0)
    with pytest.raises(ValueError):
        env.reset(options={"task_id": "train-easy-" + "9" * 5000})
    assert env.task.task_id == info["task_id"]
    obs, *_ = env.step(format_tool_call("get_profile"))
    assert obs[0]["role"] == "tool"
    env.close()


def test_short_repr_never_raises():
    class Hostile:
        def __repr__(self):
            raise RuntimeError("no")

    assert "digits" in short_repr(10**5000)
    assert short_repr(Hostile()) == "<Hostile object>"
    assert len(short_repr("x" * 10_000)) < 120


def test_hostile_option_objects_are_read_as_plain_data(env):
    """A dict or str subclass that overrides its methods is read through dict's and str's
    own: it cannot make reset raise its own exception (a fourth red team's finding)."""

    class Boom(RuntimeError):
        pass

    class HostileDict(dict):
        def get(self, *a):
            raise Boom

        def __iter__(self):
            raise Boom

        def keys(self):
            raise Boom

    class HostileStr(str):
        def __eq__(self, other):
            raise Boom

        def __hash__(self):
            return 0

        def startswith(self, *a):
            raise Boom

        def split(self, *a):
            raise Boom

    task_id = env.unwrapped.task_ids("test")[0]
    _, info = env.reset(options=HostileDict(task_id=task_id))
    assert info["task_id"] == task_id
    _, info = env.reset(options={"task_id": HostileStr(task_id), "split": HostileStr("test")})
    assert info["task_id"] == task_id

    class Unreadable(dict):
        def items(self):
            raise Boom

    import collections.abc

    class Opaque(collections.abc.Mapping):
        def __getitem__(self, key):
            raise Boom

        def __iter__(self):
            raise Boom

        def __len__(self):
            return 1

    for options in (Unreadable(task_id=task_id), Opaque()):
        try:
            env.reset(options=options)
        except (TypeError, ValueError) as exc:
            assert "reset(options=...)" in str(exc) or "reset option" in str(exc)
