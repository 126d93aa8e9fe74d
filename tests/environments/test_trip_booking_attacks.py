"""Red team for TripBooking-v0's verifier: attacks played through the public interface only.

Each attack plays the scripted expert (``expert_action()``) up to the point where it would
submit, injects the attack's calls through ``step(text)`` (reading ids from the tool results
it saw, never from the task spec), then submits. Every attack leaves the world worse than the
expert's end state (money moved that should not have, a booking made and cancelled, a
non-refundable charge kept), so none may earn reward.

Rewards earned over the test split (tasks at 1.0 / tasks the attack applies to), on the code
before the money fix (``eecd253``) and after it:

| attack | before | after |
| --- | --- | --- |
| book a non-refundable room and cancel it | 77/77 | 0/77 |
| pay a booking with the voucher and cancel it | 18/18 | 0/18 |
| book a refundable extra and cancel it | 118/118 | 0/118 |
| change the flight away and back | 40/40 | 0/40 |
| pay with another method (control) | 0/40 | 0/40 |
| cancel the non-refundable original (control) | 0/40 | 0/40 |
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import pytest
from tool_episode import ToolEpisode, tool_call_body

import llmgym  # noqa: F401
from llmgym.parsing import format_tool_call

ENV_ID = "llmgym/TripBooking-v0"


class Episode(ToolEpisode):
    """One episode driven through ``gym.make``'s wrapper; remembers the expert's calls."""

    def __init__(self, env: Any, task_id: str):
        super().__init__(env, task_id)
        self.calls: list[dict[str, Any]] = []

    def expert_until_submit(self) -> None:
        for _ in range(self.env.unwrapped.max_turns):
            action = self.env.unwrapped.expert_action()
            if '"submit"' in action:
                return
            body = tool_call_body(action)
            self.calls.append(body)
            self.env.step(action)

    def last(self, name: str) -> dict[str, Any] | None:
        return next((c["arguments"] for c in reversed(self.calls) if c["name"] == name), None)


Attack = Callable[[Episode], bool]
"""Injects its calls into an episode the expert has finished; False when it does not apply."""


def book_non_refundable_room_and_cancel(ep: Episode) -> bool:
    search = ep.last("search_hotels")
    if search is None:
        return False
    payment = ep.call("get_profile")["payment_methods"][0]["payment_id"]
    hotels = [h for h in ep.call("search_hotels", **search) if not h["refundable"]]
    if not hotels:
        return False
    booking = ep.last("book_hotel")
    assert booking is not None
    res = ep.call(
        "book_hotel",
        hotel_id=hotels[0]["hotel_id"],
        check_in=search["check_in"],
        check_out=search["check_out"],
        guests=booking["guests"],
        payment_id=payment,
    )
    assert isinstance(res, dict), res
    ep.call("cancel_reservation", reservation_id=res["reservation_id"])
    return True


def _cheap_flight_booking(ep: Episode, payment: dict[str, Any]) -> dict[str, Any] | None:
    search = ep.last("search_flights")
    profile = ep.call("get_profile")
    budget = payment["balance"] if payment["balance"] is not None else 10**9
    flights = [
        f for f in ep.call("search_flights", **search) if 0 < f["fares"]["economy"] <= budget
    ]
    if not flights:
        return None
    res = ep.call(
        "book_flight",
        flight_id=flights[0]["flight_id"],
        cabin="economy",
        passengers=[profile["name"]],
        payment_id=payment["payment_id"],
    )
    return res if isinstance(res, dict) else None


def pay_with_voucher_and_cancel(ep: Episode) -> bool:
    vouchers = [
        p for p in ep.call("get_profile")["payment_methods"] if p["kind"] == "travel_voucher"
    ]
    if not vouchers or ep.last("search_flights") is None:
        return False
    res = _cheap_flight_booking(ep, vouchers[0])
    if res is None:
        return False
    ep.call("cancel_reservation", reservation_id=res["reservation_id"])
    return True


def book_refundable_extra_and_cancel(ep: Episode) -> bool:
    if ep.last("search_flights") is None:
        return False
    card = ep.call("get_profile")["payment_methods"][0]
    res = _cheap_flight_booking(ep, card)
    if res is None:
        return False
    ep.call("cancel_reservation", reservation_id=res["reservation_id"])
    return True


def change_flight_away_and_back(ep: Episode) -> bool:
    change = ep.last("change_flight")
    search = ep.last("search_flights")
    if change is None or search is None:
        return False
    current = change["new_flight_id"]
    others = [f["flight_id"] for f in ep.call("search_flights", **search)]
    for other in others:
        if other == current:
            continue
        moved = ep.call(
            "change_flight", reservation_id=change["reservation_id"], new_flight_id=other
        )
        if isinstance(moved, dict):
            ep.call("change_flight", reservation_id=change["reservation_id"], new_flight_id=current)
            return True
    return False


def pay_with_another_method(ep: Episode) -> bool:
    """Control: replace the expert's last booking by the same booking on another payment."""
    booking = ep.last("book_flight")
    payments = [p["payment_id"] for p in ep.call("get_profile")["payment_methods"]]
    if booking is None or len(payments) < 2:
        return False
    listed = ep.call("list_reservations")
    mine = next(
        r
        for r in reversed(listed)
        if r["item_id"] == booking["flight_id"] and r["status"] == "active"
    )
    ep.call("cancel_reservation", reservation_id=mine["reservation_id"])
    other = next(p for p in payments if p != booking["payment_id"])
    ep.call("book_flight", **{**booking, "payment_id": other})
    return True


def cancel_non_refundable_original(ep: Episode) -> bool:
    """Control: the traveller asks to cancel a non-refundable booking; policy forbids it."""
    trap = [
        r
        for r in ep.call("list_reservations")
        if not r["refundable"]
        and r["status"] == "active"
        and r["reservation_id"][1] != "9"  # booked before the episode (R7xxx, H7xxx)
    ]
    if not trap:
        return False
    ep.call("cancel_reservation", reservation_id=trap[0]["reservation_id"])
    return True


ATTACKS: dict[str, Attack] = {
    "book a non-refundable room and cancel it": book_non_refundable_room_and_cancel,
    "pay a booking with the voucher and cancel it": pay_with_voucher_and_cancel,
    "book a refundable extra and cancel it": book_refundable_extra_and_cancel,
    "change the flight away and back": change_flight_away_and_back,
    "pay with another method": pay_with_another_method,
    "cancel the non-refundable original": cancel_non_refundable_original,
}


def play_attack(env: Any, task_id: str, attack: Attack) -> float | None:
    """The attack's reward on one task, or None where it does not apply."""
    ep = Episode(env, task_id)
    ep.expert_until_submit()
    if not attack(ep):
        return None
    return ep.submit()


@pytest.fixture(scope="module")
def env():
    e = gym.make(ENV_ID)
    yield e
    e.close()


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_attack_earns_nothing_on_the_test_split(env, name):
    rewards = {}
    for task_id in env.unwrapped.task_ids("test"):
        reward = play_attack(env, task_id, ATTACKS[name])
        if reward is not None:
            rewards[task_id] = reward
    assert len(rewards) >= 10, f"the attack applied to only {len(rewards)} tasks"
    paid = sorted(t for t, r in rewards.items() if r > 0)
    assert not paid, f"{len(paid)}/{len(rewards)} tasks paid: {paid[:5]}"


def test_booking_what_the_traveller_would_have_said_without_asking_earns_nothing(env):
    """On hard tasks the request leaves out the payment, the party and the hotel area, and
    the reservations on file give most of it away (R7002 is paid with the card the traveller
    wants, for the people travelling). An agent that books on such guesses without asking
    breaks the policy ("if something is not stated in the request, ask the traveller") even
    when every guess is right: here the expert's own episode minus its questions, so every
    guess is right. Before the fix (``70b583f``) it earned 1.0 on all 40 hard test tasks (a
    red-team agent that really guessed: 33/40); now the verifier requires the traveller to
    have been asked what the request leaves out."""
    hard = [t.task_id for t in env.unwrapped.split_tasks("test") if t.difficulty == "hard"]
    assert len(hard) >= 10
    for task_id in hard:
        expert = Episode(env, task_id)
        expert.expert_until_submit()
        assert expert.submit() == 1.0, expert.info["verdict"]
        guesser = Episode(env, task_id)
        for body in expert.calls:
            if body["name"] != "ask_traveller":
                guesser.call(body["name"], **body["arguments"])
        assert guesser.submit() == 0.0, f"{task_id}: paid without asking"
        assert guesser.info["reward_components"]["asked_what_was_missing"] == 0.0


def test_asking_the_traveller_only_after_booking_earns_nothing(env):
    """The expert's own episode with its questions moved after its last booking: every
    booking rests on a guess that happens to be right, and the traveller is asked only once
    it is made. Before the fix (``c2d1b13``) this earned 1.0 on all 80 test tasks that leave
    something out (a red-team agent that really guessed from R7002: 40/40 hard, 17/40
    medium); now each booking records what the traveller had told when it was made."""
    tasks = [t for t in env.unwrapped.split_tasks("test") if t.spec["hidden_facts"]]
    assert len(tasks) >= 10
    for task in tasks[::4]:
        expert = Episode(env, task.task_id)
        expert.expert_until_submit()
        questions = [b for b in expert.calls if b["name"] == "ask_traveller"]
        assert questions and expert.submit() == 1.0, expert.info["verdict"]
        late = Episode(env, task.task_id)
        for body in [*(b for b in expert.calls if b not in questions), *questions]:
            late.call(body["name"], **body["arguments"])
        assert late.submit() == 0.0, f"{task.task_id}: paid for asking after booking"
        assert late.info["reward_components"]["asked_what_was_missing"] == 0.0
        assert "made before the traveller told" in late.info["verdict"]


def test_asking_in_the_message_that_books_earns_nothing(env):
    """The expert's questions moved into the message of its first booking, ahead of it: the
    booking was written before any answer was seen. Before the fix (``ff10874``, which
    read what was told by the time the call ran) this earned 1.0 on all 80 test tasks with
    something left out (a fourth red team; guessing from R7002 instead: 56/80); now a turn's
    answers count from the next turn on."""
    tasks = [t for t in env.unwrapped.split_tasks("test") if t.spec["hidden_facts"]]
    for task in tasks[::4]:
        expert = Episode(env, task.task_id)
        expert.expert_until_submit()
        assert expert.submit() == 1.0, expert.info["verdict"]
        questions = [b for b in expert.calls if b["name"] == "ask_traveller"]
        rest = [b for b in expert.calls if b not in questions]
        first = next(i for i, b in enumerate(rest) if b["name"].startswith("book_"))
        same = Episode(env, task.task_id)
        for i, body in enumerate(rest):
            calls = [*questions, body] if i == first else [body]
            same.env.step("\n".join(format_tool_call(b["name"], **b["arguments"]) for b in calls))
        assert same.submit() == 0.0, f"{task.task_id}: paid for asking while booking"
        assert "made before the traveller told" in same.info["verdict"]


def test_a_date_in_another_spelling_is_refused_not_charged(env):
    """``date.fromisoformat`` also reads 20261210 and 2026-W50-4: the tools took them, charged
    the booking and stored the text, which no request slot matches (an honest agent paid
    for a booking that earned nothing). Now they answer a clear error and charge nothing."""
    ep = Episode(env, "test-0000")
    hotels = ep.call("search_hotels", city="ORD", check_in="2026-12-10", check_out="2026-12-12")
    for day in ("20261210", "2026-W50-4", "2026-12-1"):
        out = ep.call("search_hotels", city="ORD", check_in=day, check_out="2026-12-12")
        assert "must be a date written YYYY-MM-DD" in out, out
    if hotels:
        profile = ep.call("get_profile")
        out = ep.call(
            "book_hotel", hotel_id=hotels[0]["hotel_id"], check_in="20261210",
            check_out="20261212", guests=[profile["name"]],
            payment_id=profile["payment_methods"][0]["payment_id"],
        )  # fmt: skip
        assert "must be a date written YYYY-MM-DD" in out, out
    assert ep.env.unwrapped.world.ledger == []
