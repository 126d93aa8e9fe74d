"""Grade a TripBooking episode on the canonical end state of the reservations.

The end state passes when it is one of the states that satisfy the request: every requested
booking exists (matched one-to-one to the request's slots), requested cancellations and
changes are done, every other pre-existing reservation is exactly as it was, and no other
booking is active. What the agent *said* plays no part.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from llmgym.env import Verdict
from llmgym.environments.trip_booking.goals import (
    flight_booking_fits,
    hotel_booking_fits,
)
from llmgym.environments.trip_booking.world import TravelWorld
from llmgym.matching import max_matching


def verify_bookings(world: TravelWorld, spec: dict[str, Any]) -> Verdict:
    goal = spec["goal"]
    original = {r["reservation_id"]: r for r in spec["db"]["reservations"]}
    changes = {c["reservation_id"]: c for c in goal["changes"]}
    problems: list[str] = []

    existing_ok = True
    for rid, before in original.items():
        now = world.reservations[rid]
        if rid in goal["cancel"]:
            ok = now.status == "cancelled"
        elif rid in changes:
            slot = {
                **changes[rid],
                "cabin": before["cabin"],
                "passengers": before["passengers"],
                "payment_id": before["payment_id"],
            }
            ok = flight_booking_fits(now, world.flights[now.item_id], slot)
        else:
            ok = asdict(now) == before
        if not ok:
            existing_ok = False
            problems.append(f"reservation {rid} is not in its requested end state")

    new = [
        r for rid, r in world.reservations.items() if rid not in original and r.status == "active"
    ]
    new_flights = [r for r in new if r.kind == "flight"]
    new_hotels = [r for r in new if r.kind == "hotel"]
    flight_slots, hotel_slots = goal["flights"], goal["hotels"]
    flights_matched = max_matching(
        flight_slots, new_flights, lambda r, s: flight_booking_fits(r, world.flights[r.item_id], s)
    )
    hotels_matched = max_matching(
        hotel_slots, new_hotels, lambda r, s: hotel_booking_fits(r, world.hotels[r.item_id], s)
    )
    extra = len(new) - flights_matched - hotels_matched
    if flights_matched < len(flight_slots):
        problems.append(
            f"{len(flight_slots) - flights_matched} requested flight booking(s) missing or wrong"
        )
    if hotels_matched < len(hotel_slots):
        problems.append(
            f"{len(hotel_slots) - hotels_matched} requested hotel booking(s) missing or wrong"
        )
    if extra:
        problems.append(f"{extra} booking(s) nobody asked for")

    components = {
        "flights": flights_matched / len(flight_slots) if flight_slots else 1.0,
        "hotels": hotels_matched / len(hotel_slots) if hotel_slots else 1.0,
        "existing_reservations": 1.0 if existing_ok else 0.0,
        "no_extra_bookings": 1.0 if extra == 0 else 0.0,
    }
    reward = 1.0 if all(v == 1.0 for v in components.values()) else 0.0
    return Verdict(
        reward=reward,
        components=components,
        explanation="; ".join(problems) or "all constraints hold",
    )
