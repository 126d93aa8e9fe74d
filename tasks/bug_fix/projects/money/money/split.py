"""Splitting an amount into parts without losing or inventing a cent."""

from money.amount import Money


def allocate(total, ratios):
    """Split ``total`` in proportion to ``ratios``; leftover cents go to the first parts."""
    if not ratios:
        raise ValueError("ratios must not be empty")
    if any(r < 0 for r in ratios):
        raise ValueError(f"ratios must be non-negative, got {ratios}")
    weight = sum(ratios)
    if weight == 0:
        raise ValueError("ratios must not all be zero")
    shares = [total.cents * r // weight for r in ratios]
    leftover = total.cents - sum(shares)
    for i in range(leftover):
        shares[i % len(shares)] += 1
    return [Money(s, total.currency) for s in shares]


def split_evenly(total, people):
    """Split ``total`` between ``people`` as evenly as possible."""
    if people < 1:
        raise ValueError(f"need at least one person, got {people}")
    return allocate(total, [1] * people)


def tip(bill, rate=15):
    """The tip for ``bill`` at ``rate`` percent, rounded to the cent."""
    return bill.percent(rate)


def bill_total(items, tax_rate=0, tip_rate=0):
    """Sum of ``items`` plus tax on the sum, plus tip on the pre-tax sum."""
    if not items:
        return Money(0)
    subtotal = items[0]
    for item in items[1:]:
        subtotal = subtotal + item
    return subtotal + subtotal.percent(tax_rate) + tip(subtotal, tip_rate)
