"""``mix_seed``: the one formula for derived seeds."""

from llmgym.seeds import SEED_MODULUS, mix_seed


def test_derived_seeds_are_valid_distinct_and_stable():
    assert mix_seed(7, 3, 2, 1) == (7 * 1_000_003 + 3 * 10_007 + 2 * 101 + 1)
    big = mix_seed(10**30, 10**20, 10**10, 10**5)
    assert 0 <= big < SEED_MODULUS  # a run seed of any size still gives a valid train seed
    seen = {mix_seed(s, step, g, i) for s in range(3) for step in range(20) for g in range(8)
            for i in range(8)}  # fmt: skip
    assert len(seen) == 3 * 20 * 8 * 8
