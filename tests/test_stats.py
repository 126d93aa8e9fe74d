"""Held-out statistics, checked against values computed independently."""

import pytest

from llmgym.stats import mcnemar_exact, wilson


def test_wilson_interval_matches_the_closed_form():
    assert wilson(8, 40) == pytest.approx((0.1050, 0.3476), abs=1e-4)
    assert wilson(0, 40) == pytest.approx((0.0, 0.0876), abs=1e-4)
    assert wilson(40, 40)[1] == pytest.approx(1.0)
    assert wilson(0, 0) == (0.0, 1.0)


def test_mcnemar_counts_only_the_discordant_tasks():
    before = [1, 0, 0, 1, 0] + [0] * 12
    after = [1, 1, 1, 0, 0] + [1] * 12
    result = mcnemar_exact(before, after)
    assert (result.gained, result.lost) == (14, 1)
    # two-sided binomial(15, 1/2) tail at 1: 2 * (1 + 15) / 2**15
    assert result.p_value == pytest.approx(2 * 16 / 2**15)
    assert mcnemar_exact([0] * 13 + [1] * 27, [1] * 40).p_value == pytest.approx(2 / 2**13)


def test_mcnemar_of_identical_results_is_one_and_unpaired_results_are_refused():
    assert mcnemar_exact([1, 0, 1], [1, 0, 1]).p_value == 1.0
    with pytest.raises(ValueError, match="same tasks"):
        mcnemar_exact([1, 0], [1, 0, 1])
