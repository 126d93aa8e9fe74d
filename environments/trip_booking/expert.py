"""The scripted TripBooking expert: from the current state, the next action that makes progress.

It reads the task's goal (an expert may), asks for hidden facts first, then fixes the state
one step at a time: cancellations, changes, missing bookings (search, then book the cheapest
fitting option), then submits. Where another policy left no fitting option (seats or rooms
used up), it submits what it has. Because it looks at the state, not at a fixed script, it also
finishes an episode that another policy started.
"""

from __future__ import annotations

from typing import Any

from llmgym.environments.trip_booking.goals import (
    flight_booking_fits,
    flight_fits,
    hotel_booking_fits,
    hotel_fits,
)
from llmgym.environments.trip_booking.world import TravelWorld
from llmgym.parsing import format_tool_call


def next_expert_action(world: TravelWorld, spec: dict[str, Any]) -> str:
    goal = spec["goal"]
    if not world.profile_viewed:
        return format_tool_call("get_profile")
    for fact in spec["hidden_facts"]:
        if fact["topic"] not in world.traveller.revealed:
            return format_tool_call(
                "ask_traveller", question=world.traveller.question_for(fact["topic"])
            )
    for rid in goal["cancel"]:
        if world.reservations[rid].status == "active":
            return format_tool_call("cancel_reservation", reservation_id=rid)
    for change in goal["changes"]:
        res = world.reservations[change["reservation_id"]]
        slot = {
            **change,
            "cabin": res.cabin,
            "passengers": res.passengers,
            "payment_id": res.payment_id,
        }
        if not flight_booking_fits(res, world.flights[res.item_id], slot):
            return _search_or(
                world,
                ("flights", change["origin"], change["destination"], change["date"]),
                lambda res=res, slot=slot: format_tool_call(
                    "change_flight",
                    reservation_id=res.reservation_id,
                    new_flight_id=_best_flight(world, slot),
                ),
            )
    original = {r["reservation_id"] for r in spec["db"]["reservations"]}
    new = [
        r for rid, r in world.reservations.items() if rid not in original and r.status == "active"
    ]
    # each requested booking: (is this reservation it?, the search to run, the booking to make)
    wanted = [
        (
            lambda r, s=slot: (
                r.kind == "flight" and flight_booking_fits(r, world.flights[r.item_id], s)
            ),
            ("flights", slot["origin"], slot["destination"], slot["date"]),
            lambda s=slot: format_tool_call(
                "book_flight",
                flight_id=_best_flight(world, s),
                cabin=s["cabin"],
                passengers=s["passengers"],
                payment_id=s["payment_id"],
            ),
        )
        for slot in goal["flights"]
    ] + [
        (
            lambda r, s=slot: (
                r.kind == "hotel" and hotel_booking_fits(r, world.hotels[r.item_id], s)
            ),
            ("hotels", slot["city"], slot["check_in"], slot["check_out"]),
            lambda s=slot: format_tool_call(
                "book_hotel",
                hotel_id=_best_hotel(world, s),
                check_in=s["check_in"],
                check_out=s["check_out"],
                guests=s["guests"],
                payment_id=s["payment_id"],
            ),
        )
        for slot in goal["hotels"]
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


def _search_or(world: TravelWorld, search: tuple[str, ...], then: Any) -> str:
    if search in world.searches:
        try:
            return then()
        except ValueError:  # nothing fits any more
            return format_tool_call("submit")
    kind, *args = search
    if kind == "flights":
        return format_tool_call("search_flights", origin=args[0], destination=args[1], date=args[2])
    return format_tool_call("search_hotels", city=args[0], check_in=args[1], check_out=args[2])


def _best_flight(world: TravelWorld, slot: dict[str, Any]) -> str:
    fitting = [
        f
        for f in world.flights.values()
        if flight_fits(f, slot) and f.seats[slot["cabin"]] >= len(slot["passengers"])
    ]
    return min(fitting, key=lambda f: (f.fares[slot["cabin"]], f.flight_id)).flight_id


def _best_hotel(world: TravelWorld, slot: dict[str, Any]) -> str:
    fitting = [h for h in world.hotels.values() if hotel_fits(h, slot) and h.rooms_available > 0]
    return min(fitting, key=lambda h: (h.nightly_price, h.hotel_id)).hotel_id
