"""The ``llmgym`` command line, run as a real subprocess."""

import subprocess
import sys

from llmgym.cli import parse_typed_call


def llmgym(*args, stdin=None):
    return subprocess.run(
        [sys.executable, "-m", "llmgym", *args],  # llmgym/__main__.py
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_list():
    out = llmgym("list")
    assert out.returncode == 0 and "llmgym/TripBooking-v0" in out.stdout


def test_check_passes_on_trip_booking():
    out = llmgym("check", "llmgym/TripBooking-v0", "--limit", "10")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "FAIL" not in out.stdout and "OK: 0 check(s) failed" in out.stdout


def test_check_unknown_id_explains():
    out = llmgym("check", "llmgym/Nope-v0")
    assert out.returncode == 1 and "is the id registered" in out.stdout


def test_play_as_a_person_and_with_the_expert():
    typed = "get_profile\n:hint\nhello?\nsubmit\n"
    out = llmgym(
        "play", "llmgym/TripBooking-v0", "--seed", "2", "--difficulty", "easy", stdin=typed
    )
    assert out.returncode == 0, out.stderr
    assert '"payment_methods"' in out.stdout and "(invalid action)" in out.stdout
    assert "Episode over: submitted. Reward 0.0." in out.stdout
    out = llmgym("play", "llmgym/TripBooking-v0", "--task-id", "test-0002", "--expert")
    assert "Reward 1.0." in out.stdout


def test_bad_input_gets_a_clear_error():
    out = llmgym("play", "llmgym/TripBooking-v0", "--task-id", "test-99999")
    assert out.returncode == 2 and "unknown task_id" in out.stderr
    out = llmgym("play", "llmgym/TripBokking-v0", "--expert")  # was a Gymnasium traceback
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "'llmgym/TripBokking-v0'" in out.stderr and "llmgym/TripBooking-v0" in out.stderr
    out = llmgym("freeze", "llmgym/TripBokking-v0")
    assert out.returncode == 2 and "'llmgym/TripBokking-v0'" in out.stderr
    out = llmgym("check", "llmgym/TripBooking-v0", "--limit", "-1")  # was: all tasks but one
    assert out.returncode == 2 and "--limit: got '-1', expected a whole number >= 1" in out.stderr


def test_freeze_refuses_a_count_before_it_writes_the_split():
    """``--count 0`` used to overwrite the shipped test split with an empty file."""
    from pathlib import Path

    split = Path(__file__).parents[1] / "tasks" / "trip_booking" / "test.jsonl"
    before = split.read_bytes()
    for count in ("0", "-5", "ten"):
        out = llmgym("freeze", "llmgym/TripBooking-v0", "--count", count)
        assert out.returncode == 2 and f"--count: got {count!r}" in out.stderr
    assert split.read_bytes() == before


def test_typed_call_shorthand():
    assert parse_typed_call("book passengers='[\"Ann Lee\"]' n=2 code=BOS") == (
        '<tool_call>{"name": "book", "arguments": {"passengers": ["Ann Lee"], "n": 2, "code": "BOS"}}</tool_call>'
    )
    assert parse_typed_call("just some words here") == "just some words here"
