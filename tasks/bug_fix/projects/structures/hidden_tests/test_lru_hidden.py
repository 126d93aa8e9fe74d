import pytest

from structs.lru import LRUCache


def test_evicts_least_recently_used():
    """With room for two, reading 'a' then adding 'c' should evict 'b', not 'a'."""
    cache = LRUCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.get("a")
    cache.put("c", 3)
    assert "a" in cache and "c" in cache and "b" not in cache
    assert cache.keys() == ["a", "c"]


def test_capacity_is_respected():
    """A cache of size 3 never holds more than 3 items."""
    cache = LRUCache(3)
    for i in range(10):
        cache.put(i, i)
    assert len(cache) == 3
    assert cache.keys() == [7, 8, 9]


def test_update_refreshes_key():
    """Writing an existing key updates it and makes it most recent."""
    cache = LRUCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.put("a", 10)
    cache.put("c", 3)
    assert cache.get("a") == 10 and "b" not in cache


def test_stats():
    """Two hits and one miss give a hit rate of 2/3; an unused cache has rate 0."""
    cache = LRUCache()
    assert cache.hit_rate() == 0.0
    cache.put("x", 1)
    cache.get("x")
    cache.get("x")
    assert cache.get("y", "dflt") == "dflt"
    assert (cache.hits, cache.misses) == (2, 1)
    assert cache.hit_rate() == pytest.approx(2 / 3)


def test_default_capacity_and_validation():
    """The default capacity is 128 and zero capacity is refused."""
    assert LRUCache().capacity == 128
    with pytest.raises(ValueError):
        LRUCache(0)
