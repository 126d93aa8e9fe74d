"""Probes of calendar_utils: month arithmetic over many years and both signs, leap rules,
business days around weekends and holidays, date and duration parsing."""

from __future__ import annotations

import datetime as dt
import random

from llmgym.environments.bug_fix.probes import ProbeSet, call, text

M, B, P = "calutil.months:", "calutil.business:", "calutil.parsing:"
EDGE_YEARS = [
    1,
    4,
    99,
    100,
    200,
    300,
    400,
    1600,
    1700,
    1800,
    1900,
    1996,
    2000,
    2023,
    2024,
    2100,
    2400,
]
UNITS = "wdhms"


def a_date(rng: random.Random, lo: int = 1000, hi: int = 3000) -> dt.date:
    year, month = rng.randint(lo, hi), rng.randint(1, 12)
    day = rng.choice([1, 15, 28, 29, 30, 31, rng.randint(1, 31)])
    while True:
        try:
            return dt.date(year, month, day)
        except ValueError:
            day -= 1


def build(probes: ProbeSet, rng: random.Random) -> None:
    years = EDGE_YEARS + [rng.randint(-400, 3000) for _ in range(80)]
    probes.calls(M + "is_leap_year", [(y,) for y in years])
    probes.calls(
        M + "days_in_month", [(y, m) for y in (1900, 2000, 2023, 2024) for m in range(-1, 15)]
    )
    probes.calls(
        M + "days_in_month", [(rng.randint(1, 3000), rng.randint(0, 13)) for _ in range(80)]
    )

    hidden = [(dt.date(2024, 1, 31), 1), (dt.date(2023, 1, 31), 1), (dt.date(2024, 11, 10), 3),
              (dt.date(2024, 1, 10), -2), (dt.date(2024, 12, 1), 1), (dt.date(2024, 3, 15), 1)]  # fmt: skip
    offsets = [
        0,
        1,
        -1,
        2,
        -2,
        11,
        -11,
        12,
        -12,
        13,
        -13,
        23,
        24,
        25,
        -24,
        -25,
        120,
        -120,
        1200,
        -1200,
    ]
    probes.calls(M + "add_months", hidden)
    probes.calls(M + "add_months", [(a_date(rng), rng.choice(offsets)) for _ in range(150)])
    probes.calls(M + "add_months", [(a_date(rng), rng.randint(-600, 600)) for _ in range(150)])
    probes.calls(M + "end_of_month", [(a_date(rng),) for _ in range(60)])
    probes.calls(M + "end_of_month", [(dt.date(y, 2, 3),) for y in (1900, 2000, 2023, 2024)])
    probes.calls(M + "quarter", [(dt.date(2024, m, rng.randint(1, 28)),) for m in range(1, 13)])
    pairs = [(dt.date(2024, 1, 15), dt.date(2024, 3, 15)), (dt.date(2024, 1, 31), dt.date(2024, 2, 28)),
             (dt.date(2024, 3, 15), dt.date(2024, 1, 15)), (dt.date(2024, 3, 10), dt.date(2024, 1, 20))]  # fmt: skip
    for _ in range(250):
        start = a_date(rng, 1900, 2100)
        end = rng.choice(
            [start + dt.timedelta(days=rng.randint(-4000, 4000)), a_date(rng, 1900, 2100)]
        )
        pairs.append((start, end))
    pairs += [(d, d) for d in (dt.date(2024, 1, 31), dt.date(2023, 12, 1))]
    for _ in range(60):  # same month, either day first
        d = a_date(rng, 1900, 2100)
        pairs.append((d, d.replace(day=rng.randint(1, 28))))
    probes.calls(M + "months_between", pairs)

    holidays = [set(), {dt.date(2024, 6, 5)}, {dt.date(2024, 6, 7), dt.date(2024, 6, 10)}]
    base = dt.date(2024, 6, 3)
    days = [base + dt.timedelta(days=rng.randint(-40, 40)) for _ in range(120)]
    probes.calls(B + "is_business_day", [(d, rng.choice(holidays)) for d in days[:40]])
    probes.calls(
        B + "business_days_between",
        [(base, base + dt.timedelta(days=7), holidays[1]), (base, base)],
    )
    probes.calls(B + "business_days_between", [
        (d, d + dt.timedelta(days=rng.randint(-30, 30)), rng.choice(holidays)) for d in days
    ])  # fmt: skip
    probes.calls(
        B + "add_business_days",
        [(dt.date(2024, 6, 7), 1), (base, -2), (dt.date(2024, 6, 8), 0), (base, 10)],
    )
    probes.calls(B + "add_business_days", [
        (d, rng.randint(-25, 25), rng.choice(holidays)) for d in days
    ])  # fmt: skip
    probes.calls(B + "next_business_day", [(d, rng.choice(holidays)) for d in days[:40]])

    dates = ["2024-02-29", " 29/02/2024 ", "1/12/2023", "2023-02-29", "2024-13-01", "31/04/2024",
             "2024/01/01", "0/01/2024", "", "  ", "2024-1-01", "24-01-01", "abc", "2024-00-10",
             "00/01/2024", "1/1/0001", "9999-12-31", "2024-02-30", "29/2/2023", "2024-12-31\n"]  # fmt: skip
    for _ in range(150):
        d = a_date(rng, 1, 9999)
        day = d.day + rng.choice([0, 0, 0, 1, 2])
        shapes = [f"{d.year:04d}-{d.month:02d}-{day:02d}", f"{day}/{d.month}/{d.year:04d}",
                  f"{day:02d}/{d.month:02d}/{d.year:04d}", f" {d.year:04d}-{d.month:02d}-{day:02d}  "]  # fmt: skip
        dates.append(rng.choice(shapes))
    probes.calls(P + "parse_date", [(t,) for t in dates])

    durations = ["1w2d", "45s", "2 h 5 m", "1H", "5x", "", "h1", "1hjunk", "1.5h", " ", "0s",
                 "1h 30", "-1h", "10m10m", "1d 1d", "007s", "1W1D1H1M1S"]  # fmt: skip
    for _ in range(200):
        parts = [f"{rng.randint(0, 99)}{' ' * rng.randint(0, 1)}{rng.choice(UNITS + UNITS.upper())}"
                 for _ in range(rng.randint(1, 4))]  # fmt: skip
        durations.append(" ".join(parts) if rng.random() < 0.3 else "".join(parts))
    durations += [text(rng, list("12wdhms x."), 1, 6) for _ in range(60)]
    probes.calls(P + "parse_duration", [(t,) for t in durations])

    seconds = [0, 1, 59, 60, 61, 3599, 3600, 5400, 86399, 86400, 86401, 90061, 604799, 604800,
               604801, 1209600]  # fmt: skip
    seconds += [rng.randint(0, 3_000_000) for _ in range(120)]
    probes.calls(P + "format_duration", [(s,) for s in seconds])
    round_trip = P + "parse_duration"
    for s in seconds[:60]:
        probes.add(
            "duration round trip", {"do": call(round_trip, call(P + "format_duration", s)).data}
        )
