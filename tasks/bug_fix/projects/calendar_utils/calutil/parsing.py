"""Parsing dates and durations written by people."""

import datetime as dt
import re

from calutil.months import days_in_month

_DURATION = re.compile(r"(\d+)\s*([wdhms])")
_UNIT_SECONDS = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_date(text):
    """Parse ``YYYY-MM-DD`` or ``DD/MM/YYYY``; raise ValueError with the bad text otherwise."""
    text = text.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        year, month, day = (int(p) for p in text.split("-"))
    elif re.fullmatch(r"\d{1,2}/\d{1,2}/\d{4}", text):
        day, month, year = (int(p) for p in text.split("/"))
    else:
        raise ValueError(f"unrecognised date: {text!r}")
    if not 1 <= month <= 12 or not 1 <= day <= days_in_month(year, month):
        raise ValueError(f"no such day: {text!r}")
    return dt.date(year, month, day)


def parse_duration(text):
    """``"1h30m"`` -> 5400 seconds; units w, d, h, m, s; raise ValueError on junk."""
    text = text.replace(" ", "").lower()
    if not text:
        raise ValueError("empty duration")
    total = 0
    pos = 0
    for match in _DURATION.finditer(text):
        if match.start() != pos:
            raise ValueError(f"bad duration: {text!r}")
        total += int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        pos = match.end()
    if pos != len(text):
        raise ValueError(f"bad duration: {text!r}")
    return total


def format_duration(seconds):
    """5400 -> ``"1h30m"``; 0 -> ``"0s"``."""
    if seconds == 0:
        return "0s"
    parts = []
    for unit in "wdhms":
        size = _UNIT_SECONDS[unit]
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)
