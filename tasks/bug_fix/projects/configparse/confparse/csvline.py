"""Splitting one CSV line, with quoted fields and doubled quotes."""


def split_csv_line(line, delimiter=","):
    """Split one line into fields; a field in double quotes may hold the delimiter and ``""``.

    Raises ValueError on an unclosed quote.
    """
    fields = []
    field = []
    in_quotes = False
    i = 0
    while i < len(line):
        char = line[i]
        if in_quotes:
            if char == '"':
                if i + 1 < len(line) and line[i + 1] == '"':
                    field.append('"')
                    i += 1
                else:
                    in_quotes = False
            else:
                field.append(char)
        elif char == '"':
            in_quotes = True
        elif char == delimiter:
            fields.append("".join(field))
            field = []
        else:
            field.append(char)
        i += 1
    if in_quotes:
        raise ValueError(f"unclosed quote in {line!r}")
    fields.append("".join(field))
    return fields


def join_csv_line(fields, delimiter=","):
    """Inverse of ``split_csv_line``: quote fields holding the delimiter, quotes or spaces at the ends."""
    out = []
    for field in fields:
        needs_quotes = delimiter in field or '"' in field or field != field.strip()
        if needs_quotes:
            field = '"' + field.replace('"', '""') + '"'
        out.append(field)
    return delimiter.join(out)
