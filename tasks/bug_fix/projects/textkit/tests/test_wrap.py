from textkit.wrap import truncate, wrap


def test_wrap_short_text_is_one_line():
    assert wrap("a b c", width=10) == ["a b c"]


def test_truncate_long():
    assert truncate("hello world", 8) == "hello..."
