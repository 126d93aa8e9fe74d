"""A fixed-size ring buffer that overwrites its oldest items."""


class RingBuffer:
    def __init__(self, size):
        if size < 1:
            raise ValueError(f"size must be at least 1, got {size}")
        self.size = size
        self._items = [None] * size
        self._start = 0
        self._count = 0

    def append(self, item):
        end = (self._start + self._count) % self.size
        self._items[end] = item
        if self._count < self.size:
            self._count += 1
        else:
            self._start = (self._start + 1) % self.size

    def __len__(self):
        return self._count

    def __getitem__(self, index):
        if index < 0:
            index += self._count
        if not 0 <= index < self._count:
            raise IndexError(f"index {index} out of range for {self._count} items")
        return self._items[(self._start + index) % self.size]

    def to_list(self):
        """Items from oldest to newest."""
        return [self[i] for i in range(self._count)]

    def is_full(self):
        return self._count == self.size

    def latest(self, n):
        """The ``n`` newest items, oldest first."""
        n = min(n, self._count)
        return self.to_list()[self._count - n :]
