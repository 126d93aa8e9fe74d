import datetime as dt

import pytest

from calutil.months import (
    add_months,
    days_in_month,
    end_of_month,
    is_leap_year,
    months_between,
    quarter,
)


def test_century_leap_rules():
    """1900 was not a leap year but 2000 was."""
    assert not is_leap_year(1900)
    assert is_leap_year(2000)
    assert is_leap_year(1996)


def test_month_lengths():
    """April has 30 days, December 31, February 2023 has 28."""
    assert days_in_month(2024, 4) == 30
    assert days_in_month(2024, 12) == 31
    assert days_in_month(2024, 1) == 31
    assert days_in_month(2023, 2) == 28


def test_bad_month_rejected():
    """Month 0 and month 13 should be rejected."""
    for bad in (0, 13):
        with pytest.raises(ValueError):
            days_in_month(2024, bad)


def test_add_months_clamps_to_month_end():
    """January 31 plus one month should be February 29 in 2024."""
    assert add_months(dt.date(2024, 1, 31), 1) == dt.date(2024, 2, 29)
    assert add_months(dt.date(2023, 1, 31), 1) == dt.date(2023, 2, 28)


def test_add_months_across_years():
    """November 2024 plus three months is February 2025; minus two months of January is November."""
    assert add_months(dt.date(2024, 11, 10), 3) == dt.date(2025, 2, 10)
    assert add_months(dt.date(2024, 1, 10), -2) == dt.date(2023, 11, 10)
    assert add_months(dt.date(2024, 12, 1), 1) == dt.date(2025, 1, 1)


def test_end_of_month():
    """The last day of February 2024 is the 29th."""
    assert end_of_month(dt.date(2024, 2, 3)) == dt.date(2024, 2, 29)


def test_quarters():
    """March is in Q1, April in Q2, December in Q4."""
    assert [quarter(dt.date(2024, m, 1)) for m in (1, 3, 4, 6, 7, 12)] == [1, 1, 2, 2, 3, 4]


def test_months_between():
    """Jan 31 to Feb 28 is less than a whole month; Jan 15 to Mar 15 is two."""
    assert months_between(dt.date(2024, 1, 15), dt.date(2024, 3, 15)) == 2
    assert months_between(dt.date(2024, 1, 31), dt.date(2024, 2, 28)) == 0
    assert months_between(dt.date(2024, 3, 15), dt.date(2024, 1, 15)) == -2
    assert months_between(dt.date(2024, 3, 10), dt.date(2024, 1, 20)) == -1
