"""Leap years, month lengths and adding months to a date."""

import datetime as dt

MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]


def is_leap_year(year):
    """Gregorian rule: every 4th year, except centuries not divisible by 400."""
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def days_in_month(year, month):
    if not 1 <= month <= 12:
        raise ValueError(f"month must be 1..12, got {month}")
    if month == 2 and is_leap_year(year):
        return 29
    return MONTH_DAYS[month - 1]


def add_months(date, months):
    """Same day ``months`` later, clamped to the end of shorter months (Jan 31 + 1 = Feb 28)."""
    index = date.year * 12 + (date.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    day = min(date.day, days_in_month(year, month))
    return dt.date(year, month, day)


def end_of_month(date):
    return dt.date(date.year, date.month, days_in_month(date.year, date.month))


def quarter(date):
    """Calendar quarter 1..4 of ``date``."""
    return (date.month - 1) // 3 + 1


def months_between(start, end):
    """Whole months from ``start`` to ``end`` (negative if end is earlier)."""
    months = (end.year - start.year) * 12 + (end.month - start.month)
    if months > 0 and end.day < start.day:
        months -= 1
    elif months < 0 and end.day > start.day:
        months += 1
    return months
