import pytest

from confparse.csvline import join_csv_line, split_csv_line


def test_quoted_delimiters_and_quotes():
    """'a,"b,c",""""' has three fields: a, 'b,c' and a lone quote."""
    assert split_csv_line('a,"b,c",""""') == ["a", "b,c", '"']


def test_empty_fields():
    """',,' is three empty fields and '' is one."""
    assert split_csv_line(",,") == ["", "", ""]
    assert split_csv_line("") == [""]


def test_other_delimiter():
    """Semicolon-separated lines split on semicolons."""
    assert split_csv_line("a;b,c;d", delimiter=";") == ["a", "b,c", "d"]


def test_unclosed_quote():
    """A quote that never closes is an error."""
    with pytest.raises(ValueError):
        split_csv_line('a,"b')


def test_join_quotes_when_needed():
    """Fields with commas, quotes or edge spaces get quoted."""
    assert join_csv_line(["a", "b,c", 'say "hi"', " x"]) == 'a,"b,c","say ""hi"""," x"'


def test_round_trip():
    """Joining then splitting gives the same fields back."""
    fields = ["plain", "with,comma", '"quoted"', "", " pad "]
    assert split_csv_line(join_csv_line(fields)) == fields
