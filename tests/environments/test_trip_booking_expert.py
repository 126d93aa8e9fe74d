"""TripBooking-v0's scripted expert: it solves tasks, finishes what another policy began, and
with ``expert_notes`` writes true notes without changing what it does, or what a copy earns."""

import json

import gymnasium as gym
import pytest

import llmgym  # noqa: F401
from llmgym.checks import play_episode
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


def test_expert_finishes_what_another_policy_began(env):
    env.reset(options={"task_id": "test-0001"})
    for _ in range(3):  # the profile, a question, a search: nothing that moves money
        env.step(env.expert_action())
    env.step(format_tool_call("list_reservations"))
    out_reward = 0.0
    for _ in range(env.max_turns - 4):
        *_, out_reward, terminated, truncated, _ = env.step(env.expert_action())
        if terminated or truncated:
            break
    assert out_reward == 1.0


def _note_parts(action):
    """(prose lines, the call's JSON) of an expert action with notes."""
    prose, call = action.split("<tool_call>")
    return prose.splitlines(), json.loads(call.removesuffix("</tool_call>"))


@pytest.mark.parametrize("difficulty", ["easy", "medium", "hard"])
def test_expert_notes_change_what_it_writes_not_what_it_does(env, difficulty):
    """With ``expert_notes`` the expert writes its check as prose before the calls; its calls,
    reward and end state are the plain expert's, and every note is true of the task: the first
    turn restates each requested flight's constraints, and before a booking or change the
    listed flights are exactly those that fit (and have seats), the pick is the one booked."""
    from llmgym.environments.trip_booking.expert import need_note
    from llmgym.environments.trip_booking.goals import flight_fits

    noted = gym.make("llmgym/TripBooking-v0", expert_notes=True).unwrapped
    checks = 0
    for seed in range(40):
        task = {"task_id": f"train-{difficulty}-{seed}"}
        plain = play_episode(env, env.expert_action, options=task, submit_when_done=False)
        assert plain["reward"] == 1.0
        noted.reset(options=task)
        goal = noted.task_spec.goal
        notes, call = _note_parts(noted.expert_action())
        assert call["name"] == "get_profile"
        assert notes[: len(goal.flights)] == [need_note(s) for s in goal.flights]
        for note, s in zip(notes, goal.flights, strict=False):  # says each constraint, no other
            assert ("nonstop" in note) == s.nonstop
            assert (f"arrive by {s.arrive_before}" in note) == (s.arrive_before is not None)
            assert (f"leave after {s.depart_after}" in note) == (s.depart_after is not None)
            assert (f"{s.cabin} at most ${s.max_price}" in note) == (s.max_price is not None)
        assert len(notes) == len(goal.flights) + len(goal.changes)
        while True:
            action = noted.expert_action()
            if "book_flight" in action or "change_flight" in action:
                checks += 1
                (note,), call = _note_parts(action)
                need, rest = note.split(" Fit: ")
                fits, pick = rest.removesuffix(".").split(". Cheapest: ")
                assert need in notes
                booked = call["arguments"].get("flight_id") or call["arguments"]["new_flight_id"]
                assert pick == booked
                flight = noted.world.flights[booked]
                route = (flight.origin, flight.destination, flight.date)
                slot = next((s for s in goal.flights if need_note(s) == need
                             and (s.origin, s.destination, s.date) == route), None)  # fmt: skip
                if call["name"] == "book_flight":
                    assert slot is not None, (need, route)
                    fitting = {f.flight_id for f in noted.world.flights.values()
                               if flight_fits(f, slot)
                               and f.seats[slot.cabin] >= len(slot.passengers)}  # fmt: skip
                    assert {item.split()[0] for item in fits.split(", ")} == fitting
            *_, reward, terminated, truncated, _ = noted.step(action)
            if terminated or truncated:
                break
        assert reward == 1.0
        assert noted.canonical_state() == env.canonical_state()
    noted.close()
    assert checks >= 40


def _prose(action):
    return action.split("<tool_call>")[0]


def _play_attack(env, task_id, turn):
    """Play ``turn(notes_expert_action) -> action`` on ``task_id``, then submit; the reward."""
    env.reset(options={"task_id": task_id})
    reward, done = 0.0, False
    for _ in range(env.max_turns - 1):
        *_, reward, terminated, truncated, _ = env.step(turn(env.expert_action()))
        if done := terminated or truncated:
            break
    if not done:
        *_, reward, _, _, _ = env.step(format_tool_call("submit"))
    return reward


def test_copying_the_expert_notes_without_its_calls_earns_nothing():
    """Attack: write the expert's notes (the constraints, the fitting flights, the pick) and
    never call a tool but submit. Prose is kept and never graded: 0 on every task."""
    env = gym.make("llmgym/TripBooking-v0", expert_notes=True).unwrapped
    try:
        for task_id in env.task_ids("test")[:20]:
            assert _play_attack(env, task_id, lambda action: _prose(action) or "ok") == 0.0
    finally:
        env.close()


def test_the_right_note_over_the_wrong_booking_earns_nothing():
    """Attack: follow the expert, but under its note that names the right flight book the
    cheapest listed flight of the route (the generator makes it never fit): 0 on every task
    that books a flight; the notes never stand in for the state."""
    env = gym.make("llmgym/TripBooking-v0", expert_notes=True).unwrapped

    def swap(action):
        if '"book_flight"' not in action:
            return action
        call = json.loads(action.split("<tool_call>")[1].removesuffix("</tool_call>"))
        booked = env.world.flights[call["arguments"]["flight_id"]]
        route = [f for f in env.world.flights.values()
                 if (f.origin, f.destination, f.date) == (booked.origin, booked.destination, booked.date)]  # fmt: skip
        cabin = call["arguments"]["cabin"]
        call["arguments"]["flight_id"] = min(route, key=lambda f: f.fares[cabin]).flight_id
        return _prose(action) + format_tool_call(call["name"], **call["arguments"])

    try:
        attacked = 0
        for task_id in env.task_ids("test")[:20]:
            env.reset(options={"task_id": task_id})
            if not env.task_spec.goal.flights:
                continue
            attacked += 1
            assert _play_attack(env, task_id, swap) == 0.0, task_id
        assert attacked >= 5
    finally:
        env.close()
