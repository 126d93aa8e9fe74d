import datetime as dt

from calutil.business import (
    add_business_days,
    business_days_between,
    is_business_day,
    next_business_day,
)

MON = dt.date(2024, 6, 3)
FRI = dt.date(2024, 6, 7)
SAT = dt.date(2024, 6, 8)


def test_weekend_is_not_business():
    """Saturday and Sunday are not business days; Friday is."""
    assert not is_business_day(SAT)
    assert not is_business_day(SAT + dt.timedelta(days=1))
    assert is_business_day(FRI)


def test_holidays_are_skipped():
    """A holiday on Wednesday removes one business day from the week."""
    holiday = {dt.date(2024, 6, 5)}
    assert business_days_between(MON, MON + dt.timedelta(days=7), holiday) == 4


def test_same_day_range_is_empty():
    """From a day to itself there are no business days."""
    assert business_days_between(MON, MON) == 0


def test_reverse_range_is_negative():
    """Counting backwards gives a negative count."""
    assert business_days_between(MON + dt.timedelta(days=7), MON) == -5


def test_friday_plus_one_is_monday():
    """One business day after Friday is the next Monday."""
    assert add_business_days(FRI, 1) == dt.date(2024, 6, 10)
    assert next_business_day(FRI) == dt.date(2024, 6, 10)


def test_add_business_days_backwards():
    """Two business days before Monday is the previous Thursday."""
    assert add_business_days(MON, -2) == dt.date(2024, 5, 30)


def test_add_zero_business_days():
    """Adding zero business days keeps the date."""
    assert add_business_days(SAT, 0) == SAT


def test_ten_business_days():
    """Ten business days after Monday June 3 is Monday June 17."""
    assert add_business_days(MON, 10) == dt.date(2024, 6, 17)
