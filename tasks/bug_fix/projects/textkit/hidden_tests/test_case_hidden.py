from textkit.case import camel_to_snake, snake_to_camel, title_case


def test_snake_to_pascal():
    """With upper_first the first word is capitalised too."""
    assert snake_to_camel("http_status_code", upper_first=True) == "HttpStatusCode"


def test_snake_to_camel_edge_cases():
    """Double, leading or trailing underscores are ignored; empty stays empty."""
    assert snake_to_camel("__a__b_") == "aB"
    assert snake_to_camel("") == ""
    assert snake_to_camel("single") == "single"


def test_camel_to_snake_acronyms():
    """Acronyms stay together: HTTPStatusCode -> http_status_code, parseURL2 -> parse_url2."""
    assert camel_to_snake("HTTPStatusCode") == "http_status_code"
    assert camel_to_snake("parseURL2") == "parse_url2"
    assert camel_to_snake("already_snake") == "already_snake"


def test_title_case_small_words():
    """'the lord of the rings' becomes 'The Lord of the Rings'."""
    assert title_case("the lord of the rings") == "The Lord of the Rings"


def test_title_case_last_word_capitalised():
    """A small word at the end is still capitalised: 'what it is for' -> 'What It Is For'."""
    assert title_case("what it is for") == "What It Is For"
    assert title_case("a") == "A"
    assert title_case("") == ""
