from money import Money, split_evenly


def test_split_three_ways_keeps_every_cent():
    parts = split_evenly(Money(1000), 3)
    assert sum(p.cents for p in parts) == 1000
