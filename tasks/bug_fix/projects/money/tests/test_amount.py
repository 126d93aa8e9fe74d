from money import Money, parse_money


def test_add():
    assert Money(150) + Money(275) == Money(425)


def test_format_simple():
    assert Money(123456).format() == "$1,234.56"


def test_parse_plain():
    assert parse_money("12.50") == Money(1250)
