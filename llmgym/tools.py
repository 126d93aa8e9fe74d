"""Typed tools: ``@tool`` turns a Python function or method into a JSON-schema'd tool.

The schema comes from the signature (types, defaults) and the Google-style docstring (the
first paragraph describes the tool, the ``Args:`` section each parameter). Arguments are
validated strictly by a pydantic model built from the same signature, so the schema an agent
sees and the check its call meets never disagree.

A tool raises :class:`ToolError` for a domain refusal ("flight is full"): the agent sees the
message and the turn is still valid. Unknown tools and arguments that do not match the schema
make the turn invalid.
"""

from __future__ import annotations

import functools
import inspect
import json
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from llmgym.messages import ToolCall

_MARK = "__llmgym_tool__"
_ARGS_RE = re.compile(r"^\s*(Args|Arguments|Parameters):\s*$")
_SECTION_RE = re.compile(r"^\s*(Returns|Raises|Yields|Examples?|Notes?):\s*$")
_PARAM_RE = re.compile(r"^\s*(\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")


class ToolError(Exception):
    """A domain-level refusal a tool reports to the agent (the turn stays valid)."""


class ToolArgumentError(Exception):
    """The agent called a tool that does not exist or with arguments that break its schema."""


@dataclass(frozen=True)
class ToolSpec:
    """What ``@tool`` records about a function: name, description, argument model."""

    name: str
    description: str
    arguments: type[BaseModel]
    function: Callable[..., Any]

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle as "the spec ``@tool`` attached to this function".

        The argument model is made by ``pydantic.create_model`` and is not importable by name,
        so a spec cannot be pickled by value; the function is (by its qualified name), and
        unpickling looks its spec up again. ``deepcopy`` gets the same, shared spec.
        """
        return (tool_spec, (self.function,))

    def schema(self) -> dict[str, Any]:
        """The OpenAI-style function schema of this tool (a fresh copy of one built once)."""
        return json.loads(self._schema_json)

    @functools.cached_property
    def _schema(self) -> dict[str, Any]:
        parameters = self.arguments.model_json_schema()
        parameters.pop("title", None)
        for prop in parameters.get("properties", {}).values():
            prop.pop("title", None)
        parameters.setdefault("properties", {})
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": parameters,
            },
        }

    @functools.cached_property
    def _schema_json(self) -> str:
        return json.dumps(self._schema)


def parse_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
    """Split a Google-style docstring into (summary, {param: description})."""
    if not doc:
        return "", {}
    lines = inspect.cleandoc(doc).splitlines()
    summary: list[str] = []
    params: dict[str, str] = {}
    section = "summary"
    current: str | None = None
    for line in lines:
        if _ARGS_RE.match(line):
            section, current = "args", None
        elif _SECTION_RE.match(line):
            section, current = "other", None
        elif section == "summary":
            summary.append(line)
        elif section == "args":
            match = _PARAM_RE.match(line)
            if match and (current is None or not line.startswith(" " * 8)):
                current = match.group(1)
                params[current] = match.group(2).strip()
            elif current and line.strip():
                params[current] += " " + line.strip()
    text = " ".join(" ".join(summary).split())
    return text, params


def _build_spec(function: Callable[..., Any], name: str | None) -> ToolSpec:
    signature = inspect.signature(function)
    hints = get_type_hints(function)
    description, param_docs = parse_docstring(function.__doc__)
    if not description:
        raise TypeError(
            f"tool {function.__qualname__} needs a docstring: it is the agent's description"
        )
    fields: dict[str, Any] = {}
    for param in signature.parameters.values():
        if param.name == "self":
            continue
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise TypeError(
                f"tool {function.__qualname__}: *args/**kwargs are not allowed in tools"
            )
        if param.name not in hints:
            raise TypeError(
                f"tool {function.__qualname__}: parameter {param.name!r} needs a type hint"
            )
        default = ... if param.default is inspect.Parameter.empty else param.default
        fields[param.name] = (
            hints[param.name],
            Field(default, description=param_docs.get(param.name)),
        )
    model = create_model(  # type: ignore[call-overload]
        f"{function.__name__}_arguments",
        __config__=ConfigDict(extra="forbid", strict=True),
        **fields,
    )
    return ToolSpec(
        name=name or function.__name__, description=description, arguments=model, function=function
    )


def tool(function: Callable[..., Any] | None = None, *, name: str | None = None) -> Any:
    """Mark a function or method as a tool; usable as ``@tool`` or ``@tool(name=...)``."""

    def mark(fn: Callable[..., Any]) -> Callable[..., Any]:
        setattr(fn, _MARK, _build_spec(fn, name))
        return fn

    return mark(function) if function is not None else mark


def tool_spec(function: Callable[..., Any]) -> ToolSpec:
    """The spec ``@tool`` attached to ``function``."""
    spec = getattr(function, _MARK, None)
    if spec is None:
        raise TypeError(f"{function!r} is not decorated with @tool")
    return spec


def format_result(result: Any) -> str:
    """Turn a tool's return value into the text the agent reads; never raises.

    JSON when the value is JSON data (non-JSON leaves through ``str``); a value JSON cannot
    write (a cycle, nesting past the recursion limit, an int over 4,300 digits, a failing
    ``__str__``) becomes a short note naming its type rather than an exception in ``step``
    (the agent's arguments can reach a tool's result).
    """
    if isinstance(result, str):
        return result
    try:
        if isinstance(result, BaseModel):
            return result.model_dump_json()
        return json.dumps(result, default=str, ensure_ascii=False)
    except Exception as exc:  # ValueError, RecursionError, a failing __str__: never into step
        return f"[the tool returned a {type(result).__name__} that cannot be shown: {exc!s:.200}]"


def _describe_validation_error(spec: ToolSpec, exc: ValidationError) -> str:
    problems = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err["loc"]) or "arguments"
        if err["type"] == "extra_forbidden":
            problems.append(f"unexpected argument {where!r}")
        elif err["type"] == "missing":
            problems.append(f"missing required argument {where!r}")
        else:
            problems.append(f"{where}: {err['msg']} (got {_short(err.get('input'))})")
    expected = ", ".join(spec.arguments.model_fields) or "no arguments"
    return f"bad arguments for {spec.name}: " + "; ".join(problems) + f". Expected: {expected}."


def _short(value: Any, limit: int = 60) -> str:
    """A cut ``repr`` for error messages; never raises (``repr`` of a huge int does)."""
    try:
        text = repr(value)
    except Exception:
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[:limit] + "..."


def _type_label(prop: dict[str, Any]) -> str:
    """A short type for ``describe``: ``string``, ``a|b|c`` for choices, ``integer/null``."""
    if "enum" in prop:
        return "|".join(map(str, prop["enum"]))
    if "anyOf" in prop:
        return "/".join(_type_label(p) for p in prop["anyOf"] if isinstance(p, dict))
    if prop.get("type") == "array" and isinstance(prop.get("items"), dict):
        return f"list[{_type_label(prop['items'])}]"
    return str(prop.get("type", "any"))


class Toolset:
    """The tools of one episode, bound to their world objects, looked up by name."""

    def __init__(self, bound: Iterable[tuple[ToolSpec, Callable[..., Any]]]):
        self._tools: dict[str, tuple[ToolSpec, Callable[..., Any]]] = {}
        for spec, fn in bound:
            if spec.name in self._tools:
                raise ValueError(f"two tools are named {spec.name!r}; tool names must be unique")
            self._tools[spec.name] = (spec, fn)

    @classmethod
    def from_objects(cls, *objects: Any) -> Toolset:
        """Collect the ``@tool`` methods of each object (in definition order), bound to it."""
        bound: list[tuple[ToolSpec, Callable[..., Any]]] = []
        for obj in objects:
            # a subclass overriding a tool keeps one entry per object: the most derived one
            own: dict[str, tuple[ToolSpec, Callable[..., Any]]] = {}
            for klass in reversed(type(obj).__mro__):
                for attr, value in vars(klass).items():
                    if hasattr(value, _MARK):
                        own[getattr(value, _MARK).name] = (
                            getattr(value, _MARK),
                            getattr(obj, attr),
                        )
            bound += own.values()
        return cls(bound)

    @property
    def names(self) -> list[str]:
        return list(self._tools)

    def __contains__(self, name: str) -> bool:
        return name in self._tools

    def spec(self, name: str) -> ToolSpec:
        return self._tools[name][0]

    def schemas(self) -> list[dict[str, Any]]:
        """OpenAI-style function schemas of every tool, for a chat template or an API."""
        return [spec.schema() for spec, _ in self._tools.values()]

    def validate(self, call: ToolCall) -> dict[str, Any]:
        """Check a call against its tool's schema; return the validated keyword arguments."""
        if call.name not in self._tools:
            raise ToolArgumentError(
                f"unknown tool {call.name!r}. Available tools: {', '.join(self._tools)}"
            )
        spec, _ = self._tools[call.name]
        try:
            parsed = spec.arguments.model_validate(call.arguments)
        except ValidationError as exc:
            raise ToolArgumentError(_describe_validation_error(spec, exc)) from None
        return {name: getattr(parsed, name) for name in type(parsed).model_fields}

    def invoke(self, call: ToolCall) -> Any | Awaitable[Any]:
        """Run a validated call. Returns the tool's result, or an awaitable for async tools."""
        kwargs = self.validate(call)
        return self._tools[call.name][1](**kwargs)

    def describe(self) -> str:
        """A compact human/LLM-readable listing of the tools and their parameters."""
        lines = []
        for spec, _ in self._tools.values():
            schema = spec._schema["function"]["parameters"]
            required = set(schema.get("required", []))
            params = []
            for pname, prop in schema.get("properties", {}).items():
                kind = _type_label(prop)
                opt = "" if pname in required else "?"
                params.append(f"{pname}{opt}: {kind}")
            lines.append(f"- {spec.name}({', '.join(params)}): {spec.description}")
            for pname, prop in schema.get("properties", {}).items():
                if prop.get("description"):
                    lines.append(f"    {pname}: {prop['description']}")
        return "\n".join(lines)
