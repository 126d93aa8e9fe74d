"""TripBooking's canonical end state: everything the agent could change, as plain JSON.

The verifier grades this state and ``llmgym check``'s fuzzer diffs it between episodes, so
it is keyed by what things are, not by the order calls were made in:

* ``reservations/<id>``: the reservations on file before the episode that still sit on their
  original flight or hotel; ``moved_reservations/<id>``: those moved to another flight
  (``change_flight``). Each with its fields and its ``ledger`` (money moved for it this
  episode, in order).
* ``new_reservations/<i>``: reservations made during the episode, cancelled ones included,
  sorted by what they are (kind, route or city, dates, cabin, people, payment, status): the
  generated ids depend only on the order of calls, so they are left out. Each also says what
  the traveller had told when it was booked (``traveller_had_told``): a booking made on a
  guess and asked about afterwards is still a guess.
* ``payments/<id>``: each payment method's balance (vouchers) and net amount charged.
* ``inventory``: seats left per flight and cabin, rooms left per hotel.
* ``learned_from_traveller``: the topics the traveller told when asked (``ask_traveller``):
  what the agent knows rather than guessed (a payment, a party or an area the request leaves
  out can often be guessed from the reservations on file, and policy says to ask).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from llmgym.environments.trip_booking.spec import Flight, Hotel
from llmgym.environments.trip_booking.world import Reservation, TravelWorld

EQUIVALENCES = (
    # which of several flights or hotels that fit the request was booked, and what follows
    # from that choice: its price, its refund terms and the amount charged for it
    "new_reservations/*/item_id",
    "new_reservations/*/total_price",
    "new_reservations/*/refundable",
    "new_reservations/*/ledger/*/amount",
    # the same for a reservation moved to a flight that fits the requested change
    "moved_reservations/*/item_id",
    "moved_reservations/*/total_price",
    "moved_reservations/*/ledger/*/amount",
    # card totals are sums of the ledger amounts above (vouchers' balances are not declared)
    "payments/*/net_charged",
    # seat and room counts of the chosen items; the verifier checks they match the bookings
    "inventory/*",
)
"""``state_equivalences`` of TripBooking-v0: see ``TripBookingEnv``."""


def canonical_state(world: TravelWorld) -> dict[str, Any]:
    """The world's end state, keyed canonically (see the module docstring)."""
    ledger: dict[str, list[dict[str, Any]]] = defaultdict(list)
    net: dict[str, int] = defaultdict(int)
    for entry in world.ledger:
        ledger[entry.reservation_id].append(
            {"payment_id": entry.payment_id, "reason": entry.reason, "amount": entry.amount}
        )
        net[entry.payment_id] += entry.amount
    on_file: dict[str, Any] = {}
    moved: dict[str, Any] = {}
    new = []
    for rid, res in world.reservations.items():
        record = reservation_record(res, world.flights, world.hotels, ledger[rid])
        if rid not in world.initial_items:
            new.append({**record, "traveller_had_told": list(world.told_when_booked[rid])})
        elif res.item_id == world.initial_items[rid]:
            on_file[rid] = record
        else:
            moved[rid] = record
    new.sort(key=_sort_key)
    return {
        "reservations": on_file,
        "moved_reservations": moved,
        "new_reservations": new,
        "payments": {
            pid: {"kind": p.kind, "balance": p.balance, "net_charged": net[pid]}
            for pid, p in sorted(world.payments.items())
        },
        "inventory": {
            "flight_seats": {fid: dict(f.seats) for fid, f in sorted(world.flights.items())},
            "hotel_rooms": {hid: h.rooms_available for hid, h in sorted(world.hotels.items())},
        },
        "learned_from_traveller": sorted(world.traveller.revealed),
    }


def reservation_record(
    res: Reservation,
    flights: Mapping[str, Flight],
    hotels: Mapping[str, Hotel],
    ledger: list[dict[str, Any]],
) -> dict[str, Any]:
    """One reservation as the canonical state shows it (no id: the caller keys it)."""
    first_day: str | None
    if res.kind == "flight":
        flight = flights[res.item_id]
        where, first_day = f"{flight.origin}-{flight.destination}", flight.date
    else:
        where, first_day = hotels[res.item_id].city, res.check_in
    return {
        "kind": res.kind,
        "where": where,
        "date": first_day,
        "check_out": res.check_out,
        "cabin": res.cabin,
        "passengers": sorted(res.passengers),
        "payment_id": res.payment_id,
        "status": res.status,
        "item_id": res.item_id,
        "total_price": res.total_price,
        "refundable": res.refundable,
        "ledger": ledger,
    }


def _sort_key(record: dict[str, Any]) -> tuple[str, ...]:
    keys = ("kind", "where", "date", "check_out", "cabin", "payment_id", "status")
    return (
        *(str(record[k]) for k in keys),
        "|".join(record["passengers"]),
        "|".join(record["traveller_had_told"]),
    )
