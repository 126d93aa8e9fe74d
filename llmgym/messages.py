"""Typed chat records: the messages an environment emits and the tool calls an agent makes.

Observations cross the Gymnasium boundary as plain dicts (what chat templates and OpenAI
APIs take); inside the library they are these frozen records.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["system", "user", "assistant", "tool"]


class ToolCall(BaseModel):
    """One call of a tool by the agent, as parsed from its turn."""

    model_config = ConfigDict(frozen=True)

    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    id: str = ""


class Message(BaseModel):
    """One chat message. ``tool_call_id`` and ``name`` are set on tool results."""

    model_config = ConfigDict(frozen=True)

    role: Role
    content: str
    tool_call_id: str | None = None
    name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The message as the plain dict a chat template or an OpenAI API takes."""
        out: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.tool_call_id is not None:
            out["tool_call_id"] = self.tool_call_id
        if self.name is not None:
            out["name"] = self.name
        return out


def system(content: str) -> Message:
    return Message(role="system", content=content)


def user(content: str) -> Message:
    return Message(role="user", content=content)


def tool_result(content: str, *, call: ToolCall) -> Message:
    return Message(role="tool", content=content, tool_call_id=call.id, name=call.name)
