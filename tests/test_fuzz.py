"""The verifier fuzzer (llmgym.fuzz): its state diff, and that it finds real verifier gaps."""

import dataclasses
import importlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import gymnasium as gym
import pytest

import llmgym  # noqa: F401
from llmgym.checks import make_unwrapped
from llmgym.fuzz import fuzz_env
from llmgym.fuzz_parts import flatten, state_differences


def test_flatten_joins_keys_and_list_indices_and_keeps_empty_containers():
    state = {"a": {"b": [1, {"c": None}]}, "empty": {}, "none": []}
    assert flatten(state) == {"a/b/0": 1, "a/b/1/c": None, "empty": {}, "none": []}


def test_state_differences_reports_changed_added_and_removed_paths():
    before = {"bookings": {"R1": {"flight": "F1", "price": 100}}, "balance": 50}
    after = {"bookings": {"R1": {"flight": "F2", "price": 100}, "R2": {"flight": "F3"}}}
    diffs = state_differences(before, after)
    assert diffs == [
        "balance: 50 != '<absent>'",
        "bookings/R1/flight: 'F1' != 'F2'",
        "bookings/R2/flight: '<absent>' != 'F3'",
    ]


def test_declared_equivalences_hide_only_their_paths():
    before = {"bookings": {"R1": {"flight": "F1", "price": 100}}}
    after = {"bookings": {"R1": {"flight": "F2", "price": 120}}}
    assert state_differences(before, after, ("bookings/*/flight",)) == [
        "bookings/R1/price: 100 != 120"
    ]
    assert state_differences(before, after, ("bookings/*",)) == []


# --- the fuzzer against the verifiers as they were before the trust issue ---------------------
PRE_FIX = "b7343fb"  # the last commit before "Rewards you can trust": the verifiers it fixed
ROOT = Path(__file__).resolve().parents[1]
# bookkeeping of what the agent looked at: not world state, and the old verifiers ignore it
OLD_BOOKKEEPING = ("searches*", "profile_viewed", "viewed*", "looked_up*", "read_*", "*asked*")


def _old_env(family: str, class_name: str, tmp_path: Path) -> str:
    """Materialise ``environments/<family>`` of PRE_FIX as a package of its own; register it
    with a canonical_state that is the whole world (everything the agent could change)."""
    try:
        names = subprocess.run(
            ["git", "ls-tree", "-r", "--name-only", PRE_FIX, f"environments/{family}"],
            cwd=ROOT, capture_output=True, text=True, check=True,
        ).stdout.split()  # fmt: skip
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"needs the git history of the repository ({exc})")
    package = f"prefix_{family}"
    for name in names:
        text = subprocess.run(
            ["git", "show", f"{PRE_FIX}:{name}"], cwd=ROOT, capture_output=True, text=True,
            check=True,
        ).stdout  # fmt: skip
        dest = tmp_path / package / Path(name).name
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(text.replace(f"llmgym.environments.{family}", package))
    sys.path.insert(0, str(tmp_path))
    module = importlib.import_module(f"{package}.env")
    old_class = getattr(module, class_name)

    class WholeWorldState(old_class):  # type: ignore[misc, valid-type]
        state_equivalences = OLD_BOOKKEEPING

        def canonical_state(self) -> dict[str, Any]:
            return json.loads(json.dumps(_plain(self.world), default=str))

    env_id = f"prefix_test/{class_name}-v0"
    gym.register(id=env_id, entry_point=WholeWorldState)
    return env_id


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(str(v) for v in value)
    return value


@pytest.fixture
def clean_path():
    saved = list(sys.path)
    yield
    sys.path[:] = saved


def test_the_fuzzer_finds_the_old_trip_booking_money_gap(tmp_path, clean_path):
    env = make_unwrapped(_old_env("trip_booking", "TripBookingEnv", tmp_path), max_turns=500)
    report = fuzz_env(env, "old TripBooking", env.task_ids("test")[:2], max_mutants=60)
    # book something extra, then cancel it: the old verifier looked at active bookings only
    extra_then_cancel = [
        f for f in report.findings if ", then cancel_reservation(" in f.mutant
        and any(d.startswith("reservations/R9002/") for d in f.differences)
    ]  # fmt: skip
    assert extra_then_cancel, [str(f) for f in report.findings[:5]]


@pytest.mark.slow  # about a minute: 3 tasks of the old TicketClose, up to 240 mutants each
def test_the_fuzzer_finds_the_old_ticket_close_reply_and_leak_gaps(tmp_path, clean_path):
    env = make_unwrapped(_old_env("ticket_close", "TicketCloseEnv", tmp_path), max_turns=500)
    ids = env.task_ids("test")
    report = fuzz_env(env, "old TicketClose", ids[:: len(ids) // 3][:3], max_mutants=120)
    kinds = {
        kind
        for f in report.findings
        for kind in ("with a contradiction appended", "reduced to its ids", "leaking")
        if kind in f.mutant
    }
    assert kinds == {"with a contradiction appended", "reduced to its ids", "leaking"}, [
        str(f) for f in report.findings[:10]
    ]


@pytest.mark.parametrize("env_id", ["llmgym/TripBooking-v0", "llmgym/TicketClose-v0"])
def test_the_fuzzer_finds_nothing_on_the_fixed_verifiers(env_id):
    env = make_unwrapped(env_id, max_turns=500)
    ids = env.task_ids("test")
    report = fuzz_env(env, env_id, ids[:: len(ids) // 4][:4], max_mutants=120)
    assert report.mutants > 100 and report.rewarded > 0
    assert not report.findings, [str(f) for f in report.findings[:10]]
