import pytest

from textkit.wrap import indent, truncate, word_count, wrap


def test_wrap_breaks_lines():
    """Wrapping at width 10 never makes lines longer than 10."""
    assert wrap("the quick brown fox jumps over", width=10) == ["the quick", "brown fox", "jumps over"]


def test_wrap_exact_fit():
    """A line that exactly fills the width is kept on one line."""
    assert wrap("aaaa bbbbb", width=10) == ["aaaa bbbbb"]


def test_wrap_long_word_and_empty():
    """A word longer than the width gets its own line; empty text gives no lines."""
    assert wrap("a verylongword b", width=5) == ["a", "verylongword", "b"]
    assert wrap("", width=5) == []


def test_wrap_rejects_zero_width():
    """Width 0 is an error."""
    with pytest.raises(ValueError):
        wrap("x", width=0)


def test_truncate_edges():
    """Text at the limit is untouched; tiny limits give part of the ellipsis."""
    assert truncate("hello", 5) == "hello"
    assert truncate("hello world", 2) == ".."
    assert truncate("hello world", 7, ellipsis="…") == "hello…"


def test_word_count():
    """Punctuation alone is not a word; 'don't' and 'well-known' count once."""
    assert word_count("Hello, world - it's a well-known fact !") == 6
    assert word_count("") == 0


def test_indent():
    """Blank lines stay blank unless asked."""
    assert indent("a\n\nb", "> ") == "> a\n\n> b"
    assert indent("a\n\nb", "> ", skip_blank=False) == "> a\n> \n> b"
