import pytest

from todo.store import TodoList, load, save


def test_ids_continue_after_removal():
    """After removing item 1, the next item still gets id 3."""
    todos = TodoList()
    todos.add("a")
    todos.add("b")
    todos.remove(1)
    assert todos.add("c").id == 3


def test_rejects_blank_title_and_bad_priority():
    """A blank title or an unknown priority is refused."""
    todos = TodoList()
    with pytest.raises(ValueError):
        todos.add("   ")
    with pytest.raises(ValueError):
        todos.add("x", priority="urgent")


def test_default_priority_is_normal():
    """Items are 'normal' priority unless told otherwise."""
    assert TodoList().add("x").priority == "normal"


def test_pending_order():
    """Open items list high priority first, then by id; done items are hidden."""
    todos = TodoList()
    todos.add("low one", "low")
    todos.add("normal one")
    todos.add("high one", "high")
    todos.add("high two", "high")
    todos.complete(4)
    assert [i.title for i in todos.pending()] == ["high one", "normal one", "low one"]


def test_missing_id():
    """Completing an unknown id raises KeyError."""
    with pytest.raises(KeyError):
        TodoList().complete(7)


def test_save_and_load(tmp_path):
    """A saved list loads back equal; a missing file is an empty list."""
    todos = TodoList()
    todos.add("a", "high")
    todos.complete(todos.add("b").id)
    path = tmp_path / "x.json"
    save(todos, path)
    assert load(path).items == todos.items
    assert load(tmp_path / "none.json").items == []
