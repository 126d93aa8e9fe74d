"""Business-day arithmetic (Monday..Friday, with an optional holiday set)."""

import datetime as dt

WEEKEND = {5, 6}


def is_business_day(date, holidays=()):
    return date.weekday() not in WEEKEND and date not in holidays


def business_days_between(start, end, holidays=()):
    """Business days in the half-open range [start, end)."""
    if end < start:
        return -business_days_between(end, start, holidays)
    count = 0
    day = start
    while day < end:
        if is_business_day(day, holidays):
            count += 1
        day += dt.timedelta(days=1)
    return count


def add_business_days(date, days, holidays=()):
    """The date ``days`` business days after ``date`` (before it if negative)."""
    step = 1 if days >= 0 else -1
    remaining = abs(days)
    while remaining > 0:
        date += dt.timedelta(days=step)
        if is_business_day(date, holidays):
            remaining -= 1
    return date


def next_business_day(date, holidays=()):
    return add_business_days(date, 1, holidays)
