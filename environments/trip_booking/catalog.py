"""The pieces a TripBooking task is drawn from: airports, airlines, hotels, people, and the
builder that draws flights, hotels and the request's slots from one seeded RNG
(``generator.generate_trip_task`` composes them into a task).
"""

from __future__ import annotations

from datetime import date
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


def hhmm(minutes: int) -> str:
    minutes = max(0, min(minutes, 23 * 60 + 59))
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


class Builder:
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
                    "depart": hhmm(depart),
                    "arrive": hhmm(arrive),
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


def flight_slot(
    b: Builder, origin: str, dest: str, day: str, cabin: str, party: list[str], payment: str
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
        slot["arrive_before"] = hhmm(min(hour, 23) * 60)
        cheapest_other["arrive"] = hhmm(min(hour, 23) * 60 + 35)
    else:
        hour = max(int(target["depart"][:2]) - int(b.rng.integers(0, 2)), 6)
        slot["depart_after"] = hhmm(hour * 60)
        cheapest_other["depart"] = hhmm(hour * 60 - 50)
    # no ties: the decoy is strictly the cheapest, so "book the cheapest" is always wrong
    cheapest_other["fares"][cabin] = min(f["fares"][cabin] for f in others) - 10
    if b.rng.random() < 0.5:
        slot["max_price"] = (
            target["fares"][cabin] + int(b.rng.integers(0, 8)) * 10
        ) // 10 * 10 + 10
    return slot


def hotel_slot(
    b: Builder,
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


def describe_flight(slot: dict[str, Any], what: str) -> str:
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
