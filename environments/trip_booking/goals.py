"""What a trip request asks for, as predicates over the database: the verifier's and expert's shared view."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TypeVar

from llmgym.environments.trip_booking.spec import Flight, FlightSlot, Hotel, HotelSlot
from llmgym.environments.trip_booking.world import Reservation

Slot = TypeVar("Slot", FlightSlot, HotelSlot)


def flight_fits(flight: Flight, slot: FlightSlot | Mapping[str, Any]) -> bool:
    """Whether ``flight`` meets a flight slot's constraints (route, date, times, stops, price).

    ``slot`` may also be a goal flight as the task's JSON: it is read as a ``FlightSlot``.
    """
    slot = _read(FlightSlot, slot)
    return (
        (flight.origin, flight.destination, flight.date)
        == (slot.origin, slot.destination, slot.date)
        and (not slot.nonstop or flight.stops == 0)
        and (slot.arrive_before is None or flight.arrive <= slot.arrive_before)
        and (slot.depart_after is None or flight.depart >= slot.depart_after)
        and (slot.max_price is None or flight.fares[slot.cabin] <= slot.max_price)
    )


def hotel_fits(hotel: Hotel, slot: HotelSlot | Mapping[str, Any]) -> bool:
    """Whether ``hotel`` meets a hotel slot's constraints (city, area, stars, policy price).

    ``slot`` may also be a goal hotel as the task's JSON: it is read as a ``HotelSlot``.
    """
    slot = _read(HotelSlot, slot)
    return (
        hotel.city == slot.city
        and hotel.area == slot.area
        and hotel.stars >= slot.min_stars
        and hotel.nightly_price <= slot.max_nightly
    )


def flight_booking_fits(res: Reservation, flight: Flight, slot: FlightSlot) -> bool:
    return (
        res.kind == "flight"
        and res.status == "active"
        and res.cabin == slot.cabin
        and sorted(res.passengers) == sorted(slot.passengers)
        and res.payment_id == slot.payment_id
        and flight_fits(flight, slot)
    )


def hotel_booking_fits(res: Reservation, hotel: Hotel, slot: HotelSlot) -> bool:
    return (
        res.kind == "hotel"
        and res.status == "active"
        and (res.check_in, res.check_out) == (slot.check_in, slot.check_out)
        and sorted(res.passengers) == sorted(slot.guests)
        and res.payment_id == slot.payment_id
        and hotel_fits(hotel, slot)
    )


def _read(record: type[Slot], slot: Slot | Mapping[str, Any]) -> Slot:
    """``slot`` as ``record``: the record itself, or its JSON validated as ``TripSpec`` is."""
    if isinstance(slot, record):
        return slot
    return record.model_validate_json(json.dumps(slot))
