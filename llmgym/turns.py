"""Reading one agent turn at the environment's boundary, and the texts that answer it.

``read_turn`` bounds a turn's size and parses it (``llmgym.parsing``) and never raises: a
hostile object or a parser bug is answered as an invalid turn, not a crashed rollout.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Mapping
from typing import Any

from llmgym.messages import ToolCall
from llmgym.parsing import ParsedAction, action_size, parse_action, snippet
from llmgym.tools import ToolArgumentError, ToolError, Toolset, format_result

log = logging.getLogger(__name__)
TOOL_FORMAT_HELP = (
    "Call tools by writing, for each call, a line of the form\n"
    '<tool_call>{"name": "TOOL_NAME", "arguments": {"ARG": VALUE}}</tool_call>\n'
    "You may make several calls in one turn. Every turn must contain at least one tool call. "
    "Call submit when you are done: your work is graded on the final state, not on what you say."
)
NO_TOOL_CALL = "[environment] Invalid action: your turn contained no tool call. " + TOOL_FORMAT_HELP
MAX_ERRORS_SHOWN = 8
"""Most problems of one turn listed in the message that answers it."""


def read_turn(action: Any, max_chars: int) -> ParsedAction:
    """Bound the turn's size, then parse it; never raises."""
    try:
        return _read_bounded(action, max_chars)
    except Exception as exc:  # the boundary: a hostile object or a parser bug must not
        # end the rollout (a str or dict subclass whose methods raise, for one)
        log.warning("parsing an action raised; answered as invalid", exc_info=True)
        return ParsedAction(
            text="", errors=(f"your turn could not be read ({type(exc).__name__})",)
        )


def _read_bounded(action: Any, limit: int) -> ParsedAction:
    if isinstance(action, str) and type(action) is not str:
        action = str.__str__(action)  # an exact copy: a subclass's methods never run
    if action_size(action, limit) is None:
        size = f"{len(action)} characters" if type(action) in (str, bytes) else "too large"
        return ParsedAction(
            text=snippet(action) if isinstance(action, str) else "",
            errors=(
                f"your turn is {size} (or nested too deeply); the limit is {limit} characters",
            ),
        )
    if isinstance(action, str) and "\x00" in action:
        action = action.replace("\x00", "\ufffd")
    return parse_action(action)


def problems(errors: tuple[str, ...]) -> str:
    """A turn's problems as one text (at most ``MAX_ERRORS_SHOWN`` listed)."""
    if len(errors) == 1:
        return errors[0]
    shown = [f"- {e}" for e in errors[:MAX_ERRORS_SHOWN]]
    if len(errors) > MAX_ERRORS_SHOWN:
        shown.append(f"- ... and {len(errors) - MAX_ERRORS_SHOWN} more")
    return f"{len(errors)} problems:\n" + "\n".join(shown)


async def run_call(toolset: Toolset, call: ToolCall) -> tuple[str, bool]:
    """Run one tool call: (the text the agent reads, whether the call was invalid). A tool
    error is the agent's answer; a tool that crashes on odd arguments is answered too."""
    try:
        result = toolset.invoke(call)
        if inspect.isawaitable(result):
            result = await result
        return format_result(result), False
    except ToolArgumentError as exc:
        return f"Error: {exc}", True
    except ToolError as exc:
        return f"Error: {exc}", False
    except Exception as exc:  # a tool crashing on odd (schema-valid) arguments
        log.warning("tool %r raised on agent arguments", call.name, exc_info=True)
        return f"Error: the tool {call.name} failed on these arguments ({type(exc).__name__})", True


def skipped_calls(skipped: list[str], limit: int) -> str:
    """The message for the calls past a turn's limit (one message, however many)."""
    return (
        f"[environment] Invalid action: at most {limit} tool calls run per turn; the other "
        f"{len(skipped)} were skipped ({names(skipped)})."
    )


def ignored_calls(ignored: list[str]) -> str:
    """The message for calls after ``submit`` in the same turn."""
    return (
        f"[environment] Ignored {len(ignored)} tool call(s) after submit ({names(ignored)}): "
        "the episode was already submitted."
    )


def names(called: list[str], shown: int = 5) -> str:
    """Tool names, the first few (for a message about calls that did not run)."""
    text = ", ".join(snippet(n, 40) for n in called[:shown])
    return text + (f", ... {len(called) - shown} more" if len(called) > shown else "")


def format_message(message: Mapping[str, Any]) -> str:
    """One message as readable terminal text."""
    role = message.get("role", "?")
    name = f" {message['name']}" if message.get("name") else ""
    return f"[{role}{name}]\n{message.get('content', '')}\n"
