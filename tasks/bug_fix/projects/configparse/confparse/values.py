"""Typed values from strings: booleans and URL query strings."""

from urllib.parse import unquote_plus

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off"}


def parse_bool(text):
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"not a boolean: {text!r} (use one of {sorted(TRUE_WORDS | FALSE_WORDS)})")


def parse_query(query, keep_blank=False):
    """``"a=1&b=x+y&a=2"`` -> ``{"a": ["1", "2"], "b": ["x y"]}``."""
    result = {}
    query = query.lstrip("?")
    for pair in query.split("&"):
        if not pair:
            continue
        key, _, value = pair.partition("=")
        key, value = unquote_plus(key), unquote_plus(value)
        if not value and not keep_blank:
            continue
        result.setdefault(key, []).append(value)
    return result
