"""The scripted TripBooking expert: from the current state, the next action that makes progress.

It reads the task's goal (an expert may), asks for hidden facts first, then fixes the state
one step at a time: cancellations, changes, missing bookings (search, then book the cheapest
fitting option), then submits. Where another policy left no fitting option (seats or rooms
used up), it submits what it has. Because it looks at the state, not at a fixed script, it also
finishes an episode that another policy started.

With ``notes`` the expert also writes down what it checks, as prose before its calls (the
environment keeps prose and runs only the calls): in its first turn the flight constraints of
the request ("Need: nonstop, arrive by 12:00, economy at most $400."), and before booking or
changing to a flight the same line, the listed flights that meet it with their fares, and the
pick ("Fit: QA270 $290, NX260 $360. Cheapest: QA270."). Flight constraints are always in the
request (hidden facts are payment, party and hotel area), so the first note uses nothing the
agent has not been told. SFT on such episodes asks the model to copy the constraints next to
the request and to check each flight against them in words, instead of in one hidden step;
``bench/bench_expert_notes.py`` measures what that buys.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from llmgym.environments.trip_booking.goals import (
    flight_booking_fits,
    flight_fits,
    hotel_booking_fits,
    hotel_fits,
)
from llmgym.environments.trip_booking.spec import Flight, FlightSlot, HotelSlot, TripSpec
from llmgym.environments.trip_booking.world import Reservation, TravelWorld
from llmgym.parsing import format_tool_call

Wanted = tuple[Callable[[Reservation], bool], tuple[str, ...], Callable[[], str]]
"""A requested booking: (is this reservation it?, the search to run, the booking to make)."""


def next_expert_action(world: TravelWorld, spec: TripSpec, *, notes: bool = False) -> str:
    """The expert's next action in ``world`` towards ``spec``'s goal, as text; with ``notes``,
    prefixed by what it checks (see the module docstring)."""
    goal = spec.goal
    if not world.profile_viewed:
        prose = "".join(f"{note}\n" for note in _request_notes(world, spec)) if notes else ""
        return prose + format_tool_call("get_profile")
    for fact in spec.hidden_facts:
        if fact.topic not in world.traveller.revealed:
            return format_tool_call(
                "ask_traveller", question=world.traveller.question_for(fact.topic)
            )
    for rid in goal.cancel:
        if world.reservations[rid].status == "active":
            return format_tool_call("cancel_reservation", reservation_id=rid)
    for change in goal.changes:
        res = world.reservations[change.reservation_id]
        slot = change.as_slot(res.cabin or "economy", res.passengers, res.payment_id)
        if not flight_booking_fits(res, world.flights[res.item_id], slot):
            return _search_or(
                world,
                ("flights", change.origin, change.destination, change.date),
                partial(_change_flight, world, res, slot, notes),
            )
    original = {r.reservation_id for r in spec.db.reservations}
    new = [
        r for rid, r in world.reservations.items() if rid not in original and r.status == "active"
    ]
    wanted: list[Wanted] = [
        (
            partial(_is_flight_booking, world, flight),
            ("flights", flight.origin, flight.destination, flight.date),
            partial(_book_flight, world, flight, notes),
        )
        for flight in goal.flights
    ]
    wanted += [
        (
            partial(_is_hotel_booking, world, hotel),
            ("hotels", hotel.city, hotel.check_in, hotel.check_out),
            partial(_book_hotel, world, hotel),
        )
        for hotel in goal.hotels
    ]
    used: set[str] = set()
    for is_it, search, book in wanted:
        match = next((r for r in new if r.reservation_id not in used and is_it(r)), None)
        if match is None:
            return _search_or(world, search, book)
        used.add(match.reservation_id)
    for res in new:  # bookings nobody asked for (left by another policy)
        if res.reservation_id not in used:
            return format_tool_call("cancel_reservation", reservation_id=res.reservation_id)
    return format_tool_call("submit")


def _search_or(world: TravelWorld, search: tuple[str, ...], then: Callable[[], str]) -> str:
    if search in world.searches:
        try:
            return then()
        except ValueError:  # nothing fits any more
            return format_tool_call("submit")
    kind, *args = search
    if kind == "flights":
        return format_tool_call("search_flights", origin=args[0], destination=args[1], date=args[2])
    return format_tool_call("search_hotels", city=args[0], check_in=args[1], check_out=args[2])


def _is_flight_booking(world: TravelWorld, slot: FlightSlot, res: Reservation) -> bool:
    return res.kind == "flight" and flight_booking_fits(res, world.flights[res.item_id], slot)


def _is_hotel_booking(world: TravelWorld, slot: HotelSlot, res: Reservation) -> bool:
    return res.kind == "hotel" and hotel_booking_fits(res, world.hotels[res.item_id], slot)


def _book_flight(world: TravelWorld, slot: FlightSlot, notes: bool) -> str:
    return _flight_check(world, slot, notes) + format_tool_call(
        "book_flight",
        flight_id=_best_flight(world, slot),
        cabin=slot.cabin,
        passengers=list(slot.passengers),
        payment_id=slot.payment_id,
    )


def _book_hotel(world: TravelWorld, slot: HotelSlot) -> str:
    return format_tool_call(
        "book_hotel",
        hotel_id=_best_hotel(world, slot),
        check_in=slot.check_in,
        check_out=slot.check_out,
        guests=list(slot.guests),
        payment_id=slot.payment_id,
    )


def _change_flight(world: TravelWorld, res: Reservation, slot: FlightSlot, notes: bool) -> str:
    return _flight_check(world, slot, notes) + format_tool_call(
        "change_flight", reservation_id=res.reservation_id, new_flight_id=_best_flight(world, slot)
    )


def _fitting_flights(world: TravelWorld, slot: FlightSlot) -> list[Flight]:
    return [
        f
        for f in world.flights.values()
        if flight_fits(f, slot) and f.seats[slot.cabin] >= len(slot.passengers)
    ]


def _best_flight(world: TravelWorld, slot: FlightSlot) -> str:
    fitting = _fitting_flights(world, slot)
    return min(fitting, key=lambda f: (f.fares[slot.cabin], f.flight_id)).flight_id


def need_note(slot: FlightSlot) -> str:
    """A flight slot's constraints in a line: "Need: nonstop, economy at most $400."."""
    parts = ["nonstop"] if slot.nonstop else []
    if slot.depart_after:
        parts.append(f"leave after {slot.depart_after}")
    if slot.arrive_before:
        parts.append(f"arrive by {slot.arrive_before}")
    if slot.max_price is not None:
        parts.append(f"{slot.cabin} at most ${slot.max_price}")
    return f"Need: {', '.join(parts) or 'any time, any price'}."


def _request_notes(world: TravelWorld, spec: TripSpec) -> list[str]:
    """The first turn's notes: one "Need:" line per flight the request books or changes."""
    slots = list(spec.goal.flights)
    for change in spec.goal.changes:
        res = world.reservations[change.reservation_id]
        slots.append(change.as_slot(res.cabin or "economy", res.passengers, res.payment_id))
    return [need_note(slot) for slot in slots]


def _flight_check(world: TravelWorld, slot: FlightSlot, notes: bool) -> str:
    """The note before a booking or change to a flight: the need, the listed flights that meet
    it (by departure, with the fare), the pick; empty without ``notes``."""
    if not notes:
        return ""
    fitting = sorted(_fitting_flights(world, slot), key=lambda f: (f.depart, f.flight_id))
    fits = ", ".join(f"{f.flight_id} ${f.fares[slot.cabin]}" for f in fitting)
    return f"{need_note(slot)} Fit: {fits}. Cheapest: {_best_flight(world, slot)}.\n"


def _best_hotel(world: TravelWorld, slot: HotelSlot) -> str:
    fitting = [h for h in world.hotels.values() if hotel_fits(h, slot) and h.rooms_available > 0]
    return min(fitting, key=lambda h: (h.nightly_price, h.hotel_id)).hotel_id
