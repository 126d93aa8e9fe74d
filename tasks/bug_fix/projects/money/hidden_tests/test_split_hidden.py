import pytest

from money import Money, allocate, split_evenly
from money.split import bill_total, tip


def test_split_gives_leftover_to_first():
    """Splitting $10.00 three ways should give $3.34, $3.33, $3.33."""
    assert split_evenly(Money(1000), 3) == [Money(334), Money(333), Money(333)]


def test_split_one_person():
    """One person pays the whole bill."""
    assert split_evenly(Money(999), 1) == [Money(999)]


def test_split_needs_people():
    """Splitting between zero people should be an error."""
    with pytest.raises(ValueError):
        split_evenly(Money(100), 0)


def test_allocate_by_ratio():
    """Allocating $1.00 70/30 should give $0.70 and $0.30."""
    assert allocate(Money(100), [70, 30]) == [Money(70), Money(30)]


def test_allocate_uneven_keeps_total():
    """Allocating $0.05 in ratio 1:1:1 keeps all five cents: 2, 2, 1."""
    assert allocate(Money(5), [1, 1, 1]) == [Money(2), Money(2), Money(1)]


def test_allocate_rejects_bad_ratios():
    """Empty, negative or all-zero ratios should be refused."""
    for bad in [[], [1, -1], [0, 0]]:
        with pytest.raises(ValueError):
            allocate(Money(100), bad)


def test_allocate_keeps_currency():
    """Allocating euros gives euros."""
    assert {m.currency for m in allocate(Money(100, "EUR"), [1, 2])} == {"EUR"}


def test_default_tip_is_fifteen_percent():
    """The default tip on $40.00 should be $6.00."""
    assert tip(Money(4000)) == Money(600)


def test_bill_total():
    """$10 + $20 with 10% tax and a 20% tip should come to $39.00."""
    assert bill_total([Money(1000), Money(2000)], tax_rate=10, tip_rate=20) == Money(3900)
    assert bill_total([]) == Money(0)
    assert bill_total([Money(1234)]) == Money(1234)
