import pytest

from structs.intervals import contains, gaps, merge, total_length


def test_merge_touching_and_unsorted():
    """(5,7) and (1,4) touch and merge into (1,7); (10,12) stays apart."""
    assert merge([(10, 12), (5, 7), (1, 4)]) == [(1, 7), (10, 12)]
    assert merge([(1, 2), (4, 5)]) == [(1, 2), (4, 5)]
    assert merge([]) == []


def test_merge_contained():
    """An interval inside another disappears."""
    assert merge([(1, 10), (2, 3)]) == [(1, 10)]


def test_merge_rejects_backwards():
    """(5, 1) is not an interval."""
    with pytest.raises(ValueError):
        merge([(5, 1)])


def test_total_length():
    """(1,3) and (2,6) cover 6 integers; a point covers 1."""
    assert total_length([(1, 3), (2, 6)]) == 6
    assert total_length([(4, 4)]) == 1


def test_contains():
    """Ends are included."""
    assert contains([(1, 3)], 3) and contains([(1, 3)], 1) and not contains([(1, 3)], 4)


def test_gaps():
    """In [0, 10] with (2,3) and (6,8) covered, the gaps are 0-1, 4-5 and 9-10."""
    assert gaps([(2, 3), (6, 8)], 0, 10) == [(0, 1), (4, 5), (9, 10)]
    assert gaps([(0, 10)], 0, 10) == []
    assert gaps([], 3, 4) == [(3, 4)]
    assert gaps([(-5, 2), (20, 30)], 0, 10) == [(3, 10)]
