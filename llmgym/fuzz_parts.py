"""The fuzzer's parts: how end states are compared, and the values mutants are built from.

``flatten`` and ``state_differences`` compare canonical states path by path; the rest takes
the values an episode showed (ids, emails, enums of the tool schemas) and makes the edits a
mutant applies to the expert's calls.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

Call = tuple[str, dict[str, Any]]
"""A tool call as (name, arguments)."""

CONTRADICTION = (
    " Correction: we declined your request and made no change; "
    "nothing was refunded, booked, cancelled or escalated."
)
ID_TOKEN = re.compile(r"[A-Za-z][A-Za-z_\-]*\d[\w\-]*|[\w.+\-]+@[\w\-]+\.[\w.]+")
MAX_DIFFS_SHOWN = 5
SAY = ""
"""Pseudo tool name of a mutant's prose: ``(SAY, {"text": ...})`` is said before the next call."""
ANY = "\x00any"
"""Placeholder argument of a call template: any fresh value fits it."""


def flatten(state: Any, prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": [1]}}`` -> ``{"a/b/0": 1}``; empty containers stay as leaves."""
    if isinstance(state, Mapping) and state:
        out: dict[str, Any] = {}
        for key, value in state.items():
            out.update(flatten(value, f"{prefix}{key}/"))
        return out
    if isinstance(state, list | tuple) and state:
        out = {}
        for index, value in enumerate(state):
            out.update(flatten(value, f"{prefix}{index}/"))
        return out
    return {prefix.rstrip("/"): state}


def state_differences(
    expected: Mapping[str, Any], actual: Mapping[str, Any], equivalences: tuple[str, ...] = ()
) -> list[str]:
    """Paths where two canonical states differ, except those matching ``equivalences``."""
    a, b = flatten(expected), flatten(actual)
    out = []
    for path in sorted(set(a) | set(b)):
        if any(fnmatch.fnmatchcase(path, pattern) for pattern in equivalences):
            continue
        missing = "<absent>"
        if a.get(path, missing) != b.get(path, missing):
            out.append(f"{path}: {short(a.get(path, missing))} != {short(b.get(path, missing))}")
    return out


def short(value: Any) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def observed_values(messages: list[dict[str, Any]]) -> Iterator[Any]:
    """Scalar values the agent was shown: tool results (JSON walked) and id-like tokens of
    every other text (the task's request included)."""
    for message in messages:
        content = str(message.get("content", ""))
        if message.get("role") != "tool":
            yield from ID_TOKEN.findall(content)
            continue
        try:
            yield from scalars(json.loads(content))
        except ValueError:
            yield from ID_TOKEN.findall(content)


def scalars(value: Any, keys: bool = False) -> Iterator[Any]:
    if isinstance(value, Mapping):
        for k, v in value.items():
            if keys and isinstance(k, str) and ID_TOKEN.fullmatch(k):
                yield k
            yield from scalars(v, keys)
    elif isinstance(value, list):
        for v in value:
            yield from scalars(v, keys)
    elif isinstance(value, str):
        yield value
        yield from ID_TOKEN.findall(value)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        yield value


def shape(value: Any) -> str:
    """What makes two values interchangeable as arguments: type, id prefix, email-ness."""
    if not isinstance(value, str):
        return type(value).__name__
    if value == ANY:
        return "any"
    if "@" in value:
        return "email"
    match = re.match(r"([A-Za-z_\-]*)\d", value)
    return f"id:{match.group(1).upper()}" if match else ("text" if " " in value else "word")


def is_free_text(value: Any) -> bool:
    return isinstance(value, str) and len(value.split()) >= 4


def replace(calls: list[Call], i: int, call: Call) -> list[Call]:
    return [*calls[:i], call, *calls[i + 1 :]]


def insert(calls: list[Call], i: int, call: Call) -> list[Call]:
    return [*calls[:i], call, *calls[i:]]


def swap(calls: list[Call], i: int) -> list[Call]:
    out = list(calls)
    out[i], out[i + 1] = out[i + 1], out[i]
    return out


def value_pool(seen: tuple[Any, ...], schemas: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Observed values (and schema enums) grouped by shape, in first-seen order."""
    pool: dict[str, list[Any]] = {}
    for value in [*seen, *walk_enums(schemas)]:
        bucket = pool.setdefault(shape(value), [])
        if value not in bucket:
            bucket.append(value)
    return pool


def single_string_tools(schemas: list[dict[str, Any]]) -> list[Call]:
    """Tools whose one required argument is a string, as templates (the argument: ``ANY``)."""
    out = []
    for schema in schemas:
        function = schema.get("function", schema)
        parameters = function.get("parameters", {})
        required = parameters.get("required", [])
        if len(required) == 1:
            prop = parameters.get("properties", {}).get(required[0], {})
            if prop.get("type") == "string" and "enum" not in prop:
                out.append((function["name"], {required[0]: ANY}))
    return out


def walk_enums(node: Any) -> Iterator[Any]:
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key == "enum" and isinstance(value, list):
                yield from value
            else:
                yield from walk_enums(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk_enums(value)


def text_variants(text: str, pool: dict[str, list[Any]]) -> Iterator[tuple[str, str]]:
    yield "with a contradiction appended", text + CONTRADICTION
    ids = ID_TOKEN.findall(text)
    if ids:
        yield "reduced to its ids", " ".join(ids)
    for shape in ("email", *sorted(s for s in pool if s.startswith("id:"))):
        leaked = [v for v in pool.get(shape, []) if isinstance(v, str) and v not in text]
        if leaked:
            yield f"leaking {leaked[-1]!r}", f"{text} (see also {leaked[-1]})"
