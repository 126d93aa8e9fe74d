"""What an environment's hooks return: the episode's ``Scenario`` and the verifier's ``Verdict``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from llmgym import messages as msg


@dataclass(frozen=True)
class Scenario:
    """What ``start`` returns: the episode's prompt and the objects whose ``@tool``s it exposes."""

    system_prompt: str
    user_message: str
    tool_objects: tuple[Any, ...]


@dataclass(frozen=True)
class Verdict:
    """The verifier's grade: reward in [0, 1] and its named parts."""

    reward: float
    components: dict[str, float] = field(default_factory=dict)
    explanation: str = ""

    def __post_init__(self) -> None:
        if not 0.0 <= self.reward <= 1.0:
            raise ValueError(f"reward must be in [0, 1], got {self.reward}")
        # the explanation may quote agent output: keep it writable as UTF-8, like messages
        object.__setattr__(self, "explanation", msg.clean_text(self.explanation))
