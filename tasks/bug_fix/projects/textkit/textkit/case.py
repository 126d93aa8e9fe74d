"""Converting between naming styles and title-casing headlines."""

import re

SMALL_WORDS = {"a", "an", "and", "as", "at", "but", "by", "for", "in", "of", "on", "or", "the", "to"}


def snake_to_camel(name, upper_first=False):
    """``"http_status_code"`` -> ``"httpStatusCode"`` (``"HttpStatusCode"`` if upper_first)."""
    parts = [p for p in name.split("_") if p]
    if not parts:
        return ""
    head = parts[0].capitalize() if upper_first else parts[0].lower()
    return head + "".join(p.capitalize() for p in parts[1:])


def camel_to_snake(name):
    """``"HTTPStatusCode"`` -> ``"http_status_code"``; ``"parseURL2"`` -> ``"parse_url2"``."""
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return name.lower()


def title_case(text):
    """Capitalise words except small ones, but always the first and the last word."""
    words = text.split()
    out = []
    for i, word in enumerate(words):
        lower = word.lower()
        if 0 < i < len(words) - 1 and lower in SMALL_WORDS:
            out.append(lower)
        else:
            out.append(lower[:1].upper() + lower[1:])
    return " ".join(out)
