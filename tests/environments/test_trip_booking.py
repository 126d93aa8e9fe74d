"""TripBooking-v0: generator invariants, the verifier, the scripted traveller, cheats and traps."""

import json

import gymnasium as gym
import pytest

import llmgym  # noqa: F401
from llmgym.checks import play_episode
from llmgym.environments.trip_booking.cheats import CHEATS
from llmgym.environments.trip_booking.generator import generate_trip_task
from llmgym.environments.trip_booking.goals import flight_fits, hotel_fits
from llmgym.environments.trip_booking.spec import TripSpec
from llmgym.environments.trip_booking.world import Flight, Hotel
from llmgym.parsing import format_tool_call
from llmgym.tasks import InvalidTaskSpec


@pytest.fixture(scope="module")
def env():
    e = gym.make("llmgym/TripBooking-v0").unwrapped
    yield e
    e.close()


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
        "money": 1.0,
        "inventory": 1.0,
        "asked_what_was_missing": 1.0,
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


def test_booking_then_cancelling_what_nobody_asked_for_earns_nothing(env):
    """Cancelling an extra booking does not undo it: the charge and the refund both happened."""
    env.reset(options={"task_id": "test-0001"})
    memory = {}
    for _ in range(4):
        env.step(CHEATS["book_everything"](env, memory))
    for _ in range(env.max_turns - 4):
        *_, reward, terminated, truncated, info = env.step(env.expert_action())
        if terminated or truncated:
            break
    assert reward == 0.0 and info["reward_components"]["no_extra_bookings"] == 0.0


# --- money, inventory and the canonical state ----------------------------------------------
def _tool(env, name, **arguments):
    obs, *_ = env.step(format_tool_call(name, **arguments))
    text = obs[-1]["content"]
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _task_with(env, predicate):
    return next(t for t in env.split_tasks("test") if predicate(t.spec))


def test_cancelling_a_voucher_paid_booking_credits_the_voucher(env):
    task = _task_with(
        env,
        lambda s: any(
            p["kind"] == "travel_voucher"
            and p["balance"] >= min(f["fares"]["economy"] for f in s["db"]["flights"])
            for p in s["db"]["payments"]
        ),
    )
    env.reset(options={"task_id": task.task_id})
    voucher = next(p for p in env.world.payments.values() if p.kind == "travel_voucher")
    flight = min(env.world.flights.values(), key=lambda f: f.fares["economy"])
    seats = flight.seats["economy"]
    res = _tool(
        env,
        "book_flight",
        flight_id=flight.flight_id,
        cabin="economy",
        passengers=[env.world.customer["name"]],
        payment_id=voucher.payment_id,
    )
    price = flight.fares["economy"]
    assert env.world.payments[voucher.payment_id].balance == voucher.balance - price
    assert env.world.flights[flight.flight_id].seats["economy"] == seats - 1
    text = _tool(env, "cancel_reservation", reservation_id=res["reservation_id"])
    assert f"${price} refunded to {voucher.payment_id}" in text
    assert env.world.payments[voucher.payment_id].balance == voucher.balance
    assert env.world.flights[flight.flight_id].seats["economy"] == seats
    state = env.canonical_state()
    assert state["new_reservations"][0]["ledger"] == [
        {"payment_id": voucher.payment_id, "reason": "booking", "amount": price},
        {"payment_id": voucher.payment_id, "reason": "refund", "amount": -price},
    ]
    assert state["payments"][voucher.payment_id]["net_charged"] == 0


def test_change_flight_charges_the_fare_difference(env):
    task = _task_with(env, lambda s: bool(s["goal"]["changes"]))
    env.reset(options={"task_id": task.task_id})
    res = env.world.reservations["R7002"]
    old_price, old_flight = res.total_price, res.item_id
    target = next(
        f
        for f in env.world.flights.values()
        if f.flight_id != old_flight
        and (f.origin, f.destination)
        == (env.world.flights[old_flight].origin, env.world.flights[old_flight].destination)
        and f.seats[res.cabin] >= len(res.passengers)
    )
    moved = _tool(env, "change_flight", reservation_id="R7002", new_flight_id=target.flight_id)
    difference = target.fares[res.cabin] * len(res.passengers) - old_price
    assert moved["fare_difference_charged"] == difference
    assert env.canonical_state()["moved_reservations"]["R7002"]["ledger"] == [
        {"payment_id": res.payment_id, "reason": "fare_difference", "amount": difference}
    ]
    again = _tool(env, "change_flight", reservation_id="R7002", new_flight_id=target.flight_id)
    assert again.startswith("Error") and "already on" in again


def test_cancelling_a_hotel_gives_the_room_back(env):
    task = _task_with(env, lambda s: bool(s["goal"]["cancel"]))
    env.reset(options={"task_id": task.task_id})
    hotel = env.world.reservations["H7003"].item_id
    rooms = env.world.hotels[hotel].rooms_available
    _tool(env, "cancel_reservation", reservation_id="H7003")
    assert env.world.hotels[hotel].rooms_available == rooms + 1


def test_canonical_state_does_not_depend_on_the_order_of_bookings(env):
    """Two valid orders of calls give different generated ids but one canonical state."""
    task = next(t for t in env.split_tasks("test") if t.difficulty == "medium")
    env.reset(options={"task_id": task.task_id})
    actions = []
    while '"submit"' not in (action := env.expert_action()):
        actions.append(action)
        env.step(action)
    expert_state = env.canonical_state()
    bookings = [a for a in actions if '"book_' in a]
    reordered = [a for a in actions if a not in bookings] + bookings[::-1]
    env.reset(options={"task_id": task.task_id})
    for action in reordered:
        env.step(action)
    assert set(env.world.reservations) != set() and env.canonical_state() == expert_state
    *_, reward, _, _, _ = env.step(format_tool_call("submit"))
    assert reward == 1.0


def test_state_equivalences_cover_another_fitting_flight(env):
    """Booking another flight that fits earns 1.0; the states differ only where declared."""
    from fnmatch import fnmatch

    from llmgym.environments.trip_booking.goals import flight_fits

    for task in env.split_tasks("test"):
        slot = task.spec["goal"]["flights"][0] if task.spec["goal"]["flights"] else None
        if slot is None:
            continue
        fitting = [
            f["flight_id"]
            for f in task.spec["db"]["flights"]
            if flight_fits(Flight(**f), slot)
            and f["seats"][slot["cabin"]] >= len(slot["passengers"])
        ]
        if len(fitting) > 1:
            break
    env.reset(options={"task_id": task.task_id})
    actions = []
    while '"submit"' not in (action := env.expert_action()):
        actions.append(action)
        env.step(action)
    expert = _flatten(env.canonical_state())
    chosen = next(f for f in fitting if f'"{f}"' in " ".join(actions))
    other = next(f for f in fitting if f != chosen)
    env.reset(options={"task_id": task.task_id})
    for action in actions:
        env.step(action.replace(f'"{chosen}"', f'"{other}"'))
    *_, reward, _, _, info = env.step(format_tool_call("submit"))
    assert reward == 1.0, info["verdict"]
    mutant = _flatten(env.canonical_state())
    differ = {k for k in expert.keys() | mutant.keys() if expert.get(k) != mutant.get(k)}
    assert differ
    assert all(any(fnmatch(k, p) for p in env.state_equivalences) for k in differ), differ


def _flatten(value, prefix=""):
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return {prefix: value}
    out = {}
    for key, item in items:
        out.update(_flatten(item, f"{prefix}/{key}" if prefix else str(key)))
    return out


# --- the typed task spec ---------------------------------------------------------------------
def test_every_test_task_and_many_train_tasks_are_trip_specs(env):
    tasks = [*env.split_tasks("test")]
    tasks += [env.make_train_task(seed, d) for d in env.difficulties for seed in range(100)]
    for task in tasks:
        spec = TripSpec.of(task)
        assert json.loads(spec.model_dump_json()) == task.spec, task.task_id  # nothing left out
    assert len(tasks) == len(env.task_ids("test")) + 300


@pytest.mark.parametrize("task_id", ["test-0002", "train-medium-7"])
def test_reset_keeps_the_typed_spec_of_the_task(env, task_id):
    env.reset(options={"task_id": task_id})
    assert isinstance(env.task_spec, TripSpec)
    assert env.task_spec == TripSpec.of(env.task)
    assert env.task_spec.request == env.task.spec["request"]


def _spoil_fare(spec):
    spec["db"]["flights"][0]["fares"]["economy"] = "300"


def _spoil_cabin(spec):
    spec["goal"]["flights"][0]["cabin"] = "first"


def _add_a_key(spec):
    spec["goal"]["flights"][0]["seat"] = "aisle"


def _drop_a_key(spec):
    del spec["db"]["customer"]["loyalty_tier"]


@pytest.mark.parametrize(
    ("spoil", "field"),
    [
        (_spoil_fare, "db.flights.0.fares.economy"),
        (_spoil_cabin, "goal.flights.0.cabin"),
        (_add_a_key, "goal.flights.0.seat"),
        (_drop_a_key, "db.customer.loyalty_tier"),
    ],
)
def test_a_spec_of_the_wrong_shape_fails_reset_and_keeps_the_episode(spoil, field):
    env = gym.make("llmgym/TripBooking-v0").unwrapped
    try:
        env.reset(options={"task_id": "test-0000"})
        env.step(format_tool_call("get_profile"))
        task, task_spec, world = env.task, env.task_spec, env.world

        def spoiled(seed, difficulty):
            spec = generate_trip_task(seed, difficulty)
            spoil(spec)
            return spec

        env.generate_task = spoiled
        with pytest.raises(InvalidTaskSpec) as caught:
            env.reset(options={"task_id": "train-easy-3"})
        assert "'train-easy-3'" in str(caught.value) and field in str(caught.value)
        assert env.task is task and env.task_spec is task_spec and env.world is world
        *_, info = env.step(format_tool_call("list_reservations"))
        assert info["turn"] == 2 and not info["invalid_action"]
    finally:
        env.close()
