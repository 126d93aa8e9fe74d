"""Probes of structures: interval merging and gaps over random (also backwards) intervals,
and random sequences of operations on the LRU cache and the ring buffer."""

from __future__ import annotations

import random

from llmgym.environments.bug_fix.probes import Expr, ProbeSet, call, get, ref, step

IV, L, R = "structs.intervals:", "structs.lru:", "structs.ring:"


def intervals(rng: random.Random, backwards: float = 0.0) -> list[tuple[int, int]]:
    out = []
    for _ in range(rng.randint(0, 6)):
        a, b = sorted((rng.randint(-15, 15), rng.randint(-15, 15)))
        out.append(
            (b, a) if rng.random() < backwards and a != b else (a, rng.choice([a, b, a + 1]))
        )
    return out


def lru_operation(rng: random.Random, key: object) -> Expr:
    """A random call on the cache bound as ``c``."""
    op = rng.choice(["put", "put", "get", "get", "getd", "in", "len", "keys", "rate"])
    if op == "put":
        return call("$c.put", key, rng.randint(0, 99))
    if op in ("get", "getd"):
        return call("$c.get", key, "dflt") if op == "getd" else call("$c.get", key)
    if op == "in":
        return call("operator:contains", ref("c"), key)
    return {
        "len": call("builtins:len", ref("c")),
        "keys": call("$c.keys"),
        "rate": call("$c.hit_rate"),
    }[op]


def ring_operation(rng: random.Random, size: int) -> Expr:
    """A random call on the ring buffer bound as ``r``."""
    op = rng.choice(["append", "append", "append", "len", "item", "list", "full", "latest"])
    if op == "append":
        return call("$r.append", rng.randint(0, 99))
    if op == "item":
        return call("operator:getitem", ref("r"), rng.randint(-size - 2, size + 1))
    if op == "latest":
        return call("$r.latest", rng.randint(0, size + 2))
    return {
        "len": call("builtins:len", ref("r")),
        "list": call("$r.to_list"),
        "full": call("$r.is_full"),
    }[op]


def build(probes: ProbeSet, rng: random.Random) -> None:
    fixed = [[(10, 12), (5, 7), (1, 4)], [(1, 2), (4, 5)], [], [(1, 10), (2, 3)], [(5, 1)],
             [(1, 3), (2, 6)], [(4, 4)], [(2, 3), (6, 8)], [(0, 10)], [(-5, 2), (20, 30)]]  # fmt: skip
    sets = fixed + [intervals(rng, backwards=0.05) for _ in range(250)]
    probes.calls(IV + "merge", [(s,) for s in sets])
    probes.calls(IV + "total_length", [(s,) for s in sets])
    probes.calls(IV + "contains", [(s, p) for s in sets[:150] for p in (rng.randint(-16, 16),)])
    probes.calls(IV + "contains", [([(1, 3)], p) for p in (0, 1, 2, 3, 4)])
    probes.calls(
        IV + "gaps",
        [([(2, 3), (6, 8)], 0, 10), ([(0, 10)], 0, 10), ([], 3, 4), ([(-5, 2), (20, 30)], 0, 10)],
    )
    probes.calls(
        IV + "gaps",
        [(s, lo, lo + rng.randint(-1, 20)) for s in sets[10:] for lo in (rng.randint(-16, 10),)],
    )

    for n in range(150):
        capacity = rng.choice([1, 2, 2, 3, 3, 5, 0]) if n else None
        new = call(L + "LRUCache", capacity) if capacity is not None else call(L + "LRUCache")
        steps = [step(new, bind="c"), step(get("$c.capacity"))]
        keys = rng.choice(["abcd", "abcdefg", [1, 2, 3, 4]])
        for _ in range(rng.randint(3, 25)):
            steps.append(step(lru_operation(rng, rng.choice(list(keys)))))
        steps += [
            step(call("$c.keys")),
            step(get("$c.hits")),
            step(get("$c.misses")),
            step(call("$c.hit_rate")),
        ]
        probes.add(L + "LRUCache", *steps)

    for _ in range(150):
        size = rng.choice([1, 2, 3, 3, 4, 5, 0])
        steps = [step(call(R + "RingBuffer", size), bind="r")]
        for _ in range(rng.randint(0, 12)):
            steps.append(step(ring_operation(rng, size)))
        steps += [
            step(call("$r.to_list")),
            step(call("$r.is_full")),
            step(call("builtins:len", ref("r"))),
        ]
        probes.add(R + "RingBuffer", *steps)
