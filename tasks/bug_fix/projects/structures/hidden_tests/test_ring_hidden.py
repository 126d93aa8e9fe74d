import pytest

from structs.ring import RingBuffer


def test_overwrites_oldest():
    """A buffer of 3 fed 1..5 holds 3, 4, 5."""
    ring = RingBuffer(3)
    for i in range(1, 6):
        ring.append(i)
    assert ring.to_list() == [3, 4, 5]
    assert ring.is_full() and len(ring) == 3


def test_indexing():
    """Index 0 is the oldest, -1 the newest; out of range raises IndexError."""
    ring = RingBuffer(3)
    for i in range(1, 5):
        ring.append(i)
    assert ring[0] == 2 and ring[-1] == 4 and ring[-3] == 2
    with pytest.raises(IndexError):
        ring[3]
    with pytest.raises(IndexError):
        ring[-4]


def test_latest():
    """latest(2) gives the two newest items, oldest first; asking too many gives all."""
    ring = RingBuffer(4)
    for i in range(6):
        ring.append(i)
    assert ring.latest(2) == [4, 5]
    assert ring.latest(10) == [2, 3, 4, 5]
    assert ring.latest(0) == []


def test_not_full_until_filled():
    """A new buffer is empty and not full."""
    ring = RingBuffer(2)
    assert len(ring) == 0 and not ring.is_full()
    ring.append("x")
    assert not ring.is_full()
    with pytest.raises(ValueError):
        RingBuffer(0)
