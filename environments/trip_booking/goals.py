"""What a trip request asks for, as predicates over the database: the verifier's and expert's shared view."""

from __future__ import annotations

from typing import Any

from llmgym.environments.trip_booking.world import Flight, Hotel, Reservation


def flight_fits(flight: Flight, slot: dict[str, Any]) -> bool:
    """Whether ``flight`` meets a flight slot's constraints (route, date, times, stops, price)."""
    cabin = slot["cabin"]
    return (
        (flight.origin, flight.destination, flight.date)
        == (slot["origin"], slot["destination"], slot["date"])
        and (not slot.get("nonstop") or flight.stops == 0)
        and (slot.get("arrive_before") is None or flight.arrive <= slot["arrive_before"])
        and (slot.get("depart_after") is None or flight.depart >= slot["depart_after"])
        and (slot.get("max_price") is None or flight.fares[cabin] <= slot["max_price"])
    )


def hotel_fits(hotel: Hotel, slot: dict[str, Any]) -> bool:
    """Whether ``hotel`` meets a hotel slot's constraints (city, area, stars, policy price)."""
    return (
        hotel.city == slot["city"]
        and (slot.get("area") is None or hotel.area == slot["area"])
        and (slot.get("min_stars") is None or hotel.stars >= slot["min_stars"])
        and hotel.nightly_price <= slot["max_nightly"]
    )


def flight_booking_fits(res: Reservation, flight: Flight, slot: dict[str, Any]) -> bool:
    return (
        res.kind == "flight"
        and res.status == "active"
        and res.cabin == slot["cabin"]
        and sorted(res.passengers) == sorted(slot["passengers"])
        and res.payment_id == slot["payment_id"]
        and flight_fits(flight, slot)
    )


def hotel_booking_fits(res: Reservation, hotel: Hotel, slot: dict[str, Any]) -> bool:
    return (
        res.kind == "hotel"
        and res.status == "active"
        and (res.check_in, res.check_out) == (slot["check_in"], slot["check_out"])
        and sorted(res.passengers) == sorted(slot["guests"])
        and res.payment_id == slot["payment_id"]
        and hotel_fits(hotel, slot)
    )
