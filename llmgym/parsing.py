"""Pure parsing of an agent's turn into tool calls.

Two action forms are accepted:

* raw text with Hermes/Qwen tool calls: ``<tool_call>{"name": ..., "arguments": {...}}</tool_call>``
  (several per turn; text around them is the agent's prose and is kept);
* an OpenAI-style assistant message dict: ``{"role": "assistant", "content": ...,
  "tool_calls": [{"id": ..., "type": "function", "function": {"name": ..., "arguments": "<json>"}}]}``.

Nothing here raises on bad input: every problem becomes a readable entry in
``ParsedAction.errors``, which the environment sends back to the agent. The JSON boundary is
bounded before it is trusted (Python's decoder raises ``ValueError`` on integers over 4,300
digits and ``RecursionError`` on deep nesting): nesting depth is measured before decoding,
integer literals and non-finite numbers are refused while decoding, and arguments handed over
as Python objects (message dicts) are checked to be plain, bounded JSON data
(:func:`plain_json`), so every argument a tool sees is one ``json.dumps`` can write back.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from llmgym.messages import ToolCall, clean_text

TOOL_CALL_RE = re.compile(r"<tool_call>(.*?)(?:</tool_call>|$)", re.DOTALL)
MAX_ERROR_SNIPPET = 200
MAX_JSON_DEPTH = 32
"""Deepest nesting of objects/arrays accepted in a tool call (real calls use 2-4 levels)."""
MAX_INT_DIGITS = 100
"""Longest integer literal accepted in a tool call (Python refuses over 4,300 digits)."""
_MAX_INT_BITS = int(MAX_INT_DIGITS * math.log2(10))


class JsonLimitError(ValueError):
    """A JSON value is too deep, holds a number out of range, or is not plain JSON data."""


@dataclass(frozen=True)
class ParsedAction:
    """The outcome of parsing one assistant turn."""

    text: str
    """The assistant's turn as text (for the transcript), tool-call markup included."""
    tool_calls: tuple[ToolCall, ...] = ()
    errors: tuple[str, ...] = field(default_factory=tuple)

    @property
    def is_valid(self) -> bool:
        return not self.errors and bool(self.tool_calls)

    def to_message(self, *, with_tool_calls: bool) -> dict[str, Any]:
        """The turn as a plain assistant message (for the transcript): JSON data only.

        ``with_tool_calls`` (for message-dict actions) lists the parsed calls in OpenAI form;
        the caller's own objects are never kept (they may hold anything, and may change).
        """
        message: dict[str, Any] = {"role": "assistant", "content": self.text}
        if with_tool_calls and self.tool_calls:
            message["tool_calls"] = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": json.dumps(call.arguments)},
                }
                for call in self.tool_calls
            ]
        return message


def snippet(text: str, limit: int = MAX_ERROR_SNIPPET) -> str:
    """A short, printable excerpt of ``text`` for error messages."""
    text = text.replace("\n", "\\n")
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars)"


def json_depth(text: str) -> int:
    """Deepest nesting of ``[``/``{`` in JSON ``text``, brackets inside strings ignored.

    A linear scan with no recursion, so it can bound what the recursive decoder is given.
    """
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _parse_int(literal: str) -> int:
    digits = len(literal.lstrip("-"))
    if digits > MAX_INT_DIGITS:
        raise JsonLimitError(
            f"an integer of {digits} digits is out of range (at most {MAX_INT_DIGITS} digits)"
        )
    return int(literal)


def _parse_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise JsonLimitError(f"the number {snippet(literal, 40)} is out of range")
    return value


def _reject_constant(name: str) -> Any:
    raise JsonLimitError(f"{name} is not a JSON value: numbers must be finite")


def decode_json(text: str) -> Any:
    """``json.loads`` with bounds: nesting, integer length and finite numbers.

    Raises:
        ValueError: ``json.JSONDecodeError`` for bad syntax, ``JsonLimitError`` for a value out
            of bounds; never ``RecursionError``.
    """
    depth = json_depth(text)
    if depth > MAX_JSON_DEPTH:
        raise JsonLimitError(f"nested too deeply ({depth} levels; at most {MAX_JSON_DEPTH})")
    try:
        return json.loads(
            text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_reject_constant
        )
    except RecursionError:  # json_depth bounds the nesting; kept as the last guard
        raise JsonLimitError("nested too deeply") from None


def plain_json(value: Any, depth: int = 0) -> Any:
    """A copy of ``value`` as plain, bounded JSON data, or ``JsonLimitError`` saying why not.

    Accepts None, bools, strings, integers of at most ``MAX_INT_DIGITS`` digits, finite floats,
    lists/tuples (as lists) and mappings with string keys, nested at most ``MAX_JSON_DEPTH``
    deep. Never calls ``str``/``repr`` on the value (a huge int or a hostile object raises there).
    """
    if depth > MAX_JSON_DEPTH:
        raise JsonLimitError(f"nested too deeply (more than {MAX_JSON_DEPTH} levels)")
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return clean_text(str.__str__(value))
    if isinstance(value, int):
        if value.bit_length() > _MAX_INT_BITS:
            raise JsonLimitError(f"an integer is out of range (at most {MAX_INT_DIGITS} digits)")
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise JsonLimitError(f"{float(value)} is not a JSON value: numbers must be finite")
        return float(value)
    if isinstance(value, list | tuple):
        return [plain_json(item, depth + 1) for item in value]
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise JsonLimitError(f"object keys must be strings, got a {type(key).__name__}")
            out[clean_text(str.__str__(key))] = plain_json(item, depth + 1)
        return out
    raise JsonLimitError(
        f"a {type(value).__name__} is not a JSON value "
        "(use objects, arrays, strings, finite numbers, true/false or null)"
    )


def _call_from_payload(payload: Any, index: int) -> tuple[ToolCall | None, str | None]:
    """Validate one decoded tool-call payload: ``{"name": str, "arguments": dict}``."""
    if not isinstance(payload, Mapping):
        return None, f"tool call #{index + 1} must be a JSON object, got {type(payload).__name__}"
    name = payload.get("name")
    if not isinstance(name, str) or not name:
        return None, f'tool call #{index + 1} has no "name" string'
    arguments = payload.get("arguments", payload.get("parameters", {}))
    if isinstance(arguments, str):  # some models double-encode arguments
        try:
            arguments = decode_json(arguments) if arguments.strip() else {}
        except ValueError as exc:
            reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
            return (
                None,
                f'tool call #{index + 1} ({snippet(name, 60)}): "arguments" is not valid JSON: '
                f"{reason}",
            )
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, Mapping):
        return None, (
            f'tool call #{index + 1} ({snippet(name, 60)}): "arguments" must be an object, '
            f"got {type(arguments).__name__}"
        )
    try:  # decoded text is plain already; a message dict may hold any Python object
        arguments = plain_json(arguments)
    except JsonLimitError as exc:
        return None, f'tool call #{index + 1} ({snippet(name, 60)}): bad "arguments": {exc}'
    return ToolCall(name=clean_text(name), arguments=arguments, id=f"call_{index}"), None


def parse_text(text: str) -> ParsedAction:
    """Parse a raw-text turn with ``<tool_call>`` blocks."""
    text = clean_text(str.__str__(text))
    calls: list[ToolCall] = []
    errors: list[str] = []
    for index, match in enumerate(TOOL_CALL_RE.finditer(text)):
        body = match.group(1).strip()
        if not match.group(0).endswith("</tool_call>"):
            errors.append(f"tool call #{index + 1} is missing its closing </tool_call> tag")
            continue
        try:
            payload = decode_json(body)
        except json.JSONDecodeError as exc:
            errors.append(
                f"tool call #{index + 1} is not valid JSON ({exc.msg} at char {exc.pos}): "
                f"{snippet(body)}"
            )
            continue
        except JsonLimitError as exc:
            errors.append(f"tool call #{index + 1} cannot be a tool call: {exc}")
            continue
        call, error = _call_from_payload(payload, index)
        if error:
            errors.append(error)
        elif call is not None:
            calls.append(call)
    return ParsedAction(text=text, tool_calls=tuple(calls), errors=tuple(errors))


def parse_message(message: Mapping[str, Any]) -> ParsedAction:
    """Parse an OpenAI-style assistant message dict (any field may hold anything)."""
    content = message.get("content")
    if content is None:
        content = ""
    if not isinstance(content, str):
        return ParsedAction(
            text="",
            errors=(f'"content" must be a string or null, got {type(content).__name__}',),
        )
    content = clean_text(str.__str__(content))
    raw_calls = message.get("tool_calls")
    if raw_calls is None:
        raw_calls = []
    if not isinstance(raw_calls, list | tuple):
        return ParsedAction(
            text=content,
            errors=(f'"tool_calls" must be a list, got {type(raw_calls).__name__}',),
        )
    if not raw_calls:  # a model may still have written the calls as text
        return parse_text(content)
    calls: list[ToolCall] = []
    errors: list[str] = []
    for index, raw in enumerate(raw_calls):
        function = raw.get("function") if isinstance(raw, Mapping) else None
        if not isinstance(function, Mapping):
            errors.append(f'tool call #{index + 1} has no "function" object')
            continue
        call, error = _call_from_payload(function, index)
        if error:
            errors.append(error)
        elif call is not None:
            call_id = raw.get("id")
            calls.append(
                call.model_copy(update={"id": clean_text(str.__str__(call_id))})
                if isinstance(call_id, str) and call_id
                else call
            )
    return ParsedAction(text=content, tool_calls=tuple(calls), errors=tuple(errors))


def parse_action(action: Any) -> ParsedAction:
    """Parse any action an agent may send: text, bytes or an OpenAI-style message dict."""
    if isinstance(action, bytes | bytearray):
        action = bytes(action).decode("utf-8", errors="replace")
    if isinstance(action, str):
        return parse_text(action)
    if isinstance(action, Mapping):
        return parse_message(action)
    return ParsedAction(
        text="",
        errors=(
            f"an action must be a string or an assistant message dict, got {type(action).__name__}",
        ),
    )


def action_size(action: Any, limit: int) -> int | None:
    """About how many characters ``action`` holds, or None if over ``limit`` or too deep.

    Walks strings, numbers, lists and mappings without calling ``str`` on them (``str`` of
    an int over 4,300 digits raises; a self-containing dict would never end); stops as soon
    as the count passes ``limit``. Other objects count as their type's name.
    """
    total = 0
    stack: list[tuple[Any, int]] = [(action, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_JSON_DEPTH + 4:
            return None
        if isinstance(value, str | bytes | bytearray):
            total += len(value)
        elif isinstance(value, bool) or value is None:
            total += 4
        elif isinstance(value, int):
            total += value.bit_length() // 3 + 1  # about the decimal digits, no str()
        elif isinstance(value, float):
            total += 24
        elif isinstance(value, Mapping | list | tuple) and len(value) > limit - total:
            return None  # each entry counts at least one character
        elif isinstance(value, Mapping):
            total += 2
            stack.extend((item, depth + 1) for pair in value.items() for item in pair)
        elif isinstance(value, list | tuple):
            total += 2
            stack.extend((item, depth + 1) for item in value)
        else:
            total += len(type(value).__name__)
        if total > limit:
            return None
    return total


def format_tool_call(name: str, **arguments: Any) -> str:
    """The canonical text form of one tool call (what scripted experts emit)."""
    return "<tool_call>" + json.dumps({"name": name, "arguments": arguments}) + "</tool_call>"
