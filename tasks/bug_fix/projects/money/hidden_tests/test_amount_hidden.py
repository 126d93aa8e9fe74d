import pytest

from money import Money, parse_money


def test_subtract():
    """Subtracting $2.75 from $1.50 should give -$1.25."""
    assert Money(150) - Money(275) == Money(-125)


def test_times_rounds_half_up():
    """Multiplying $0.05 by 0.5 should round to $0.03."""
    assert Money(5).times(0.5) == Money(3)


def test_times_negative_rounds_away_from_zero():
    """Multiplying -$0.05 by 0.5 should give -$0.03."""
    assert Money(-5).times(0.5) == Money(-3)


def test_percent():
    """7.5% of $200.00 should be $15.00."""
    assert Money(20000).percent(7.5) == Money(1500)


def test_format_small_and_negative():
    """$0.05 below zero should print as -$0.05, and $5 as $5.00."""
    assert Money(-5).format() == "-$0.05"
    assert Money(500).format() == "$5.00"


def test_format_exactly_thousand():
    """One thousand dollars should print as $1,000.00 and a million as $1,000,000.00."""
    assert Money(100000).format() == "$1,000.00"
    assert Money(100000000).format() == "$1,000,000.00"
    assert Money(99999).format() == "$999.99"


def test_format_other_currency_and_no_symbol():
    """Euros print with the euro sign; without a symbol only the number is printed."""
    assert Money(250, "EUR").format() == "€2.50"
    assert Money(123456).format(symbol=False) == "1,234.56"
    assert Money(123456).format(thousands=" ") == "$1 234.56"


def test_parse_variants():
    """Amounts with a symbol, thousands separators, one decimal or a minus sign all parse."""
    assert parse_money("$1,234.56") == Money(123456)
    assert parse_money("-12.5") == Money(-1250)
    assert parse_money("7") == Money(700)
    assert parse_money("€3.10") == Money(310, "EUR")
    assert parse_money(".99") == Money(99)


def test_parse_rejects_junk():
    """Nonsense like '12.345', '1.2.3' or 'abc' should be rejected."""
    for bad in ["12.345", "1.2.3", "abc", "", "$"]:
        with pytest.raises(ValueError):
            parse_money(bad)


def test_mixed_currency_refused():
    """Adding dollars to euros should fail loudly."""
    with pytest.raises(ValueError):
        Money(100) + Money(100, "EUR")
    with pytest.raises(TypeError):
        Money(100) + 5


def test_ordering_and_zero():
    """Amounts compare by value and zero is recognised."""
    assert Money(100) < Money(200)
    assert Money(0).is_zero() and not Money(1).is_zero()
    assert -Money(5) == Money(-5)
