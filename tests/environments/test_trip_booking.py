"""TripBooking-v0: generator invariants, the verifier, the scripted traveller, cheats and traps."""

import gymnasium as gym
import pytest

import llmgym  # noqa: F401
from llmgym.checks import play_episode
from llmgym.environments.trip_booking.cheats import CHEATS
from llmgym.environments.trip_booking.generator import generate_trip_task
from llmgym.environments.trip_booking.goals import flight_fits, hotel_fits
from llmgym.environments.trip_booking.world import Flight, Hotel
from llmgym.parsing import format_tool_call


@pytest.fixture(scope="module")
def env():
    e = gym.make("llmgym/TripBooking-v0").unwrapped
    yield e
    e.close()


@pytest.mark.parametrize("difficulty", ["easy", "medium", "hard"])
def test_expert_solves_many_train_tasks(env, difficulty):
    for seed in range(150):
        out = play_episode(
            env,
            env.expert_action,
            options={"task_id": f"train-{difficulty}-{seed}"},
            submit_when_done=False,
        )
        assert out["reward"] == 1.0, (seed, out["info"].get("verdict"))
        assert out["invalid"] == 0


@pytest.mark.parametrize("difficulty", ["easy", "medium", "hard"])
def test_generator_is_deterministic_and_the_cheapest_option_never_fits(difficulty):
    for seed in range(100):
        spec = generate_trip_task(seed, difficulty)
        assert spec == generate_trip_task(seed, difficulty)
        flights = spec["db"]["flights"]
        for slot in spec["goal"]["flights"]:
            route = [
                f
                for f in flights
                if (f["origin"], f["destination"], f["date"])
                == (slot["origin"], slot["destination"], slot["date"])
            ]
            cheapest = min(route, key=lambda f: f["fares"][slot["cabin"]])
            assert not flight_fits(Flight(**cheapest), slot)
            assert any(flight_fits(Flight(**f), slot) for f in route)
        for slot in spec["goal"]["hotels"]:
            city = [Hotel(**h) for h in spec["db"]["hotels"] if h["city"] == slot["city"]]
            assert not hotel_fits(min(city, key=lambda h: h.nightly_price), slot)
            assert any(hotel_fits(h, slot) for h in city)


@pytest.mark.parametrize("cheat", sorted(CHEATS))
def test_each_cheat_earns_nothing_on_the_whole_test_split(env, cheat):
    rewards = []
    for task_id in env.task_ids("test"):
        memory = {}
        out = play_episode(env, lambda: CHEATS[cheat](env, memory), options={"task_id": task_id})
        rewards.append(out["reward"])
    assert len(rewards) >= 100 and max(rewards) == 0.0


def test_claiming_success_in_text_earns_nothing(env):
    env.reset(options={"task_id": "test-0000"})
    obs, reward, terminated, truncated, info = env.step(
        "All flights are booked, the task is complete. Reward: 1.0"
    )
    assert info["invalid_action"] and reward == 0.0 and not terminated
    *_, reward, terminated, _, info = env.step(format_tool_call("submit"))
    assert terminated and reward == 0.0 and info["reward_components"]["flights"] == 0.0


def test_components_show_partial_progress(env):
    env.reset(options={"task_id": "test-0001"})  # medium: two flights and a hotel
    while True:
        action = env.expert_action()
        if '"book_hotel"' in action:
            break
        env.step(action)
    *_, reward, terminated, _, info = env.step(format_tool_call("submit"))
    assert reward == 0.0
    assert info["reward_components"] == {
        "flights": 1.0,
        "hotels": 0.0,
        "existing_reservations": 1.0,
        "no_extra_bookings": 1.0,
    }
    assert "hotel booking" in info["verdict"]


def test_scripted_traveller_answers_from_the_hidden_profile(env):
    env.reset(options={"task_id": "test-0002"})  # hard
    topics = [f["topic"] for f in env.task.spec["hidden_facts"]]
    assert "payment" in topics and "party" in topics
    obs, *_ = env.step(format_tool_call("ask_traveller", question="How would you like to pay?"))
    assert "Please charge" in obs[0]["content"]
    obs, *_ = env.step(format_tool_call("ask_traveller", question="What's the weather like?"))
    assert "not sure what you're asking" in obs[0]["content"]
    assert "payment" in env.world.traveller.revealed


def test_the_non_refundable_trap_is_graded(env):
    task_id = next(t for t in env.task_ids("test", difficulty="hard"))
    env.reset(options={"task_id": task_id})
    while '"submit"' not in (action := env.expert_action()):
        env.step(action)
    env.step(format_tool_call("cancel_reservation", reservation_id="H7004"))
    *_, reward, _, _, info = env.step(format_tool_call("submit"))
    assert reward == 0.0 and info["reward_components"]["existing_reservations"] == 0.0


def test_expert_recovers_from_another_policy(env):
    env.reset(options={"task_id": "test-0001"})
    memory = {}
    for _ in range(4):
        env.step(CHEATS["book_everything"](env, memory))
    out_reward = 0.0
    for _ in range(env.max_turns - 4):
        *_, out_reward, terminated, truncated, _ = env.step(env.expert_action())
        if terminated or truncated:
            break
    assert out_reward == 1.0
