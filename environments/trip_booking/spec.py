"""TripBooking's typed task spec: the generator's JSON (``generate_trip_task``) as frozen records.

``TripSpec`` describes exactly what ``generator.generate_trip_task`` writes and the test split
holds; ``TripBookingEnv`` validates each task against it when it starts (strictly, in JSON
mode) and the world, goals, verifier, expert and cheats read its typed fields. Every record
is a :class:`llmgym.tasks.TaskSpec`: frozen, strict, and refusing unknown keys. The flight,
hotel and payment records double as the world's database rows (``world.TravelWorld``), which
replaces a row with an updated copy when seats, rooms or a voucher's balance change.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from llmgym.tasks import TaskSpec

Cabin = Literal["economy", "business"]
PaymentKind = Literal["credit_card", "travel_voucher"]
ReservationKind = Literal["flight", "hotel"]
ReservationStatus = Literal["active", "cancelled"]
LoyaltyTier = Literal["none", "silver", "gold"]
FactTopic = Literal["payment", "party", "hotel area"]


class Customer(TaskSpec):
    """The traveller's profile, as ``get_profile`` shows it (without payment methods)."""

    customer_id: str
    name: str  # full name, as passengers and guests must be written
    loyalty_tier: LoyaltyTier
    companions: tuple[str, ...]  # full names of the people who may travel with them


class PaymentMethod(TaskSpec):
    """A payment method on file: a card, or a voucher with a balance."""

    payment_id: str
    kind: PaymentKind
    label: str  # what the traveller calls it, e.g. "Visa"
    balance: int | None  # dollars left on a voucher; None for a card


class Flight(TaskSpec):
    """A flight in the database, with its fares and seats left per cabin."""

    flight_id: str
    airline: str
    origin: str  # IATA airport code
    destination: str
    date: str  # YYYY-MM-DD
    depart: str  # HH:MM
    arrive: str  # HH:MM
    stops: int
    fares: dict[Cabin, int]  # dollars per ticket
    seats: dict[Cabin, int]  # seats left


class Hotel(TaskSpec):
    """A hotel in the database, with its nightly price and rooms left."""

    hotel_id: str
    name: str
    city: str  # IATA code of the city's airport
    area: str
    stars: int
    nightly_price: int  # dollars per night
    rooms_available: int
    refundable: bool


class ReservationOnFile(TaskSpec):
    """A reservation the traveller holds before the episode."""

    reservation_id: str
    kind: ReservationKind
    item_id: str  # the flight_id or hotel_id
    passengers: tuple[str, ...]  # passengers of a flight, guests of a hotel room
    payment_id: str  # the payment method it was paid with
    total_price: int  # what was paid for it
    cabin: Cabin | None  # flights only
    check_in: str | None  # hotels only, YYYY-MM-DD
    check_out: str | None  # hotels only, YYYY-MM-DD
    refundable: bool
    status: ReservationStatus


class Database(TaskSpec):
    """The back office's records at the start of the episode."""

    customer: Customer
    payments: tuple[PaymentMethod, ...]
    flights: tuple[Flight, ...]
    hotels: tuple[Hotel, ...]
    reservations: tuple[ReservationOnFile, ...]


class HiddenFact(TaskSpec):
    """Something the request leaves out that the traveller tells when asked."""

    topic: FactTopic
    keywords: tuple[str, ...]  # words of a question that asks about the topic
    answer: str


class FlightConstraints(TaskSpec):
    """What the request asks of a flight: its route and date and the traveller's limits."""

    origin: str
    destination: str
    date: str  # YYYY-MM-DD
    nonstop: bool  # only flights without stops
    arrive_before: str | None  # HH:MM, at or before which the flight must arrive
    depart_after: str | None  # HH:MM, at or after which the flight must leave
    max_price: int | None  # dollars per ticket, in the booking's cabin


class FlightSlot(FlightConstraints):
    """A requested flight booking: the constraints, and the cabin, people and payment."""

    cabin: Cabin
    passengers: tuple[str, ...]
    payment_id: str


class FlightChange(FlightConstraints):
    """A requested move of a flight reservation on file to a flight meeting the constraints."""

    reservation_id: str

    def as_slot(self, cabin: Cabin, passengers: Sequence[str], payment_id: str) -> FlightSlot:
        """The booking the changed reservation must end up as, with its cabin, people and
        payment (a change keeps those of the reservation)."""
        constraints = self.model_dump(exclude={"reservation_id"})
        return FlightSlot(
            **constraints, cabin=cabin, passengers=tuple(passengers), payment_id=payment_id
        )


class HotelSlot(TaskSpec):
    """A requested hotel booking: one room in a city for the given nights."""

    city: str
    check_in: str  # YYYY-MM-DD, the first night
    check_out: str  # YYYY-MM-DD, the departure day
    area: str
    min_stars: int
    max_nightly: int  # dollars per night (the company's policy)
    guests: tuple[str, ...]
    payment_id: str


class Goal(TaskSpec):
    """The end state the request asks for (the expert and the verifier read it)."""

    flights: tuple[FlightSlot, ...]  # new flight bookings
    hotels: tuple[HotelSlot, ...]  # new hotel bookings
    changes: tuple[FlightChange, ...]  # flight reservations on file to move
    cancel: tuple[str, ...]  # ids of reservations on file to cancel


class TripSpec(TaskSpec):
    """One TripBooking task: the database, the traveller's hidden facts, the request, the goal."""

    db: Database
    hidden_facts: tuple[HiddenFact, ...]
    request: str  # the traveller's message that opens the episode
    goal: Goal
