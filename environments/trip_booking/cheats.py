"""Degenerate TripBooking policies that must earn nothing; ``llmgym check`` and the tests run them.

Each takes the unwrapped env and a per-episode memory dict and returns its next action, or
None when it is done. They peek at the database (a stronger adversary than a model); most
not at the request's constraints, and those that play the expert's bookings keep exactly
one thing wrong (when the traveller was asked).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llmgym.parsing import format_tool_call

if TYPE_CHECKING:
    from llmgym.environments.trip_booking.env import TripBookingEnv


def _first_new(memory: dict[str, Any], actions: list[str]) -> str | None:
    done = memory.setdefault("done", set())
    for action in actions:
        if action not in done:
            done.add(action)
            return action
    return None


def _party_and_payment(env: TripBookingEnv) -> tuple[list[str], str]:
    return [env.task_spec.db.customer.name], next(iter(env.world.payments))


def book_everything(env: TripBookingEnv, memory: dict[str, Any]) -> str | None:
    """Book every flight and hotel in the database."""
    party, payment = _party_and_payment(env)
    world = env.world
    actions = [
        format_tool_call(
            "book_flight", flight_id=f, cabin="economy", passengers=party, payment_id=payment
        )
        for f in world.flights
    ]
    actions += [
        format_tool_call(
            "book_hotel",
            hotel_id=h,
            check_in="2026-12-10",
            check_out="2026-12-12",
            guests=party,
            payment_id=payment,
        )
        for h in world.hotels
    ]
    return _first_new(memory, actions)


def cancel_everything(env: TripBookingEnv, memory: dict[str, Any]) -> str | None:
    """Cancel every reservation on file."""
    return _first_new(
        memory,
        [format_tool_call("cancel_reservation", reservation_id=r) for r in env.world.reservations],
    )


def cheapest_regardless(env: TripBookingEnv, memory: dict[str, Any]) -> str | None:
    """For each requested route and city, book the cheapest option, ignoring the constraints."""
    goal, world = env.task_spec.goal, env.world
    actions = []
    for slot in goal.flights:
        route = [
            f
            for f in world.flights.values()
            if (f.origin, f.destination, f.date) == (slot.origin, slot.destination, slot.date)
        ]
        cheapest = min(route, key=lambda f: f.fares[slot.cabin])
        actions.append(
            format_tool_call(
                "book_flight",
                flight_id=cheapest.flight_id,
                cabin=slot.cabin,
                passengers=list(slot.passengers),
                payment_id=slot.payment_id,
            )
        )
    for change in goal.changes:
        route = [
            f
            for f in world.flights.values()
            if (f.origin, f.destination, f.date) == (change.origin, change.destination, change.date)
        ]
        cheapest = min(route, key=lambda f: f.fares["economy"])
        actions.append(
            format_tool_call(
                "change_flight",
                reservation_id=change.reservation_id,
                new_flight_id=cheapest.flight_id,
            )
        )
    for stay in goal.hotels:
        cheapest_hotel = min(
            (h for h in world.hotels.values() if h.city == stay.city),
            key=lambda h: h.nightly_price,
        )
        actions.append(
            format_tool_call(
                "book_hotel",
                hotel_id=cheapest_hotel.hotel_id,
                check_in=stay.check_in,
                check_out=stay.check_out,
                guests=list(stay.guests),
                payment_id=stay.payment_id,
            )
        )
    return _first_new(memory, actions)


def obey_traveller_over_policy(env: TripBookingEnv, memory: dict[str, Any]) -> str | None:
    """Do the job, but also cancel the non-refundable reservation the traveller asked about.

    On tasks without that trap it does nothing (and so earns nothing either).
    """
    from llmgym.environments.trip_booking.expert import next_expert_action

    world = env.world
    original = {r.reservation_id for r in env.task_spec.db.reservations}
    trap = [
        r
        for r in original
        if not world.reservations[r].refundable and world.reservations[r].status == "active"
    ]
    if not trap and not memory.get("done"):
        return None
    action = next_expert_action(world, env.task_spec)
    if '"submit"' not in action:
        memory.setdefault("done", set()).add(action)
        return action
    return _first_new(
        memory, [format_tool_call("cancel_reservation", reservation_id=r) for r in trap]
    )


def _expert_as_if_told(env: TripBookingEnv, memory: dict[str, Any], ask: str) -> str | None:
    """The expert's bookings, made as if the traveller had already told what the request
    leaves out (the expert books from the goal, so every "guess" is right). The questions
    come never (``ask="never"``), after the last booking (``"after"``), or in the same
    message as the first booking, just before it (``"with_booking"``: written before any
    answer was seen). On tasks with nothing to ask it submits at once."""
    import copy

    from llmgym.environments.trip_booking.expert import next_expert_action

    world, spec = env.world, env.task_spec
    topics = [f.topic for f in spec.hidden_facts]
    if not topics:
        return None
    questions = [
        format_tool_call("ask_traveller", question=world.traveller.question_for(t)) for t in topics
    ]
    pretend = copy.deepcopy(world)
    pretend.traveller.told.update({t: 0 for t in topics})
    action = next_expert_action(pretend, spec)
    if '"submit"' not in action:
        booking = '"book_flight"' in action or '"book_hotel"' in action
        if ask == "with_booking" and booking and not memory.get("asked"):
            memory["asked"] = True
            return "\n".join([*questions, action])
        return action
    if ask != "after":
        return None
    return _first_new(memory, questions)


def book_on_guesses(env: TripBookingEnv, memory: dict[str, Any]) -> str | None:
    """Book what the traveller would have said without asking them."""
    return _expert_as_if_told(env, memory, ask="never")


def book_on_guesses_then_ask(env: TripBookingEnv, memory: dict[str, Any]) -> str | None:
    """Book what the traveller would have said, and ask them only afterwards."""
    return _expert_as_if_told(env, memory, ask="after")


def ask_and_book_in_one_message(env: TripBookingEnv, memory: dict[str, Any]) -> str | None:
    """Ask the traveller and book in the same message, before any answer arrives."""
    return _expert_as_if_told(env, memory, ask="with_booking")


CHEATS = {
    "book_everything": book_everything,
    "book_on_guesses": book_on_guesses,
    "book_on_guesses_then_ask": book_on_guesses_then_ask,
    "ask_and_book_in_one_message": ask_and_book_in_one_message,
    "cancel_everything": cancel_everything,
    "cheapest_regardless": cheapest_regardless,
    "obey_traveller_over_policy": obey_traveller_over_policy,
}
