"""The travel agency back office: its database and the tools an agent uses on it.

The world is built from a task spec (``spec.TripSpec``, whose flight, hotel and payment
records are its rows) and mutated only through the ``@tool`` methods. Every movement of
money goes through ``_move_money`` and lands in the ledger (a booking's charge, a change's
fare difference, a cancellation's refund), and every booking, change and cancellation keeps
the seat and room inventory in step; ``state.py`` turns all of it into the canonical end
state the verifier grades.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from llmgym.environments.trip_booking.spec import (
    Cabin,
    Customer,
    Flight,
    Hotel,
    PaymentMethod,
    ReservationKind,
    ReservationOnFile,
    ReservationStatus,
    TripSpec,
)
from llmgym.tools import ToolError, tool
from llmgym.users import Fact, ScriptedUser


@dataclass
class Reservation:
    """A reservation as it stands in the world: on file before the episode, or made in it."""

    reservation_id: str
    kind: ReservationKind
    item_id: str  # flight_id or hotel_id
    passengers: list[str]
    payment_id: str
    total_price: int
    cabin: Cabin | None = None
    check_in: str | None = None
    check_out: str | None = None
    refundable: bool = True
    status: ReservationStatus = "active"

    @classmethod
    def on_file(cls, record: ReservationOnFile) -> Reservation:
        """The reservation ``record`` of the task's database, as the world holds it."""
        return cls(
            reservation_id=record.reservation_id,
            kind=record.kind,
            item_id=record.item_id,
            passengers=list(record.passengers),
            payment_id=record.payment_id,
            total_price=record.total_price,
            cabin=record.cabin,
            check_in=record.check_in,
            check_out=record.check_out,
            refundable=record.refundable,
            status=record.status,
        )


@dataclass(frozen=True)
class LedgerEntry:
    """One movement of money: charged (amount > 0) or refunded (amount < 0) to a payment method."""

    reservation_id: str
    payment_id: str
    reason: str  # "booking" | "fare_difference" | "refund"
    amount: int


@dataclass
class TravelWorld:
    """Database state plus the tools over it."""

    profile: Customer
    payments: dict[str, PaymentMethod]
    flights: dict[str, Flight]
    hotels: dict[str, Hotel]
    reservations: dict[str, Reservation]
    traveller: ScriptedUser
    next_id: int = 1
    ledger: list[LedgerEntry] = field(default_factory=list)
    paid_before: dict[str, int] = field(default_factory=dict)
    """What each reservation on file had been paid before the episode (its price then)."""
    initial_items: dict[str, str] = field(default_factory=dict)
    """The flight or hotel of each reservation on file before the episode."""
    told_when_booked: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Per reservation made during the episode, the topics the traveller had told in turns
    before the one it was booked in (sorted): what the booking could rest on rather than on
    a guess (an answer to a question asked in the same message was not seen yet)."""
    turn: int = 0
    """The agent's current turn (``TripBookingEnv.begin_turn``)."""
    searches: set[tuple[str, ...]] = field(default_factory=set)
    profile_viewed: bool = False

    @classmethod
    def from_spec(cls, spec: TripSpec) -> TravelWorld:
        db = spec.db
        return cls(
            profile=db.customer,
            payments={p.payment_id: p for p in db.payments},
            flights={f.flight_id: f for f in db.flights},
            hotels={h.hotel_id: h for h in db.hotels},
            reservations={r.reservation_id: Reservation.on_file(r) for r in db.reservations},
            paid_before={r.reservation_id: r.total_price for r in db.reservations},
            initial_items={r.reservation_id: r.item_id for r in db.reservations},
            traveller=ScriptedUser(
                name=db.customer.name.split()[0],
                facts=tuple(Fact(f.topic, f.answer, f.keywords) for f in spec.hidden_facts),
            ),
        )

    @property
    def customer(self) -> dict[str, Any]:
        """The customer's profile as JSON (``get_profile`` adds the payment methods)."""
        return self.profile.model_dump(mode="json")

    # --- read-only tools --------------------------------------------------------------------
    @tool
    def get_profile(self) -> dict[str, Any]:
        """Show the customer's profile: name, loyalty tier, companions and payment methods on file."""
        self.profile_viewed = True
        methods = [p.model_dump(mode="json") for p in self.payments.values()]
        return {**self.customer, "payment_methods": methods}

    @tool
    def search_flights(self, origin: str, destination: str, date: str) -> list[dict[str, Any]]:
        """Search the flights between two airports on one date.

        Args:
            origin: IATA code of the departure airport, e.g. "BOS".
            destination: IATA code of the arrival airport, e.g. "ORD".
            date: departure date as YYYY-MM-DD.
        """
        origin, destination = origin.strip().upper(), destination.strip().upper()
        date = iso_day(date, "date")
        self.searches.add(("flights", origin, destination, date))
        found = [
            f
            for f in self.flights.values()
            if (f.origin, f.destination, f.date) == (origin, destination, date)
        ]
        return [f.model_dump(mode="json") for f in sorted(found, key=lambda f: f.depart)]

    @tool
    def search_hotels(self, city: str, check_in: str, check_out: str) -> list[dict[str, Any]]:
        """Search hotels with a free room in a city for the given nights.

        Args:
            city: IATA code of the city's airport, e.g. "ORD" for Chicago.
            check_in: first night, YYYY-MM-DD.
            check_out: departure day, YYYY-MM-DD (after check_in).
        """
        city = city.strip().upper()
        check_in, check_out = iso_day(check_in, "check_in"), iso_day(check_out, "check_out")
        if check_out <= check_in:
            raise ToolError(f"check_out ({check_out}) must be after check_in ({check_in})")
        self.searches.add(("hotels", city, check_in, check_out))
        return [
            h.model_dump(mode="json")
            for h in self.hotels.values()
            if h.city == city and h.rooms_available > 0
        ]

    @tool
    def list_reservations(self) -> list[dict[str, Any]]:
        """List the customer's reservations, active and cancelled."""
        return [asdict(r) for r in self.reservations.values()]

    @tool
    def ask_traveller(self, question: str) -> str:
        """Ask the traveller a question; they answer what they know.

        Args:
            question: the question, in plain words.
        """
        return self.traveller.answer(question, self.turn)

    # --- tools that change the world ------------------------------------------------------------
    def _check_payment(self, payment_id: str, amount: int) -> PaymentMethod:
        payment = self.payments.get(payment_id)
        if payment is None:
            raise ToolError(f"unknown payment method {payment_id!r}; see get_profile")
        if payment.balance is not None and payment.balance < amount:
            raise ToolError(
                f"{payment_id} has a balance of ${payment.balance}, less than the ${amount} "
                "to charge; choose another payment method from get_profile"
            )
        return payment

    def _move_money(self, res: Reservation, payment_id: str, reason: str, amount: int) -> None:
        """Charge (amount > 0) or refund (amount < 0) ``payment_id`` for ``res``; log it."""
        payment = self.payments[payment_id]
        if payment.balance is not None:
            self.payments[payment_id] = payment.model_copy(
                update={"balance": payment.balance - amount}
            )
        self.ledger.append(LedgerEntry(res.reservation_id, payment_id, reason, amount))

    def paid(self, reservation_id: str) -> int:
        """Net amount paid for a reservation: before the episode, then charges minus refunds."""
        before = self.paid_before.get(reservation_id, 0)
        return before + sum(e.amount for e in self.ledger if e.reservation_id == reservation_id)

    def _take_seats(self, flight_id: str, cabin: Cabin, count: int) -> None:
        """Take ``count`` seats of a cabin (a negative count gives them back)."""
        flight = self.flights[flight_id]
        seats = {**flight.seats, cabin: flight.seats[cabin] - count}
        self.flights[flight_id] = flight.model_copy(update={"seats": seats})

    def _take_room(self, hotel_id: str, count: int) -> None:
        hotel = self.hotels[hotel_id]
        rooms = hotel.rooms_available - count
        self.hotels[hotel_id] = hotel.model_copy(update={"rooms_available": rooms})

    def _check_passengers(self, passengers: list[str]) -> None:
        known = {self.profile.name, *self.profile.companions}
        unknown = [p for p in passengers if p not in known]
        if not passengers or unknown:
            raise ToolError(
                f"passengers must be names from the profile ({sorted(known)}); got {passengers}"
            )
        if len(set(passengers)) != len(passengers):
            raise ToolError(f"a passenger is listed twice: {passengers}")

    def _new_id(self, prefix: str) -> str:
        rid = f"{prefix}{9000 + self.next_id}"
        self.next_id += 1
        return rid

    @tool
    def book_flight(
        self, flight_id: str, cabin: Cabin, passengers: list[str], payment_id: str
    ) -> dict[str, Any]:
        """Book seats on a flight and charge the fare for every passenger.

        Args:
            flight_id: the flight, from search_flights.
            cabin: "economy" or "business".
            passengers: full names of everyone flying, as in the profile.
            payment_id: the payment method to charge, from get_profile.
        """
        flight = self.flights.get(flight_id)
        if flight is None:
            raise ToolError(f"unknown flight {flight_id!r}; use an id from search_flights")
        self._check_passengers(passengers)
        if flight.seats[cabin] < len(passengers):
            raise ToolError(f"{flight_id} has {flight.seats[cabin]} {cabin} seats left")
        total = flight.fares[cabin] * len(passengers)
        self._check_payment(payment_id, total)
        self._take_seats(flight_id, cabin, len(passengers))
        res = Reservation(
            self._new_id("R"), "flight", flight_id, list(passengers), payment_id, total, cabin=cabin
        )
        self.reservations[res.reservation_id] = res
        self.told_when_booked[res.reservation_id] = self.traveller.told_before(self.turn)
        self._move_money(res, payment_id, "booking", total)
        return asdict(res)

    @tool
    def book_hotel(
        self, hotel_id: str, check_in: str, check_out: str, guests: list[str], payment_id: str
    ) -> dict[str, Any]:
        """Book one room in a hotel for the given nights.

        Args:
            hotel_id: the hotel, from search_hotels.
            check_in: first night, YYYY-MM-DD.
            check_out: departure day, YYYY-MM-DD.
            guests: full names of the guests, as in the profile.
            payment_id: the payment method to charge, from get_profile.
        """
        hotel = self.hotels.get(hotel_id)
        if hotel is None:
            raise ToolError(f"unknown hotel {hotel_id!r}; use an id from search_hotels")
        check_in, check_out = iso_day(check_in, "check_in"), iso_day(check_out, "check_out")
        nights = nights_between(check_in, check_out)
        if nights <= 0:
            raise ToolError(f"check_out ({check_out}) must be after check_in ({check_in})")
        if hotel.rooms_available < 1:
            raise ToolError(f"{hotel_id} has no room left")
        self._check_passengers(guests)
        total = hotel.nightly_price * nights
        self._check_payment(payment_id, total)
        self._take_room(hotel_id, 1)
        res = Reservation(
            self._new_id("H"),
            "hotel",
            hotel_id,
            list(guests),
            payment_id,
            total,
            check_in=check_in,
            check_out=check_out,
            refundable=hotel.refundable,
        )
        self.reservations[res.reservation_id] = res
        self.told_when_booked[res.reservation_id] = self.traveller.told_before(self.turn)
        self._move_money(res, payment_id, "booking", total)
        return asdict(res)

    @tool
    def change_flight(self, reservation_id: str, new_flight_id: str) -> dict[str, Any]:
        """Move a flight reservation to another flight on the same route (same cabin, passengers).

        The fare difference is charged to (or refunded to) the reservation's payment method.

        Args:
            reservation_id: the flight reservation to change.
            new_flight_id: the flight to move it to.
        """
        res = self._active(reservation_id)
        if res.kind != "flight":
            raise ToolError(f"{reservation_id} is a hotel reservation, not a flight")
        old, new = self.flights[res.item_id], self.flights.get(new_flight_id)
        if new is None:
            raise ToolError(f"unknown flight {new_flight_id!r}")
        if new.flight_id == old.flight_id:
            raise ToolError(f"{reservation_id} is already on {new_flight_id}; nothing to change")
        if (new.origin, new.destination) != (old.origin, old.destination):
            raise ToolError(
                f"{new_flight_id} flies {new.origin}-{new.destination}, not {old.origin}-{old.destination}"
            )
        cabin = res.cabin or "economy"
        if new.seats[cabin] < len(res.passengers):
            raise ToolError(f"{new_flight_id} has {new.seats[cabin]} {cabin} seats left")
        total = new.fares[cabin] * len(res.passengers)
        difference = total - res.total_price
        self._check_payment(res.payment_id, difference)
        self._take_seats(old.flight_id, cabin, -len(res.passengers))
        self._take_seats(new.flight_id, cabin, len(res.passengers))
        res.item_id, res.total_price = new.flight_id, total
        self._move_money(res, res.payment_id, "fare_difference", difference)
        return {**asdict(res), "fare_difference_charged": difference}

    @tool
    def cancel_reservation(self, reservation_id: str) -> str:
        """Cancel a reservation and free its seats or room. Refundable ones are refunded in full
        to the payment method they were paid with; non-refundable ones are not refunded.

        Args:
            reservation_id: the reservation to cancel.
        """
        res = self._active(reservation_id)
        res.status = "cancelled"
        if res.kind == "flight":
            self._take_seats(res.item_id, res.cabin or "economy", -len(res.passengers))
        else:
            self._take_room(res.item_id, -1)
        if not res.refundable:
            return (
                f"{reservation_id} cancelled; NOT refunded (non-refundable): "
                f"the ${self.paid(reservation_id)} paid is lost."
            )
        refund = self.paid(reservation_id)
        self._move_money(res, res.payment_id, "refund", -refund)
        return f"{reservation_id} cancelled; ${refund} refunded to {res.payment_id}."

    def _active(self, reservation_id: str) -> Reservation:
        res = self.reservations.get(reservation_id)
        if res is None:
            raise ToolError(f"unknown reservation {reservation_id!r}; see list_reservations")
        if res.status != "active":
            raise ToolError(f"{reservation_id} is already {res.status}")
        return res


def iso_day(value: str, name: str) -> str:
    """``value`` as a YYYY-MM-DD calendar date, or a ``ToolError`` naming ``name``. Only that
    form: the request, the flights and the stored reservations all use it, so a booking made
    with another spelling of the date (``20261210``, ``2026-W50-4``, which Python's
    ``fromisoformat`` also reads) would hold a date no search or check matches."""
    from datetime import date

    value = value.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return date.fromisoformat(value).isoformat()
    except ValueError:
        pass
    raise ToolError(f"{name} must be a date written YYYY-MM-DD, e.g. 2026-12-10; got {value!r}")


def nights_between(check_in: str, check_out: str) -> int:
    from datetime import date

    try:
        return (date.fromisoformat(check_out) - date.fromisoformat(check_in)).days
    except ValueError as exc:
        raise ToolError(f"dates must be YYYY-MM-DD: {exc}") from None
