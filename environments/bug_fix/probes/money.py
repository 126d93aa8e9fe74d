"""Probes of money: arithmetic and rounding of Money values (signs, halves, currencies),
formatting across thousands, parsing of written amounts, allocation and bills."""

from __future__ import annotations

import random

from llmgym.environments.bug_fix.probes import ProbeSet, call, ref, step, text

A, S = "money.amount:", "money.split:"
CURRENCIES = ["USD", "EUR", "GBP", "CHF"]
FACTORS = [0.5, -0.5, 1.5, 2.5, 0.1, 0.15, 0.333, 1.005, 2, 0, -1, 3, 0.075, 10.0, 0.01]
CENTS = [
    0,
    1,
    -1,
    5,
    -5,
    50,
    99,
    100,
    150,
    275,
    999,
    1000,
    99999,
    100000,
    123456,
    100000000,
    -123456789,
]


def money(cents: int, currency: str = "USD"):
    return call(A + "Money", cents, currency)


def build(probes: ProbeSet, rng: random.Random) -> None:
    amounts = (
        CENTS
        + [rng.randint(-(10**9), 10**9) for _ in range(60)]
        + [rng.randint(-999, 999) for _ in range(40)]
    )
    for cents in amounts:
        m = money(cents, rng.choice(CURRENCIES[:3]))
        probes.add("Money format", step(call(A + "Money.format", m)), step(call("builtins:str", m)),
                   step(call(A + "Money.format", m, symbol=False)), step(call(A + "Money.format", m, thousands=" ")),
                   step(call(A + "Money.is_zero", m)), step(call("operator:neg", m)))  # fmt: skip
    for _ in range(200):
        a, b = rng.choice(amounts), rng.choice(amounts)
        ca = rng.choice(CURRENCIES[:2])
        cb = ca if rng.random() < 0.85 else rng.choice(CURRENCIES)
        probes.add(
            "Money arithmetic",
            step(money(a, ca), bind="a"),
            step(money(b, cb), bind="b"),
            *(
                step(call(f"operator:{op}", ref("a"), ref("b")))
                for op in ("add", "sub", "lt", "le", "eq")
            ),
            step(call("operator:add", ref("a"), rng.choice([5, 1.5, "x"]))),
        )
    for _ in range(200):
        factor = rng.choice([*FACTORS, round(rng.uniform(-3, 3), rng.randint(1, 4))])
        m = money(rng.choice(amounts))
        probes.add("Money.times", step(call(A + "Money.times", m, factor)))
        probes.add(
            "Money.percent",
            step(call(A + "Money.percent", m, rng.choice([7.5, 15, 20, 0, 100, 12.5, -10]))),
        )

    texts = ["$1,234.56", "-12.5", "7", "€3.10", ".99", "12.345", "1.2.3", "abc", "", "$", "-$0.05",
             "£1,000", "  42.00 ", "1,2,3", "0.5", "-", "$-5", "5.", "USD 5", "--5"]  # fmt: skip
    for _ in range(150):
        body = f"{rng.randint(0, 10**7):,}" if rng.random() < 0.5 else str(rng.randint(0, 10**5))
        frac = rng.choice(
            [
                "",
                ".",
                "." + str(rng.randint(0, 9)),
                f".{rng.randint(0, 99):02d}",
                f".{rng.randint(0, 999):03d}",
            ]
        )
        texts.append(rng.choice(["", "-"]) + rng.choice(["", "$", "€", "£"]) + body + frac)
    texts += [text(rng, list("$-.,1203a "), 1, 7) for _ in range(60)]
    probes.calls(A + "parse_money", [(t,) for t in texts])
    probes.calls(A + "parse_money", [(t, "EUR") for t in texts[:40]])

    ratios = [[70, 30], [1, 1, 1], [], [1, -1], [0, 0], [1, 2], [0, 1], [3], [1, 0, 2]]
    ratios += [[rng.randint(0, 9) for _ in range(rng.randint(1, 6))] for _ in range(100)]
    ratios += [[rng.randint(-3, 9) for _ in range(rng.randint(1, 4))] for _ in range(30)]
    for r in ratios:
        total = money(rng.choice([*amounts[:30], 1000, 5, 100]), rng.choice(CURRENCIES[:2]))
        probes.add(S + "allocate", step(call(S + "allocate", total, r)))
    for people in range(-1, 9):
        for cents in (0, 1, 999, 1000, 12345, -100):
            probes.add(S + "split_evenly", step(call(S + "split_evenly", money(cents), people)))
    probes.calls(S + "tip", [(money(c),) for c in (4000, 0, 1234, 999, -500)])
    probes.calls(
        S + "tip",
        [(money(rng.choice(amounts)), rng.choice([0, 10, 15, 18, 20, 22.5])) for _ in range(40)],
    )
    bills = [[1000, 2000], [], [1234]] + [
        [rng.randint(0, 10**5) for _ in range(rng.randint(0, 5))] for _ in range(60)
    ]
    for items in bills:
        probes.add(S + "bill_total", step(call(S + "bill_total", [money(c) for c in items])))
        probes.add(S + "bill_total", step(call(S + "bill_total", [money(c) for c in items], 10)))
        for tax, tip in [
            (10, 20),
            (0, 0),
            (rng.choice([0, 5, 7.5, 20]), rng.choice([0, 10, 15, 18])),
        ]:
            probes.add(
                S + "bill_total",
                step(call(S + "bill_total", [money(c) for c in items], tax_rate=tax, tip_rate=tip)),
            )
