import pytest

from confparse.values import parse_bool, parse_query


def test_bool_words():
    """On/off, 1/0 and true/false in any case are booleans."""
    assert [parse_bool(w) for w in ["ON", " 1 ", "True"]] == [True, True, True]
    assert [parse_bool(w) for w in ["off", "0", "FALSE", "no"]] == [False] * 4


def test_bool_rejects_other_words():
    """'maybe' is not a boolean."""
    with pytest.raises(ValueError):
        parse_bool("maybe")


def test_query_repeated_keys_and_plus():
    """Repeated keys collect in order and '+' means a space."""
    assert parse_query("?a=1&b=x+y&a=2") == {"a": ["1", "2"], "b": ["x y"]}


def test_query_percent_escapes_and_blanks():
    """%26 is '&'; blank values are dropped unless keep_blank is set."""
    assert parse_query("q=rock%26roll&empty=") == {"q": ["rock&roll"]}
    assert parse_query("empty=&x=1", keep_blank=True) == {"empty": [""], "x": ["1"]}
    assert parse_query("") == {}
