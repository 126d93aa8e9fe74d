"""Driving an episode through ``gym.make``'s wrapper by tool calls: the attack tests' base."""

from __future__ import annotations

import json
from typing import Any

from llmgym.parsing import format_tool_call


def tool_call_body(action: str) -> dict[str, Any]:
    """The ``{"name", "arguments"}`` of a ``<tool_call>`` action the expert wrote."""
    return json.loads(action.removeprefix("<tool_call>").removesuffix("</tool_call>"))


class ToolEpisode:
    """One episode of a test task: ``call`` steps one tool call and returns its result
    (parsed JSON when it is JSON); ``submit`` returns the reward."""

    def __init__(self, env: Any, task_id: str):
        self.env = env
        env.reset(options={"task_id": task_id})
        self.reward = 0.0
        self.info: dict[str, Any] = {}

    def call(self, name: str, **arguments: Any) -> Any:
        obs, self.reward, *_, self.info = self.env.step(format_tool_call(name, **arguments))
        text = obs[-1]["content"]
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text

    def submit(self) -> float:
        self.call("submit")
        return self.reward
