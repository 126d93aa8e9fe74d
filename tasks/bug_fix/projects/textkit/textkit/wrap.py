"""Word wrapping, truncation and word counting."""


def wrap(text, width=70):
    """Greedy word wrap: lines no longer than ``width`` unless a single word is longer."""
    if width < 1:
        raise ValueError(f"width must be positive, got {width}")
    lines = []
    current = ""
    for word in text.split():
        if not current:
            current = word
        elif len(current) + 1 + len(word) <= width:
            current += " " + word
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    return lines


def truncate(text, limit, ellipsis="..."):
    """Cut ``text`` to at most ``limit`` characters, ending with ``ellipsis`` when cut."""
    if len(text) <= limit:
        return text
    if limit <= len(ellipsis):
        return ellipsis[:limit]
    return text[: limit - len(ellipsis)].rstrip() + ellipsis


def word_count(text):
    """Number of words, counting hyphenated words and contractions once."""
    return len([w for w in text.split() if any(c.isalnum() for c in w)])


def indent(text, prefix="    ", skip_blank=True):
    """Prefix every line (blank lines untouched unless ``skip_blank`` is False)."""
    out = []
    for line in text.split("\n"):
        if skip_blank and not line.strip():
            out.append(line)
        else:
            out.append(prefix + line)
    return "\n".join(out)
