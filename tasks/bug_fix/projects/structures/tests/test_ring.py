from structs.ring import RingBuffer


def test_append_within_capacity():
    ring = RingBuffer(3)
    ring.append(1)
    ring.append(2)
    assert ring.to_list() == [1, 2]
