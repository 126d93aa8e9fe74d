from structs.intervals import merge


def test_merge_overlapping():
    assert merge([(1, 3), (2, 5)]) == [(1, 5)]
