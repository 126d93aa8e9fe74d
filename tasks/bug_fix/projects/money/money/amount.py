"""A Money value: an integer number of cents and a currency code."""

from dataclasses import dataclass

CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}


@dataclass(frozen=True, order=True)
class Money:
    cents: int
    currency: str = "USD"

    def _check(self, other):
        if not isinstance(other, Money):
            raise TypeError(f"expected Money, got {type(other).__name__}")
        if other.currency != self.currency:
            raise ValueError(f"currency mismatch: {self.currency} vs {other.currency}")

    def __add__(self, other):
        self._check(other)
        return Money(self.cents + other.cents, self.currency)

    def __sub__(self, other):
        self._check(other)
        return Money(self.cents - other.cents, self.currency)

    def __neg__(self):
        return Money(-self.cents, self.currency)

    def times(self, factor):
        """Multiply by a number, rounding half away from zero to the cent."""
        exact = self.cents * factor
        rounded = int(abs(exact) + 0.5)
        return Money(rounded if exact >= 0 else -rounded, self.currency)

    def percent(self, rate):
        """``rate`` percent of this amount (e.g. 7.5 for a 7.5% tax)."""
        return self.times(rate / 100)

    def is_zero(self):
        return self.cents == 0

    def format(self, symbol=True, thousands=","):
        """Render like ``$1,234.56`` (or ``-$0.05`` for negative amounts)."""
        sign = "-" if self.cents < 0 else ""
        whole, frac = divmod(abs(self.cents), 100)
        digits = str(whole)
        groups = []
        while len(digits) > 3:
            groups.insert(0, digits[-3:])
            digits = digits[:-3]
        groups.insert(0, digits)
        prefix = CURRENCY_SYMBOLS.get(self.currency, self.currency + " ") if symbol else ""
        return f"{sign}{prefix}{thousands.join(groups)}.{frac:02d}"

    def __str__(self):
        return self.format()


def parse_money(text, currency="USD"):
    """Parse ``"$1,234.56"``, ``"-12.5"``, ``"7"`` into Money; raise ValueError on junk."""
    cleaned = text.strip().replace(",", "")
    negative = cleaned.startswith("-")
    if negative:
        cleaned = cleaned[1:]
    for code, sym in CURRENCY_SYMBOLS.items():
        if cleaned.startswith(sym):
            cleaned = cleaned[len(sym) :]
            currency = code
            break
    if not cleaned or cleaned.count(".") > 1:
        raise ValueError(f"not an amount: {text!r}")
    whole, _, frac = cleaned.partition(".")
    if not whole.isdigit() and whole != "":
        raise ValueError(f"not an amount: {text!r}")
    if frac and (not frac.isdigit() or len(frac) > 2):
        raise ValueError(f"not an amount: {text!r}")
    cents = int(whole or "0") * 100 + int(frac.ljust(2, "0") or "0")
    return Money(-cents if negative else cents, currency)
