from textkit.slug import slugify, unique_slug


def test_slugify_accents_and_symbols():
    """Accents are dropped and punctuation collapses: 'Crème Brûlée & Co.' -> 'creme-brulee-co'."""
    assert slugify("Crème Brûlée & Co.") == "creme-brulee-co"
    assert slugify("  --Already--slugged--  ") == "already-slugged"


def test_slugify_custom_separator():
    """An underscore separator gives snake-like slugs."""
    assert slugify("Hello big World", separator="_") == "hello_big_world"


def test_slugify_cuts_on_word_boundary():
    """Long titles are cut at a word boundary, never mid-word."""
    assert slugify("alpha beta gamma", max_length=12) == "alpha-beta"
    assert slugify("alpha beta gamma", max_length=10) == "alpha-beta"
    assert slugify("alpha beta gamma", max_length=11) == "alpha-beta"
    assert slugify("abcdefghij", max_length=5) == "abcde"


def test_slugify_exact_length_not_cut():
    """A slug exactly as long as the limit stays whole."""
    assert slugify("alpha beta", max_length=10) == "alpha-beta"


def test_unique_slug():
    """A taken slug gets -2, then -3."""
    assert unique_slug("My Post", set()) == "my-post"
    assert unique_slug("My Post", {"my-post"}) == "my-post-2"
    assert unique_slug("My Post", {"my-post", "my-post-2"}) == "my-post-3"
