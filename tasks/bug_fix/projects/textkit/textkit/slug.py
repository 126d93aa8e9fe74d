"""URL slugs from arbitrary titles."""

import re
import unicodedata


def slugify(text, separator="-", max_length=50):
    """``"Hello, World!"`` -> ``"hello-world"``: ASCII only, at most ``max_length`` chars."""
    normalized = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", normalized.lower())
    slug = separator.join(words)
    if len(slug) > max_length:
        cut = slug[:max_length]
        if separator in cut and slug[max_length] != separator:
            cut = cut[: cut.rindex(separator)]
        slug = cut.strip(separator)
    return slug


def unique_slug(text, taken, separator="-"):
    """A slug for ``text`` not in ``taken``: adds ``-2``, ``-3``, ... when needed."""
    base = slugify(text, separator)
    if base not in taken:
        return base
    n = 2
    while f"{base}{separator}{n}" in taken:
        n += 1
    return f"{base}{separator}{n}"
