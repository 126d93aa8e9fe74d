"""llmgym/TripBooking-v0: a travel agency back office with a scripted traveller."""

from __future__ import annotations

from typing import Any

from llmgym.env import LLMEnv, Scenario, Verdict
from llmgym.environments.trip_booking.cheats import CHEATS
from llmgym.environments.trip_booking.expert import next_expert_action
from llmgym.environments.trip_booking.generator import POLICY_MAX_NIGHTLY, generate_trip_task
from llmgym.environments.trip_booking.spec import TripSpec
from llmgym.environments.trip_booking.state import EQUIVALENCES, canonical_state
from llmgym.environments.trip_booking.verifier import verify_bookings
from llmgym.environments.trip_booking.world import TravelWorld
from llmgym.tasks import Task

SYSTEM_PROMPT = f"""You are a travel agent working in the back office of a travel agency.
A traveller sends you a request. Use the tools to look things up and to book, change or cancel
reservations so that the request is fulfilled exactly. Policy:
- Book only what the traveller asks for, for exactly the people travelling, with the payment
  method the traveller chooses. Passenger and guest names must be written as in the profile.
  Every charge and refund shows on the traveller's statement: do not book anything you would
  cancel again, and do not change a flight more than once.
- A booking is charged when it is made. Changing a flight charges or refunds the fare
  difference to the reservation's payment method; cancelling a refundable reservation refunds
  what was paid to that payment method; a non-refundable one is not refunded.
- Company policy: hotel rooms must cost at most ${POLICY_MAX_NIGHTLY} per night.
- Never cancel a non-refundable reservation, even if asked: leave it as it is.
- If something is not stated in the request, ask the traveller (ask_traveller).
- When everything is done, call submit."""


class TripBookingEnv(LLMEnv):
    """Book, change and cancel flights and hotels to fulfil a traveller's request."""

    task_family = "trip_booking"
    description = "Travel agency back office: search, book, change and cancel flights and hotels."
    cheats = CHEATS
    state_equivalences = EQUIVALENCES
    """Which fitting flight or hotel was booked (several may fit a request), with its price,
    its refund terms, the amounts charged for it and the seats and rooms it took."""
    test_split_sha256 = "1f84eae3655aaa5ba8e7c11b5b8fbae344d01cd7972e6db0a313b15dd47256e0"
    task_spec_type = TripSpec

    task_spec: TripSpec
    world: TravelWorld

    def __init__(self, *, expert_notes: bool = False, **kwargs: Any):
        """``expert_notes``: the scripted expert writes down the request's flight constraints
        and its check of the listed flights before it books (``expert.next_expert_action``);
        off by default. The rest: ``LLMEnv``'s limits (``max_turns`` ...)."""
        super().__init__(**kwargs)
        self.expert_notes = expert_notes

    def generate_task(self, seed: int, difficulty: str) -> dict[str, Any]:
        return generate_trip_task(seed, difficulty)

    def start(self, task: Task) -> Scenario:
        """The episode of ``task``, built from its typed spec (``reset`` sets ``task_spec``)."""
        self.world = TravelWorld.from_spec(self.task_spec)
        return Scenario(SYSTEM_PROMPT, self.task_spec.request, (self.world,))

    def begin_turn(self, turn: int) -> None:
        self.world.turn = turn

    def canonical_state(self) -> dict[str, Any]:
        return canonical_state(self.world)

    def verify(self) -> Verdict:
        assert self.task is not None
        return verify_bookings(self.canonical_state(), self.task_spec)

    def expert_action(self) -> str:
        assert self.task is not None, "call reset() first"
        return next_expert_action(self.world, self.task_spec, notes=self.expert_notes)
