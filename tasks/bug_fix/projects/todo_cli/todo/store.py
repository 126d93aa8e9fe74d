"""The to-do list: items with ids, priorities and done flags, saved as JSON."""

import json
from dataclasses import asdict, dataclass
from pathlib import Path

PRIORITIES = ("low", "normal", "high")


@dataclass
class Item:
    id: int
    title: str
    priority: str = "normal"
    done: bool = False


class TodoList:
    def __init__(self, items=None):
        self.items = list(items or [])

    def next_id(self):
        return max((item.id for item in self.items), default=0) + 1

    def add(self, title, priority="normal"):
        title = title.strip()
        if not title:
            raise ValueError("a to-do needs a title")
        if priority not in PRIORITIES:
            raise ValueError(f"priority must be one of {PRIORITIES}, got {priority!r}")
        item = Item(self.next_id(), title, priority)
        self.items.append(item)
        return item

    def find(self, item_id):
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(f"no to-do with id {item_id}")

    def complete(self, item_id):
        item = self.find(item_id)
        item.done = True
        return item

    def remove(self, item_id):
        self.items.remove(self.find(item_id))

    def pending(self):
        """Open items, highest priority first, then by id."""
        open_items = [item for item in self.items if not item.done]
        return sorted(open_items, key=lambda item: (-PRIORITIES.index(item.priority), item.id))


def load(path):
    path = Path(path)
    if not path.exists():
        return TodoList()
    return TodoList(Item(**raw) for raw in json.loads(path.read_text()))


def save(todos, path):
    Path(path).write_text(json.dumps([asdict(item) for item in todos.items], indent=1))
