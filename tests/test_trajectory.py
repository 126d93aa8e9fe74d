"""Trajectory record: validation of token/mask/logprob alignment and JSONL round trips."""

import pytest
from pydantic import ValidationError

from llmgym.trajectory import Trajectory, TurnSpan, read_jsonl, write_jsonl


def make_trajectory(**overrides):
    fields = dict(
        env_id="llmgym/TripBooking-v0",
        env_version="0",
        task_id="test-0001",
        seed=3,
        group_id="g0",
        messages=[
            {"role": "system", "content": "sys"},
            {"role": "user", "content": "book"},
            {"role": "assistant", "content": "<tool_call>{}</tool_call>"},
            {"role": "tool", "content": "ok", "tool_call_id": "c1"},
            {"role": "assistant", "content": "done"},
        ],
        reward=1.0,
        reward_components={"bookings": 1.0},
        terminated=True,
        termination_reason="submitted",
        # prompt 3 tokens, completion 2, tool delta 2, completion 1
        tokens=[1, 2, 3, 10, 11, 4, 5, 12],
        loss_mask=[0, 0, 0, 1, 1, 0, 0, 1],
        logprobs=[None, None, None, -0.1, -0.2, None, None, -0.3],
        turns=[
            TurnSpan(prompt_start=0, completion_start=3, completion_end=5),
            TurnSpan(prompt_start=5, completion_start=7, completion_end=8, invalid_action=True),
        ],
        model_version=2,
    )
    fields.update(overrides)
    return Trajectory(**fields)


def test_valid_trajectory_has_derived_counts():
    trajectory = make_trajectory()
    assert trajectory.num_turns == 2
    assert trajectory.num_sampled_tokens == 3
    assert trajectory.invalid_actions == 1
    assert trajectory.ok


def test_jsonl_round_trip(tmp_path):
    path = tmp_path / "t.jsonl"
    first, second = make_trajectory(), make_trajectory(task_id="test-0002", error="timeout")
    assert write_jsonl(path, [first]) == 1
    write_jsonl(path, [second], append=True)
    loaded = read_jsonl(path)
    assert loaded == [first, second]
    assert not loaded[1].ok


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"loss_mask": [0, 0, 0, 1, 1, 0, 0]}, "equal lengths"),
        ({"logprobs": [None, None, -1.0, -0.1, -0.2, None, None, -0.3]}, "logprobs\\[2\\]"),
        ({"logprobs": [None, None, None, None, -0.2, None, None, -0.3]}, "logprobs\\[3\\]"),
        ({"loss_mask": [0, 0, 0, 1, 2, 0, 0, 1]}, "loss_mask\\[4\\]"),
        (
            {"turns": [TurnSpan(prompt_start=1, completion_start=3, completion_end=5)]},
            "turns\\[0\\]",
        ),
        (
            {"turns": [TurnSpan(prompt_start=0, completion_start=3, completion_end=9)]},
            "turns\\[0\\]",
        ),
    ],
)
def test_inconsistent_records_are_rejected(overrides, message):
    with pytest.raises(ValidationError, match=message):
        make_trajectory(**overrides)


def test_turn_span_must_be_ordered():
    with pytest.raises(ValidationError, match="prompt_start <= completion_start"):
        TurnSpan(prompt_start=4, completion_start=3, completion_end=5)


def test_bad_jsonl_line_names_file_and_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(make_trajectory().model_dump_json() + "\n{not json}\n")
    with pytest.raises(ValueError, match=r"bad\.jsonl:2"):
        read_jsonl(path)
