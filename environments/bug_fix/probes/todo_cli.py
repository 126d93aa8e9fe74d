"""Probes of todo_cli: random sessions of the store API (ids, priorities, completion,
removal, save/load), rendering and statistics, and whole command-line sessions whose printed
output and exit codes are compared."""

from __future__ import annotations

import random

from llmgym.environments.bug_fix.probes import Expr, ProbeSet, call, get, ref, step

S, R, CLI = "todo.store:", "todo.report:", "todo.cli:main"
PRIORITIES = ["low", "normal", "high"]
TITLES = ["a", "b", "write report", "  pad  ", "   ", "", "call mom", "x"]


def item(rng: random.Random, item_id: int):
    return call(
        S + "Item",
        item_id,
        rng.choice([*TITLES[:4], "nap"]),
        rng.choice(PRIORITIES),
        rng.random() < 0.4,
    )


def store_operation(rng: random.Random) -> Expr:
    """A random call on the to-do list bound as ``t``."""
    op = rng.choice(["add", "add", "add", "addp", "done", "rm", "find", "next", "pending", "items"])
    if op == "add":
        return call("$t.add", rng.choice(TITLES))
    if op == "addp":
        return call("$t.add", rng.choice(TITLES), rng.choice([*PRIORITIES, "urgent"]))
    if op in ("done", "rm", "find"):
        method = {"done": "complete", "rm": "remove", "find": "find"}[op]
        return call(f"$t.{method}", rng.randint(0, 6))
    return {"next": call("$t.next_id"), "pending": call("$t.pending"), "items": get("$t.items")}[op]


def build(probes: ProbeSet, rng: random.Random) -> None:
    for _ in range(80):
        steps = [step(call(S + "TodoList"), bind="t")]
        for _ in range(rng.randint(1, 14)):
            steps.append(step(store_operation(rng)))
        steps += [step(call("$t.pending")), step(get("$t.items")), step(call(R + "stats", ref("t"))),
                  step(call(R + "render_stats", ref("t"))),
                  step(call(S + "save", ref("t"), "x.json")), step(call(S + "load", "x.json"), bind="u"),
                  step(get("$u.items")), step(call("builtins:len", get("$u.items")))]  # fmt: skip
        probes.add(S + "TodoList", *steps)
    probes.add(S + "load", step(call(S + "load", "none.json"), bind="e"), step(get("$e.items")))

    for n in range(80):
        items = [item(rng, i) for i in rng.sample(range(1, 150), rng.randint(0, 6))]
        probes.add(R + "stats", step(call(S + "TodoList", items), bind="t"),
                   step(call(R + "stats", ref("t"))), step(call(R + "render_stats", ref("t"))))  # fmt: skip
        probes.add(
            R + "render_item",
            step(call(R + "render_item", item(rng, rng.choice([1, 3, 12, 99, 100, 1000, n])))),
        )

    commands = [["add", "write", "report", "-p", "high"], ["add", "water", "plants"], ["add", "nap", "--priority", "low"],
                ["done", "2"], ["list"], ["list", "--all"], ["stats"], ["rm", "9"], ["add", "x", "-p", "urgent"],
                ["done", "x"], ["rm", "1"], ["add", "   "], ["list", "--all"], ["done", "1"], []]  # fmt: skip
    for _ in range(40):
        session = [rng.choice(commands[:8] + commands[10:]) for _ in range(rng.randint(1, 6))]
        steps = [step(call(CLI, ["--file", "t.json", *argv])) for argv in session]
        probes.add("todo.cli:main", *steps, step(call(CLI, ["--file", "t.json", "list", "--all"])))
    for _ in range(15):  # output to a given stream, not stdout
        session = [rng.choice(commands[:8] + commands[10:]) for _ in range(rng.randint(1, 6))]
        steps = [step(call("io:StringIO"), bind="out")]
        steps += [step(call(CLI, ["--file", "t.json", *argv], out=ref("out"))) for argv in session]
        probes.add("todo.cli:main(out=)", *steps, step(call("$out.getvalue")))
    fixed = [commands[:8], [["list"]], [["rm", "9"]], [["add", "x", "-p", "urgent"]], [["stats"]]]
    for session in fixed:
        probes.add(
            "todo.cli:main", *(step(call(CLI, ["--file", "t.json", *argv])) for argv in session)
        )
