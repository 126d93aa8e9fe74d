"""Fixed splits: hash checking, and train/test disjointness."""

import shutil

import pytest

from llmgym.tasks import (
    SplitIntegrityError,
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
