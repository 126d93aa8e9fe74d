"""A small INI reader: sections, key = value, comments, typed getters."""

from confparse.values import parse_bool


class IniError(ValueError):
    pass


def parse_ini(text):
    """Return ``{section: {key: value}}``; keys before any section go to ``"default"``."""
    data = {"default": {}}
    section = "default"
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            if not line.endswith("]") or len(line) < 3:
                raise IniError(f"line {number}: bad section header {raw!r}")
            section = line[1:-1].strip().lower()
            data.setdefault(section, {})
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise IniError(f"line {number}: expected 'key = value', got {raw!r}")
        data[section][key.strip().lower()] = value.strip()
    return data


def get_int(data, section, key, default=0):
    value = data.get(section, {}).get(key)
    return default if value is None else int(value)


def get_bool(data, section, key, default=False):
    value = data.get(section, {}).get(key)
    return default if value is None else parse_bool(value)


def get_list(data, section, key, separator=","):
    value = data.get(section, {}).get(key, "")
    return [item.strip() for item in value.split(separator) if item.strip()]
