"""Typed chat records: the messages an environment emits and the tool calls an agent makes.

Observations cross the Gymnasium boundary as plain dicts (what chat templates and OpenAI
APIs take); inside the library they are these frozen records. A message's text is always
valid UTF-8 text: lone surrogates (from bytes that were not UTF-8, say a file name a tool
listed) become U+FFFD when the message is built, so every writer and tokenizer takes it.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Role = Literal["system", "user", "assistant", "tool"]


_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(text: str) -> str:
    """``text`` with each lone surrogate (unencodable in UTF-8) replaced by U+FFFD."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)
    return text


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

    @field_validator("content")
    @classmethod
    def _utf8_content(cls, content: str) -> str:
        return clean_text(content)

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
