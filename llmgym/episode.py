"""The one episode loop: reset, then a policy's actions until the episode ends.

``llmgym check``, the SFT warm-start's expert conversations and ``llmgym play`` all play
episodes through ``play`` (the collector, which drives an engine asynchronously and keeps
token ids, is the other way to play one).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from llmgym.parsing import format_tool_call


@dataclass
class PlayedEpisode:
    """What one episode gave: the conversation and the transitions, with its outcome."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    """The environment's messages and the policy's turns, in order."""
    transitions: list[Any] = field(default_factory=list)
    """The reset observation, then ``(obs, reward, terminated, truncated)`` per step."""
    reward: float = 0.0
    reason: str | None = None
    """``info["termination_reason"]`` of the last step (None: the policy stopped first)."""
    invalid: int = 0
    """Steps whose ``info["invalid_action"]`` was true."""
    info: dict[str, Any] = field(default_factory=dict)
    """The last ``info``."""


def play(
    env: Any,
    policy: Callable[[], str | None],
    *,
    seed: int | None = None,
    options: dict[str, Any] | None = None,
    submit_when_done: bool = True,
    on_step: Callable[[list[dict[str, Any]], float, bool, bool, dict[str, Any]], None]
    | None = None,
) -> PlayedEpisode:
    """``env.reset(seed, options)``, then ``policy()`` until the episode ends.

    ``policy`` returns the next action, or None when it has nothing more to do: the episode
    is then submitted (``submit_when_done``) or left where it is. ``on_step`` sees each
    step's result as it comes (``llmgym play`` prints it). At most the env's ``max_turns``
    steps are played.
    """
    obs, info = env.reset(seed=seed, options=options)
    out = PlayedEpisode(messages=list(obs), transitions=[obs], info=info)
    for _ in range(getattr(env.unwrapped, "max_turns", 10_000)):
        action = policy()
        if action is None:
            if not submit_when_done:
                break
            action = format_tool_call("submit")
        out.messages.append({"role": "assistant", "content": action})
        obs, reward, terminated, truncated, info = env.step(action)
        out.messages.extend(obs)
        out.transitions.append((obs, reward, terminated, truncated))
        out.reward, out.info = reward, info
        out.invalid += bool(info.get("invalid_action"))
        if on_step is not None:
            on_step(obs, reward, terminated, truncated, info)
        if terminated or truncated:
            out.reason = info.get("termination_reason")
            break
    return out
