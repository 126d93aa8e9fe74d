"""Small data structures: an LRU cache, a ring buffer and interval sets."""
