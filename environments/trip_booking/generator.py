"""Seeded generation of TripBooking tasks: a database, a hidden traveller profile and a request.

Every task has at least one valid end state, and the obvious shortcut (the cheapest flight or
hotel) is never one of them. All randomness comes from ``numpy.random.default_rng(seed)``.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np

from llmgym.environments.trip_booking.catalog import (
    AIRPORTS,
    AREAS,
    BASE_DAY,
    FIRST,
    LAST,
    POLICY_MAX_NIGHTLY,
    Builder,
    describe_flight,
    flight_slot,
    hotel_slot,
)

__all__ = ["POLICY_MAX_NIGHTLY", "generate_trip_task"]


def generate_trip_task(seed: int, difficulty: str) -> dict[str, Any]:
    """The full JSON spec of one task: ``db``, ``hidden_facts``, ``request``, ``goal``."""
    rng = np.random.default_rng(seed)
    b = Builder(rng)
    name = f"{b.pick(FIRST)} {b.pick(LAST)}"
    companion = f"{b.pick([f for f in FIRST if f != name.split()[0]])} {b.pick(LAST)}"
    card: dict[str, Any] = {
        "payment_id": f"card_{int(rng.integers(1000, 9999))}",
        "kind": "credit_card",
        "label": "Visa",
        "balance": None,
    }
    payments = [card]
    if difficulty != "easy":
        payments.append(
            {
                "payment_id": f"card_{int(rng.integers(1000, 9999))}",
                "kind": "credit_card",
                "label": "Mastercard",
                "balance": None,
            }
        )
        payments.append(
            {
                "payment_id": f"voucher_{int(rng.integers(100, 999))}",
                "kind": "travel_voucher",
                "label": "Travel credit",
                "balance": int(rng.integers(5, 20)) * 10,
            }
        )
    chosen: dict[str, Any] = b.pick(payments[:2]) if difficulty != "easy" else card
    origin, dest = (str(x) for x in rng.choice(list(AIRPORTS), size=2, replace=False))
    day = BASE_DAY + timedelta(days=int(rng.integers(2, 25)))
    customer = {
        "customer_id": f"C-{int(rng.integers(1000, 9999))}",
        "name": name,
        "loyalty_tier": b.pick(("none", "silver", "gold")),
        "companions": [companion],
    }
    facts: list[dict[str, Any]] = []
    goal: dict[str, Any] = {"flights": [], "hotels": [], "changes": [], "cancel": []}
    lines: list[str] = []
    iso = date.isoformat

    # an unrelated existing booking that must survive untouched
    other = b.flights_on(dest, origin, iso(day + timedelta(days=30)), 1)[0]
    b.reservations.append(
        {
            "reservation_id": "R7001",
            "kind": "flight",
            "item_id": other["flight_id"],
            "passengers": [name],
            "payment_id": card["payment_id"],
            "total_price": other["fares"]["economy"],
            "cabin": "economy",
            "check_in": None,
            "check_out": None,
            "refundable": True,
            "status": "active",
        }
    )

    if difficulty != "easy":
        facts.append(
            {
                "topic": "payment",
                "keywords": ["payment", "pay", "card", "charge", "billing"],
                "answer": f"Please charge {chosen['payment_id']} ({chosen['label']}).",
            }
        )
    party = [name]
    if difficulty == "medium" or (difficulty == "hard" and rng.random() < 0.6):
        party = [name, companion]
    if difficulty == "hard":
        who = f"It will be me and {companion}." if len(party) == 2 else "Just me, travelling alone."
        facts.append(
            {
                "topic": "party",
                "keywords": [
                    "travelling",
                    "traveling",
                    "alone",
                    "passengers",
                    "companion",
                    "who",
                    "people",
                ],
                "answer": who,
            }
        )
    cabin = "business" if difficulty != "easy" and rng.random() < 0.3 else "economy"

    if difficulty in ("easy", "medium"):
        slot = flight_slot(b, origin, dest, iso(day), cabin, party, chosen["payment_id"])
        goal["flights"].append(slot)
        b.flights_on(origin, dest, iso(day + timedelta(days=1)), 3)  # distractor date
        lines.append(describe_flight(slot, "a flight"))
    if difficulty == "medium":
        back = day + timedelta(days=int(rng.integers(2, 5)))
        ret = flight_slot(b, dest, origin, iso(back), cabin, party, chosen["payment_id"])
        goal["flights"].append(ret)
        lines.append(describe_flight(ret, "the return flight"))
        area = b.pick(AREAS)
        goal["hotels"].append(
            hotel_slot(b, dest, iso(day), iso(back), area, party, chosen["payment_id"])
        )
        lines.append(
            f"a hotel room in {AIRPORTS[dest]} ({dest}) in the {area} area, 3 stars or more, from {iso(day)} to {iso(back)}"
        )
    if difficulty == "hard":
        old_day, new_day = day, day + timedelta(days=int(rng.integers(1, 4)))
        old = b.flights_on(origin, dest, iso(old_day), 2)[0]
        old["seats"][cabin] = max(old["seats"][cabin], len(party))
        b.reservations.append(
            {
                "reservation_id": "R7002",
                "kind": "flight",
                "item_id": old["flight_id"],
                "passengers": party,
                "payment_id": chosen["payment_id"],
                "total_price": old["fares"][cabin] * len(party),
                "cabin": cabin,
                "check_in": None,
                "check_out": None,
                "refundable": True,
                "status": "active",
            }
        )
        change = flight_slot(b, origin, dest, iso(new_day), cabin, party, chosen["payment_id"])
        goal["changes"].append(
            {
                k: change[k]
                for k in (
                    "origin",
                    "destination",
                    "date",
                    "nonstop",
                    "arrive_before",
                    "depart_after",
                    "max_price",
                )
            }
            | {"reservation_id": "R7002"}
        )
        nights = int(rng.integers(2, 5))
        old_hotel, nonref = b.hotels_in(dest, 2)
        old_hotel["refundable"], nonref["refundable"] = True, False
        for rid, h in (("H7003", old_hotel), ("H7004", nonref)):
            b.reservations.append(
                {
                    "reservation_id": rid,
                    "kind": "hotel",
                    "item_id": h["hotel_id"],
                    "passengers": party,
                    "payment_id": chosen["payment_id"],
                    "total_price": h["nightly_price"] * nights,
                    "cabin": None,
                    "check_in": iso(old_day),
                    "check_out": iso(old_day + timedelta(days=nights)),
                    "refundable": h["refundable"],
                    "status": "active",
                }
            )
        goal["cancel"].append("H7003")
        area = b.pick(AREAS)
        facts.append(
            {
                "topic": "hotel area",
                "keywords": ["area", "neighborhood", "neighbourhood", "location", "where"],
                "answer": f"Somewhere in the {area} area, please.",
            }
        )
        goal["hotels"].append(
            hotel_slot(
                b,
                dest,
                iso(new_day),
                iso(new_day + timedelta(days=nights)),
                area,
                party,
                chosen["payment_id"],
            )
        )
        lines.append(
            describe_flight(
                change | {"reservation_id": "R7002"},
                "to move my flight reservation R7002 to a flight",
            )
        )
        lines.append(
            f"to cancel my hotel reservation H7003 and book a hotel room in {AIRPORTS[dest]} ({dest}) instead, 3 stars or more, "
            f"from {iso(new_day)} to {iso(new_day + timedelta(days=nights))}"
        )
        lines.append("to cancel my other hotel reservation H7004 as well, if that is allowed")

    if difficulty == "easy":
        payment_line = f" Use my card {card['payment_id']}."
    else:
        payment_line = " Ask me how I want to pay."
    who_line = (
        ""
        if difficulty == "hard"
        else (
            " It's just me travelling." if len(party) == 1 else f" I'm travelling with {companion}."
        )
    )
    request = (
        f"Hi, this is {name} (customer {customer['customer_id']}). I need "
        + "; and ".join(lines)
        + "."
        + who_line
        + payment_line
    )
    b.flights.sort(key=lambda f: (f["date"], f["origin"], f["flight_id"]))
    return {
        "db": {
            "customer": customer,
            "payments": payments,
            "flights": b.flights,
            "hotels": b.hotels,
            "reservations": b.reservations,
        },
        "hidden_facts": facts,
        "request": request,
        "goal": goal,
    }
