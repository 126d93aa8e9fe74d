"""Seeded generation of TripBooking tasks: a database, a hidden traveller profile and a request.

Every task has at least one valid end state, and the obvious shortcut (the cheapest flight or
hotel) is never one of them. All randomness comes from ``numpy.random.default_rng(seed)``.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np

AIRPORTS = {
    "BOS": "Boston",
    "ORD": "Chicago",
    "SFO": "San Francisco",
    "SEA": "Seattle",
    "JFK": "New York",
    "DEN": "Denver",
    "ATL": "Atlanta",
    "MIA": "Miami",
    "LAX": "Los Angeles",
    "AUS": "Austin",
}
AIRLINES = {"QA": "Quill Air", "NX": "Northwind", "BL": "Bluebird", "SK": "Skyline"}
AREAS = ("downtown", "airport", "waterfront", "old town", "university")
HOTEL_WORDS = (
    "Grand",
    "Harbor",
    "Maple",
    "Summit",
    "Park",
    "Union",
    "Cedar",
    "Beacon",
    "Atlas",
    "Lantern",
)
FIRST = (
    "Dana",
    "Alex",
    "Priya",
    "Marco",
    "Yuki",
    "Sam",
    "Lena",
    "Omar",
    "Ines",
    "Tom",
    "Ada",
    "Kofi",
)
LAST = (
    "Reyes",
    "Okafor",
    "Nguyen",
    "Silva",
    "Tanaka",
    "Keller",
    "Haddad",
    "Novak",
    "Moreau",
    "Berg",
)
BASE_DAY = date(2026, 12, 1)
POLICY_MAX_NIGHTLY = 260


def _hhmm(minutes: int) -> str:
    minutes = max(0, min(minutes, 23 * 60 + 59))
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


class _Builder:
    """Accumulates one task's database while the request is drawn."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.flights: list[dict[str, Any]] = []
        self.hotels: list[dict[str, Any]] = []
        self.reservations: list[dict[str, Any]] = []
        self.durations: dict[tuple[str, str], int] = {}
        self.next_flight = 100

    def pick(self, options: Any) -> Any:
        return options[int(self.rng.integers(len(options)))]

    def duration(self, a: str, b: str) -> int:
        key = (min(a, b), max(a, b))
        if key not in self.durations:
            self.durations[key] = int(self.rng.integers(80, 330))
        return self.durations[key]

    def flights_on(self, origin: str, destination: str, day: str, n: int) -> list[dict[str, Any]]:
        made = []
        for _ in range(n):
            code = self.pick(list(AIRLINES))
            self.next_flight += int(self.rng.integers(1, 40))
            stops = int(self.rng.random() < 0.35)
            depart = int(self.rng.integers(6 * 60, 20 * 60) // 5 * 5)
            arrive = (
                depart
                + self.duration(origin, destination)
                + stops * int(self.rng.integers(60, 150))
            )
            economy = int(self.rng.integers(12, 60)) * 10
            made.append(
                {
                    "flight_id": f"{code}{self.next_flight}",
                    "airline": AIRLINES[code],
                    "origin": origin,
                    "destination": destination,
                    "date": day,
                    "depart": _hhmm(depart),
                    "arrive": _hhmm(arrive),
                    "stops": stops,
                    "fares": {
                        "economy": economy,
                        "business": economy * int(self.rng.integers(25, 36)) // 10,
                    },
                    "seats": {
                        "economy": int(self.rng.integers(2, 10)),
                        "business": int(self.rng.integers(2, 5)),
                    },
                }
            )
        self.flights += made
        return made

    def hotels_in(self, city: str, n: int) -> list[dict[str, Any]]:
        made = []
        for i in range(n):
            made.append(
                {
                    "hotel_id": f"HT-{city}-{len(self.hotels) + i + 1:02d}",
                    "name": f"{self.pick(HOTEL_WORDS)} {self.pick(('Inn', 'Hotel', 'Suites', 'Lodge'))} {AIRPORTS[city]}",
                    "city": city,
                    "area": self.pick(AREAS),
                    "stars": int(self.rng.integers(2, 6)),
                    "nightly_price": int(self.rng.integers(9, 40)) * 10,
                    "rooms_available": int(self.rng.integers(1, 6)),
                    "refundable": bool(self.rng.random() < 0.7),
                }
            )
        self.hotels += made
        return made


def _flight_slot(
    b: _Builder, origin: str, dest: str, day: str, cabin: str, party: list[str], payment: str
) -> dict[str, Any]:
    """Draw flights on a route and constraints that exactly some of them meet, never the cheapest."""
    flights = b.flights_on(origin, dest, day, int(b.rng.integers(5, 9)))
    target = b.pick(flights)
    target["seats"][cabin] = max(target["seats"][cabin], len(party))
    others = [f for f in flights if f is not target]
    cheapest_other = min(others, key=lambda f: f["fares"][cabin])
    if target["fares"][cabin] <= cheapest_other["fares"][cabin]:
        bump = int(b.rng.integers(2, 8)) * 10
        target["fares"][cabin] = cheapest_other["fares"][cabin] + bump
    slot: dict[str, Any] = {
        "origin": origin,
        "destination": dest,
        "date": day,
        "cabin": cabin,
        "passengers": party,
        "payment_id": payment,
        "nonstop": False,
        "arrive_before": None,
        "depart_after": None,
        "max_price": None,
    }
    kind = b.pick(("nonstop", "arrive_before", "depart_after"))
    if kind == "arrive_before" and target["arrive"] > "21:00":
        kind = "nonstop"  # too late in the day to leave room for a later-arriving decoy
    if kind == "nonstop":
        target["stops"] = 0
        slot["nonstop"] = True
        cheapest_other["stops"] = 1
    elif kind == "arrive_before":
        hour = int(target["arrive"][:2]) + 1 + int(b.rng.integers(0, 2))
        slot["arrive_before"] = _hhmm(min(hour, 23) * 60)
        cheapest_other["arrive"] = _hhmm(min(hour, 23) * 60 + 35)
    else:
        hour = max(int(target["depart"][:2]) - int(b.rng.integers(0, 2)), 6)
        slot["depart_after"] = _hhmm(hour * 60)
        cheapest_other["depart"] = _hhmm(hour * 60 - 50)
    # no ties: the decoy is strictly the cheapest, so "book the cheapest" is always wrong
    cheapest_other["fares"][cabin] = min(f["fares"][cabin] for f in others) - 10
    if b.rng.random() < 0.5:
        slot["max_price"] = (
            target["fares"][cabin] + int(b.rng.integers(0, 8)) * 10
        ) // 10 * 10 + 10
    return slot


def _hotel_slot(
    b: _Builder,
    city: str,
    check_in: str,
    check_out: str,
    area: str,
    guests: list[str],
    payment: str,
) -> dict[str, Any]:
    """Draw hotels in a city with a valid one in ``area`` under policy; the cheapest is elsewhere."""
    hotels = b.hotels_in(city, int(b.rng.integers(5, 8)))
    target, trap, cheap = hotels[0], hotels[1], hotels[2]
    target.update(
        area=area,
        nightly_price=int(b.rng.integers(14, POLICY_MAX_NIGHTLY // 10)) * 10,
        stars=max(target["stars"], 3),
    )
    trap.update(
        area=area, nightly_price=POLICY_MAX_NIGHTLY + int(b.rng.integers(2, 12)) * 10, stars=5
    )  # over policy
    cheap.update(
        area=b.pick([a for a in AREAS if a != area]),
        nightly_price=min(h["nightly_price"] for h in b.hotels if h["city"] == city) - 10,
    )
    order = b.rng.permutation(len(hotels))
    b.hotels[-len(hotels) :] = [hotels[i] for i in order]
    return {
        "city": city,
        "check_in": check_in,
        "check_out": check_out,
        "area": area,
        "min_stars": 3,
        "max_nightly": POLICY_MAX_NIGHTLY,
        "guests": guests,
        "payment_id": payment,
    }


def generate_trip_task(seed: int, difficulty: str) -> dict[str, Any]:
    """The full JSON spec of one task: ``db``, ``hidden_facts``, ``request``, ``goal``."""
    rng = np.random.default_rng(seed)
    b = _Builder(rng)
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
        slot = _flight_slot(b, origin, dest, iso(day), cabin, party, chosen["payment_id"])
        goal["flights"].append(slot)
        b.flights_on(origin, dest, iso(day + timedelta(days=1)), 3)  # distractor date
        lines.append(_describe_flight(slot, "a flight"))
    if difficulty == "medium":
        back = day + timedelta(days=int(rng.integers(2, 5)))
        ret = _flight_slot(b, dest, origin, iso(back), cabin, party, chosen["payment_id"])
        goal["flights"].append(ret)
        lines.append(_describe_flight(ret, "the return flight"))
        area = b.pick(AREAS)
        goal["hotels"].append(
            _hotel_slot(b, dest, iso(day), iso(back), area, party, chosen["payment_id"])
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
        change = _flight_slot(b, origin, dest, iso(new_day), cabin, party, chosen["payment_id"])
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
            _hotel_slot(
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
            _describe_flight(
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


def _describe_flight(slot: dict[str, Any], what: str) -> str:
    parts = [
        f"{what} from {AIRPORTS[slot['origin']]} ({slot['origin']}) to {AIRPORTS[slot['destination']]} "
        f"({slot['destination']}) on {slot['date']}"
    ]
    if slot.get("cabin") and "reservation_id" not in slot:
        parts.append(f"in {slot['cabin']}")
    if slot.get("nonstop"):
        parts.append("nonstop only")
    if slot.get("arrive_before"):
        parts.append(f"arriving by {slot['arrive_before']}")
    if slot.get("depart_after"):
        parts.append(f"leaving no earlier than {slot['depart_after']}")
    if slot.get("max_price"):
        parts.append(f"at most ${slot['max_price']} per ticket")
    return ", ".join(parts)
