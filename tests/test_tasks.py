"""Fixed splits: hash checking, and train/test disjointness."""

import shutil

import pytest
from pydantic import ValidationError

from llmgym.tasks import (
    InvalidTaskSpec,
    SplitIntegrityError,
    Task,
    TaskSpec,
    file_sha256,
    parse_train_task_id,
    read_split,
    split_path,
)


def test_a_modified_split_is_refused(tmp_path):
    original = split_path("trip_booking", "test")
    copy = tmp_path / "test.jsonl"
    shutil.copy(original, copy)
    sha = file_sha256(copy)
    assert len(read_split(copy, sha)) >= 100
    text = copy.read_text().replace('"difficulty":"easy"', '"difficulty":"hard"', 1)
    assert text != copy.read_text()
    copy.write_text(text)
    with pytest.raises(SplitIntegrityError, match="was modified"):
        read_split(copy, sha)


def test_train_ids_round_trip():
    assert parse_train_task_id("train-hard-42") == ("hard", 42)
    assert parse_train_task_id("test-0001") is None
    assert parse_train_task_id("train-x-y") is None


def test_max_matching_finds_the_pairing_greedy_misses():
    from llmgym.matching import max_matching

    # slot 0 fits items 0 and 1, slot 1 fits item 0 only: greedy 0->0 leaves slot 1 unmatched
    fits = {(0, 0), (1, 0), (0, 1)}
    assert max_matching([0, 1], [0, 1], lambda item, slot: (item, slot) in fits) == 2
    assert max_matching([0, 1], [0], lambda item, slot: True) == 1
    assert max_matching([], [0], lambda item, slot: True) == 0


class _Slot(TaskSpec):
    city: str
    nights: int


class _Spec(TaskSpec):
    request: str
    slots: tuple[_Slot, ...]


def _task(spec):
    return Task(task_id="t-1", split="train", difficulty="easy", seed=1, spec=spec)


def test_a_task_spec_reads_the_json_as_a_frozen_typed_record():
    spec = _Spec.of(_task({"request": "two nights", "slots": [{"city": "BOS", "nights": 2}]}))
    assert spec.slots == (_Slot(city="BOS", nights=2),)
    with pytest.raises(ValidationError):
        spec.slots[0].nights = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    ("spec", "names"),
    [
        ({"request": "x", "slots": [{"city": "BOS", "nights": "2"}]}, "slots.0.nights"),
        ({"request": "x", "slots": [{"city": "BOS", "nights": 2, "extra": 1}]}, "slots.0.extra"),
        ({"request": "x"}, "slots"),
        ({"request": 3, "slots": []}, "request"),
    ],
)
def test_a_spec_of_the_wrong_shape_names_the_task_and_the_field(spec, names):
    with pytest.raises(InvalidTaskSpec) as caught:
        _Spec.of(_task(spec))
    assert "'t-1'" in str(caught.value) and "_Spec" in str(caught.value)
    assert names in str(caught.value)
