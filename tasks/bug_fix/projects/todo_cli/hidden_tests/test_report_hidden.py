from todo.report import render_item, render_stats, stats
from todo.store import Item, TodoList


def test_render_item():
    """A high-priority open item shows '!' and an empty box; done shows [x]."""
    assert render_item(Item(3, "call mom", "high")) == "  3 [ ] ! call mom"
    assert render_item(Item(12, "x", "low", True)) == " 12 [x]   x"


def test_stats_counts_and_percent():
    """One of three done is 33%."""
    todos = TodoList()
    for t in "abc":
        todos.add(t)
    todos.complete(2)
    assert stats(todos) == {"total": 3, "done": 1, "open": 2, "percent": 33}
    assert render_stats(todos) == "1/3 done (33%), 2 open"


def test_stats_rounding():
    """Two of three done rounds to 67%."""
    todos = TodoList([Item(1, "a", done=True), Item(2, "b", done=True), Item(3, "c")])
    assert stats(todos)["percent"] == 67
