import pytest

from confparse.ini import IniError, get_bool, get_int, get_list, parse_ini

SAMPLE = """
; a comment
name = demo
[Server]
port = 8080
debug = yes
hosts = a.example, b.example,,
# another comment
url = http://x/?a=b
"""


def test_default_section_and_case():
    """Keys before any section go to 'default'; section names are case-insensitive."""
    data = parse_ini(SAMPLE)
    assert data["default"] == {"name": "demo"}
    assert data["server"]["port"] == "8080"


def test_value_may_contain_equals():
    """Only the first '=' separates key and value."""
    assert parse_ini(SAMPLE)["server"]["url"] == "http://x/?a=b"


def test_typed_getters():
    """Integers, booleans and lists come back typed, with defaults for missing keys."""
    data = parse_ini(SAMPLE)
    assert get_int(data, "server", "port") == 8080
    assert get_int(data, "server", "missing", 5) == 5
    assert get_bool(data, "server", "debug") is True
    assert get_bool(data, "server", "missing") is False
    assert get_list(data, "server", "hosts") == ["a.example", "b.example"]
    assert get_list(data, "nosection", "hosts") == []


def test_errors_name_the_line():
    """A line without '=' or a broken header is reported with its line number."""
    with pytest.raises(IniError, match="line 2"):
        parse_ini("[ok]\njust words\n")
    with pytest.raises(IniError, match="line 1"):
        parse_ini("[broken\n")
    with pytest.raises(IniError):
        parse_ini("[]\n")
