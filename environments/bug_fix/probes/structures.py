"""Probes of structures: interval merging and gaps over random (also backwards) intervals,
and random sequences of operations on the LRU cache and the ring buffer."""

from __future__ import annotations

import random

from llmgym.environments.bug_fix.probes import ProbeSet, call, get, ref, step

I, L, R = "structs.intervals:", "structs.lru:", "structs.ring:"


def intervals(rng: random.Random, backwards: float = 0.0) -> list[tuple[int, int]]:
    out = []
    for _ in range(rng.randint(0, 6)):
        a, b = sorted((rng.randint(-15, 15), rng.randint(-15, 15)))
        out.append((b, a) if rng.random() < backwards and a != b else (a, rng.choice([a, b, a + 1])))
    return out


def build(probes: ProbeSet, rng: random.Random) -> None:
    fixed = [[(10, 12), (5, 7), (1, 4)], [(1, 2), (4, 5)], [], [(1, 10), (2, 3)], [(5, 1)],
             [(1, 3), (2, 6)], [(4, 4)], [(2, 3), (6, 8)], [(0, 10)], [(-5, 2), (20, 30)]]  # fmt: skip
    sets = fixed + [intervals(rng, backwards=0.05) for _ in range(250)]
    probes.calls(I + "merge", [(s,) for s in sets])
    probes.calls(I + "total_length", [(s,) for s in sets])
    probes.calls(I + "contains", [(s, p) for s in sets[:150] for p in (rng.randint(-16, 16),)])
    probes.calls(I + "contains", [([(1, 3)], p) for p in (0, 1, 2, 3, 4)])
    probes.calls(I + "gaps", [([(2, 3), (6, 8)], 0, 10), ([(0, 10)], 0, 10), ([], 3, 4), ([(-5, 2), (20, 30)], 0, 10)])
    probes.calls(I + "gaps", [(s, lo, lo + rng.randint(-1, 20)) for s in sets[10:] for lo in (rng.randint(-16, 10),)])

    for n in range(150):
        capacity = rng.choice([1, 2, 2, 3, 3, 5, 0]) if n else None
        new = call(L + "LRUCache", capacity) if capacity is not None else call(L + "LRUCache")
        steps = [step(new, bind="c"), step(get("$c.capacity"))]
        keys = rng.choice(["abcd", "abcdefg", [1, 2, 3, 4]])
        for _ in range(rng.randint(3, 25)):
            key = rng.choice(list(keys))
            op = rng.choice(["put", "put", "get", "get", "getd", "in", "len", "keys", "rate"])
            steps.append(step({
                "put": lambda: call("$c.put", key, rng.randint(0, 99)),
                "get": lambda: call("$c.get", key),
                "getd": lambda: call("$c.get", key, "dflt"),
                "in": lambda: call("operator:contains", ref("c"), key),
                "len": lambda: call("builtins:len", ref("c")),
                "keys": lambda: call("$c.keys"),
                "rate": lambda: call("$c.hit_rate"),
            }[op]()))  # fmt: skip
        steps += [step(call("$c.keys")), step(get("$c.hits")), step(get("$c.misses")), step(call("$c.hit_rate"))]
        probes.add(L + "LRUCache", *steps)

    for _ in range(150):
        size = rng.choice([1, 2, 3, 3, 4, 5, 0])
        steps = [step(call(R + "RingBuffer", size), bind="r")]
        for _ in range(rng.randint(0, 12)):
            op = rng.choice(["append", "append", "append", "len", "item", "list", "full", "latest"])
            steps.append(step({
                "append": lambda: call("$r.append", rng.randint(0, 99)),
                "len": lambda: call("builtins:len", ref("r")),
                "item": lambda: call("operator:getitem", ref("r"), rng.randint(-size - 2, size + 1)),
                "list": lambda: call("$r.to_list"),
                "full": lambda: call("$r.is_full"),
                "latest": lambda: call("$r.latest", rng.randint(0, size + 2)),
            }[op]()))  # fmt: skip
        steps += [step(call("$r.to_list")), step(call("$r.is_full")), step(call("builtins:len", ref("r")))]
        probes.add(R + "RingBuffer", *steps)
