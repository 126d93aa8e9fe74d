from todo.store import TodoList


def test_add_assigns_ids():
    todos = TodoList()
    assert todos.add("a").id == 1
    assert todos.add("b").id == 2
