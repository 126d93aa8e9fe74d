import datetime as dt

from calutil.business import business_days_between


def test_one_week_has_five_business_days():
    assert business_days_between(dt.date(2024, 6, 3), dt.date(2024, 6, 10)) == 5
