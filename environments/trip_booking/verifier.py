"""Grade a TripBooking episode on its canonical end state (``state.canonical_state``).

The end state passes when it is one of the states that satisfy the request: every requested
booking exists (matched one-to-one to the request's slots) and was charged exactly once, its
listed price; requested cancellations are done and refunded as their terms say; requested
changes are done with the fare difference charged or refunded once; every other reservation
on file is exactly as it was, with no money moved for it; no other booking was made, not
even one cancelled again; each payment method's net charge (and a voucher's balance) is what
those bookings imply; seats and rooms left match the reservations; and the traveller was
asked what the request leaves out before booking on it (a booking on a guessed payment,
party or area breaks the policy even when the guess is right, and so does asking only after
booking). What the agent *said* plays no part. A pure function of the state and the task
spec.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

from llmgym.env import Verdict
from llmgym.environments.trip_booking.goals import flight_booking_fits, hotel_booking_fits
from llmgym.environments.trip_booking.spec import (
    Database,
    Flight,
    Hotel,
    ReservationKind,
    TripSpec,
)
from llmgym.environments.trip_booking.state import reservation_record
from llmgym.environments.trip_booking.world import Reservation, nights_between
from llmgym.matching import max_matching

Record = dict[str, Any]


def verify_bookings(state: dict[str, Any], spec: TripSpec) -> Verdict:
    goal, db = spec.goal, spec.db
    flights = {f.flight_id: f for f in db.flights}
    hotels = {h.hotel_id: h for h in db.hotels}
    changes = {c.reservation_id: c for c in goal.changes}
    on_file = {**state["reservations"], **state["moved_reservations"]}
    problems: list[str] = []
    implied: dict[str, int] = defaultdict(int)  # net charge per payment the request implies
    money_ok = True

    existing_ok = True
    for before in db.reservations:
        rid = before.reservation_id
        now = on_file.get(rid)
        was = reservation_record(Reservation.on_file(before), flights, hotels, [])
        if now is None:
            ok = False
        elif rid in goal.cancel:
            refund = -before.total_price if before.refundable else 0
            ok = {**now, "ledger": []} == {**was, "status": "cancelled"}
            money_ok &= now["ledger"] == _entries(before.payment_id, "refund", refund)
            implied[before.payment_id] += refund
        elif rid in changes:
            slot = changes[rid].as_slot(
                before.cabin or "economy", before.passengers, before.payment_id
            )
            res = _reservation(now)
            ok = flight_booking_fits(res, flights[res.item_id], slot)
            difference = now["total_price"] - before.total_price
            money_ok &= now["total_price"] == _listed_price(res, flights, hotels)
            money_ok &= now["ledger"] == [
                {"payment_id": before.payment_id, "reason": "fare_difference", "amount": difference}
            ]
            implied[before.payment_id] += difference
        else:
            ok = rid in state["reservations"] and now == was
        if not ok:
            existing_ok = False
            problems.append(f"reservation {rid} is not in its requested end state")

    new = state["new_reservations"]
    active = [r for r in new if r["status"] == "active"]
    for record in active:
        res = _reservation(record)
        money_ok &= record["total_price"] == _listed_price(res, flights, hotels)
        money_ok &= record["ledger"] == _entries(res.payment_id, "booking", res.total_price)
        implied[res.payment_id] += res.total_price
    new_flights = [_reservation(r) for r in active if r["kind"] == "flight"]
    new_hotels = [_reservation(r) for r in active if r["kind"] == "hotel"]
    flight_slots, hotel_slots = goal.flights, goal.hotels
    flights_matched = max_matching(
        flight_slots, new_flights, lambda r, s: flight_booking_fits(r, flights[r.item_id], s)
    )
    hotels_matched = max_matching(
        hotel_slots, new_hotels, lambda r, s: hotel_booking_fits(r, hotels[r.item_id], s)
    )
    extra = len(new) - flights_matched - hotels_matched  # cancelled ones count: nobody asked
    if flights_matched < len(flight_slots):
        problems.append(
            f"{len(flight_slots) - flights_matched} requested flight booking(s) missing or wrong"
        )
    if hotels_matched < len(hotel_slots):
        problems.append(
            f"{len(hotel_slots) - hotels_matched} requested hotel booking(s) missing or wrong"
        )
    if extra:
        problems.append(f"{extra} booking(s) nobody asked for (made, or made and cancelled)")

    initial = {p.payment_id: p for p in db.payments}
    for pid, payment in state["payments"].items():
        start = initial[pid].balance
        charged = payment["net_charged"]
        money_ok &= charged == implied.get(pid, 0)
        money_ok &= payment["balance"] == (None if start is None else start - charged)
    if not money_ok:
        problems.append(
            "money moved differently from what the bookings imply: "
            + ", ".join(f"{p} charged ${v['net_charged']}" for p, v in state["payments"].items())
        )

    inventory_ok = state["inventory"] == _expected_inventory(db, on_file, new)
    if not inventory_ok:
        problems.append("seats or rooms left do not match the reservations")

    hidden = sorted({f.topic for f in spec.hidden_facts})
    asked_ok = state["learned_from_traveller"] == hidden
    if not asked_ok:
        problems.append(
            f"learned {state['learned_from_traveller']} from the traveller, not what the "
            f"request leaves out ({hidden})"
        )
    guessed = [r for r in new if not _rests_on(r, hidden) <= set(r["traveller_had_told"])]
    if guessed:
        asked_ok = False
        problems.append(
            f"{len(guessed)} booking(s) made before the traveller told what they rest on "
            f"({', '.join(sorted(_rests_on(guessed[0], hidden)))})"
        )

    components = {
        "flights": flights_matched / len(flight_slots) if flight_slots else 1.0,
        "hotels": hotels_matched / len(hotel_slots) if hotel_slots else 1.0,
        "existing_reservations": 1.0 if existing_ok else 0.0,
        "no_extra_bookings": 1.0 if extra == 0 else 0.0,
        "money": 1.0 if money_ok else 0.0,
        "inventory": 1.0 if inventory_ok else 0.0,
        "asked_what_was_missing": 1.0 if asked_ok else 0.0,
    }
    reward = 1.0 if all(v == 1.0 for v in components.values()) else 0.0
    return Verdict(
        reward=reward,
        components=components,
        explanation="; ".join(problems) or "all constraints hold",
    )


RESTS_ON = {"flight": {"payment", "party"}, "hotel": {"payment", "party", "hotel area"}}
"""The hidden-fact topics (``generator``) a new booking of each kind depends on."""


def _rests_on(record: Record, hidden: Sequence[str]) -> set[str]:
    """The facts the request leaves out that a new booking depends on."""
    return RESTS_ON[record["kind"]] & set(hidden)


def _entries(payment_id: str, reason: str, amount: int) -> list[Record]:
    """The ledger a reservation should have: one entry, or none for a zero amount."""
    return [{"payment_id": payment_id, "reason": reason, "amount": amount}] if amount else []


def _reservation(record: Record) -> Reservation:
    return Reservation(
        reservation_id="",
        kind=record["kind"],
        item_id=record["item_id"],
        passengers=list(record["passengers"]),
        payment_id=record["payment_id"],
        total_price=record["total_price"],
        cabin=record["cabin"],
        check_in=record["date"] if record["kind"] == "hotel" else None,
        check_out=record["check_out"],
        refundable=record["refundable"],
        status=record["status"],
    )


def _listed_price(res: Reservation, flights: dict[str, Flight], hotels: dict[str, Hotel]) -> int:
    if res.kind == "flight":
        return flights[res.item_id].fares[res.cabin or "economy"] * len(res.passengers)
    assert res.check_in is not None and res.check_out is not None
    return hotels[res.item_id].nightly_price * nights_between(res.check_in, res.check_out)


def _expected_inventory(db: Database, on_file: dict[str, Record], new: list[Record]) -> Record:
    """Seats and rooms of the initial database, less what the end state's bookings hold
    beyond what the reservations on file held at the start."""
    held: Counter[tuple[str, str | None]] = Counter()
    for record in [*on_file.values(), *new]:
        if record["status"] == "active":
            held[(record["item_id"], record["cabin"])] += _occupancy(
                record["kind"], record["passengers"]
            )
    for before in db.reservations:
        if before.status == "active":
            held[(before.item_id, before.cabin)] -= _occupancy(before.kind, before.passengers)
    return {
        "flight_seats": {
            f.flight_id: {cabin: n - held[(f.flight_id, cabin)] for cabin, n in f.seats.items()}
            for f in sorted(db.flights, key=lambda f: f.flight_id)
        },
        "hotel_rooms": {
            h.hotel_id: h.rooms_available - held[(h.hotel_id, None)]
            for h in sorted(db.hotels, key=lambda h: h.hotel_id)
        },
    }


def _occupancy(kind: ReservationKind, passengers: Sequence[str]) -> int:
    return len(passengers) if kind == "flight" else 1
