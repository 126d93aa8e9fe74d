import datetime as dt

from calutil.months import add_months, days_in_month, is_leap_year


def test_leap_years():
    assert is_leap_year(2024) and not is_leap_year(2023)


def test_days_in_february():
    assert days_in_month(2024, 2) == 29


def test_add_one_month():
    assert add_months(dt.date(2024, 3, 15), 1) == dt.date(2024, 4, 15)
