from todo.report import stats
from todo.store import TodoList


def test_stats_empty():
    assert stats(TodoList())["total"] == 0
