import datetime as dt

import pytest

from calutil.parsing import format_duration, parse_date, parse_duration


def test_parse_iso_and_european_dates():
    """Both 2024-02-29 and 29/02/2024 mean the leap day."""
    assert parse_date("2024-02-29") == dt.date(2024, 2, 29)
    assert parse_date(" 29/02/2024 ") == dt.date(2024, 2, 29)
    assert parse_date("1/12/2023") == dt.date(2023, 12, 1)


def test_parse_date_rejects_impossible_days():
    """February 30 and month 13 are not dates."""
    for bad in ["2023-02-29", "2024-13-01", "31/04/2024", "2024/01/01", "0/01/2024"]:
        with pytest.raises(ValueError):
            parse_date(bad)


def test_parse_duration_units():
    """'1w2d', '45s', '2 h 5 m' all parse."""
    assert parse_duration("1w2d") == 9 * 86400
    assert parse_duration("45s") == 45
    assert parse_duration("2 h 5 m") == 2 * 3600 + 300
    assert parse_duration("1H") == 3600


def test_parse_duration_rejects_junk():
    """'5x', '', 'h1' and '1h junk' are errors."""
    for bad in ["5x", "", "h1", "1hjunk", "1.5h"]:
        with pytest.raises(ValueError):
            parse_duration(bad)


def test_format_duration():
    """5400 seconds print as 1h30m, a day and a second as 1d1s, zero as 0s."""
    assert format_duration(5400) == "1h30m"
    assert format_duration(86401) == "1d1s"
    assert format_duration(0) == "0s"
    assert format_duration(604800) == "1w"


def test_round_trip():
    """Formatting then parsing gives back the same number of seconds."""
    for seconds in [1, 59, 60, 3599, 3600, 90061, 1209600]:
        assert parse_duration(format_duration(seconds)) == seconds
