"""Text rendering of a to-do list and its statistics."""

MARKS = {"low": " ", "normal": "*", "high": "!"}


def render_item(item):
    box = "[x]" if item.done else "[ ]"
    return f"{item.id:>3} {box} {MARKS[item.priority]} {item.title}"


def stats(todos):
    """Counts of all, done and open items and the percentage done (0 for an empty list)."""
    total = len(todos.items)
    done = sum(1 for item in todos.items if item.done)
    percent = round(100 * done / total) if total else 0
    return {"total": total, "done": done, "open": total - done, "percent": percent}


def render_stats(todos):
    s = stats(todos)
    return f"{s['done']}/{s['total']} done ({s['percent']}%), {s['open']} open"
