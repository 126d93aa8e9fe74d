"""Pure parsing of an agent's turn into tool calls.

Two action forms are accepted:

* raw text with Hermes/Qwen tool calls: ``<tool_call>{"name": ..., "arguments": {...}}</tool_call>``
  (several per turn; text around them is the agent's prose and is kept);
* an OpenAI-style assistant message dict: ``{"role": "assistant", "content": ...,
  "tool_calls": [{"id": ..., "type": "function", "function": {"name": ..., "arguments": "<json>"}}]}``.

Nothing here raises on bad input: every problem becomes a readable entry in
``ParsedAction.errors``, which the environment sends back to the agent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from llmgym.messages import ToolCall

TOOL_CALL_RE = re.compile(r"<tool_call>(.*?)(?:</tool_call>|$)", re.DOTALL)
MAX_ERROR_SNIPPET = 200


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


def snippet(text: str, limit: int = MAX_ERROR_SNIPPET) -> str:
    """A short, printable excerpt of ``text`` for error messages."""
    text = text.replace("\n", "\\n")
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars)"


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
            arguments = json.loads(arguments) if arguments.strip() else {}
        except json.JSONDecodeError as exc:
            return (
                None,
                f'tool call #{index + 1} ({name}): "arguments" is not valid JSON: {exc.msg}',
            )
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, Mapping):
        return None, (
            f'tool call #{index + 1} ({name}): "arguments" must be an object, '
            f"got {type(arguments).__name__}"
        )
    return ToolCall(name=name, arguments=dict(arguments), id=f"call_{index}"), None


def parse_text(text: str) -> ParsedAction:
    """Parse a raw-text turn with ``<tool_call>`` blocks."""
    calls: list[ToolCall] = []
    errors: list[str] = []
    for index, match in enumerate(TOOL_CALL_RE.finditer(text)):
        body = match.group(1).strip()
        if not match.group(0).endswith("</tool_call>"):
            errors.append(f"tool call #{index + 1} is missing its closing </tool_call> tag")
            continue
        try:
            payload = json.loads(body)
        except json.JSONDecodeError as exc:
            errors.append(
                f"tool call #{index + 1} is not valid JSON ({exc.msg} at char {exc.pos}): "
                f"{snippet(body)}"
            )
            continue
        except RecursionError:
            errors.append(f"tool call #{index + 1} is nested too deeply to be a tool call")
            continue
        call, error = _call_from_payload(payload, index)
        if error:
            errors.append(error)
        elif call is not None:
            calls.append(call)
    return ParsedAction(text=text, tool_calls=tuple(calls), errors=tuple(errors))


def parse_message(message: Mapping[str, Any]) -> ParsedAction:
    """Parse an OpenAI-style assistant message dict."""
    content = message.get("content") or ""
    if not isinstance(content, str):
        return ParsedAction(text="", errors=("message content must be a string or null",))
    raw_calls = message.get("tool_calls") or []
    if not isinstance(raw_calls, list):
        return ParsedAction(text=content, errors=('"tool_calls" must be a list',))
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
                call.model_copy(update={"id": call_id})
                if isinstance(call_id, str) and call_id
                else call
            )
    return ParsedAction(text=content, tool_calls=tuple(calls), errors=tuple(errors))


def parse_action(action: Any) -> ParsedAction:
    """Parse any action an agent may send: text, bytes or an OpenAI-style message dict."""
    if isinstance(action, bytes):
        action = action.decode("utf-8", errors="replace")
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


def format_tool_call(name: str, **arguments: Any) -> str:
    """The canonical text form of one tool call (what scripted experts emit)."""
    return "<tool_call>" + json.dumps({"name": name, "arguments": arguments}) + "</tool_call>"
