"""The LLMEnv base class, exercised through a real bundled environment (TripBooking)."""

import asyncio

import gymnasium as gym
import pytest

import llmgym  # noqa: F401
from llmgym.parsing import format_tool_call

ENV_ID = "llmgym/TripBooking-v0"


@pytest.fixture
def env():
    with gym.make(ENV_ID).unwrapped as e:
        yield e


def test_issue_example_runs():
    env = gym.make(ENV_ID)
    obs, info = env.reset(seed=0)
    assert [m["role"] for m in obs] == ["system", "user"]
    assert {t["function"]["name"] for t in info["tools"]} >= {"search_flights", "submit"}
    obs, reward, terminated, truncated, info = env.step(
        '<tool_call>{"name": "search_flights", "arguments": {"origin": "BOS", "destination": "ORD", "date": "2026-12-03"}}</tool_call>'
    )
    assert obs[0]["role"] == "tool" and obs[0]["name"] == "search_flights"
    assert (reward, terminated, truncated) == (0.0, False, False)
    assert info["invalid_action"] is False and info["termination_reason"] is None
    env.close()


def test_make_with_module_prefix_in_a_fresh_interpreter():
    import subprocess
    import sys

    code = (
        "import gymnasium as gym, sys\n"
        "env = gym.make('llmgym:llmgym/TripBooking-v0')\n"
        "obs, info = env.reset(seed=1)\n"
        "assert 'torch' not in sys.modules and 'vllm' not in sys.modules\n"
        "print(info['task_id'])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("train-")


def test_several_calls_per_turn_and_openai_dicts(env):
    env.reset(seed=3, options={"difficulty": "easy"})
    obs, *_, info = env.step(
        format_tool_call("get_profile") + format_tool_call("list_reservations")
    )
    assert [m["name"] for m in obs] == ["get_profile", "list_reservations"]
    message = {
        "role": "assistant",
        "content": "",
        "tool_calls": [
            {
                "id": "abc",
                "type": "function",
                "function": {"name": "get_profile", "arguments": "{}"},
            }
        ],
    }
    obs, *_, info = env.step(message)
    assert obs[0]["tool_call_id"] == "abc" and not info["invalid_action"]


def test_invalid_calls_do_not_stop_valid_ones(env):
    env.reset(seed=3)
    obs, reward, terminated, truncated, info = env.step(
        format_tool_call("nope") + format_tool_call("get_profile")
    )
    assert info["invalid_action"] and "unknown tool 'nope'" in obs[0]["content"]
    assert obs[1]["name"] == "get_profile" and obs[1]["content"].startswith("{")


def test_domain_errors_are_valid_turns(env):
    env.reset(seed=3)
    obs, *_, info = env.step(format_tool_call("cancel_reservation", reservation_id="R0000"))
    assert obs[0]["content"].startswith("Error: unknown reservation") and not info["invalid_action"]


def test_max_turns_truncates_with_a_reason():
    env = gym.make(ENV_ID, max_turns=2).unwrapped
    env.reset(seed=0)
    assert env.step(format_tool_call("get_profile"))[3] is False
    _, reward, terminated, truncated, info = env.step(format_tool_call("get_profile"))
    assert (reward, terminated, truncated, info["termination_reason"]) == (
        0.0,
        False,
        True,
        "max_turns",
    )
    with pytest.raises(RuntimeError, match="call reset"):
        env.step(format_tool_call("get_profile"))


def test_wall_clock_budget():
    env = gym.make(ENV_ID, max_episode_seconds=0.0).unwrapped
    env.reset(seed=0)
    *_, truncated, info = env.step(format_tool_call("get_profile"))
    assert truncated and info["termination_reason"] == "time_limit"


def test_long_actions_are_rejected_unread():
    env = gym.make(ENV_ID, max_action_chars=100).unwrapped
    env.reset(seed=0)
    obs, reward, *_, info = env.step(format_tool_call("submit") + " " * 200)
    assert info["invalid_action"] and "limit is 100" in obs[0]["content"] and reward == 0.0
    assert not env.submitted


def test_too_many_calls_in_one_turn():
    env = gym.make(ENV_ID, max_tool_calls=2).unwrapped
    env.reset(seed=0)
    obs, *_, info = env.step(format_tool_call("get_profile") * 3)
    assert info["invalid_action"] and "at most 2 tool calls" in obs[2]["content"]


def test_calls_after_submit_are_ignored(env):
    env.reset(seed=0)
    obs, reward, terminated, *_ = env.step(
        format_tool_call("submit") + format_tool_call("get_profile")
    )
    assert terminated and "already submitted" in obs[1]["content"]


def test_long_tool_output_is_cut_with_a_note():
    env = gym.make(ENV_ID, max_observation_chars=50).unwrapped
    env.reset(seed=0)
    obs, *_ = env.step(format_tool_call("get_profile"))
    assert "[... output cut:" in obs[0]["content"]


def test_reset_options_are_checked(env):
    with pytest.raises(ValueError, match="unknown reset option"):
        env.reset(options={"level": 1})
    with pytest.raises(ValueError, match="unknown task_id"):
        env.reset(options={"task_id": "test-9999"})
    with pytest.raises(ValueError, match="difficulty must be one of"):
        env.reset(options={"difficulty": "extreme"})
    with pytest.raises(ValueError, match="difficulty must be one of"):
        gym.make(ENV_ID, difficulty="extreme")


def test_train_task_ids_replay(env):
    _, info = env.reset(seed=11, options={"difficulty": "medium"})
    spec = env.task.spec
    env.reset(options={"task_id": info["task_id"]})
    assert env.task.spec == spec


def test_test_split_selection(env):
    _, info = env.reset(seed=5, options={"split": "test", "difficulty": "hard"})
    assert (
        info["split"] == "test"
        and info["difficulty"] == "hard"
        and info["task_id"].startswith("test-")
    )


def test_sync_step_inside_a_running_loop_is_fine(env):
    async def inside():
        env.reset(seed=1)
        return env.step(format_tool_call("get_profile"))

    assert asyncio.run(inside())[0][0]["name"] == "get_profile"


def test_render_ansi():
    env = gym.make(ENV_ID, render_mode="ansi")
    env.reset(seed=0)
    assert "[user]" in env.render()


def test_sync_steps_of_an_async_env_share_one_loop_thread():
    """An env with async hooks runs its sync steps on one private loop thread, made once:
    the same thread for every step, whether called from plain code or from inside a running
    loop (before, each call inside a loop built a thread and an event loop), and it goes
    with ``close()``."""
    import threading

    from llmgym.environments.trip_booking.env import TripBookingEnv

    threads: list[str] = []

    class AsyncVerify(TripBookingEnv):
        async def verify(self):
            threads.append(threading.current_thread().name)
            return super().verify()

    env = AsyncVerify()
    before = threading.active_count()

    def episode():
        env.reset(seed=0)
        for _ in range(3):
            env.step(format_tool_call("get_profile"))
        env.step(format_tool_call("submit"))

    async def inside():
        episode()

    episode()
    asyncio.run(inside())
    episode()
    assert threads == ["llmgym-env-loop"] * 3
    assert threading.active_count() <= before + 1
    env.close()
    assert threading.active_count() <= before
