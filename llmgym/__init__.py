"""llmgym: Gymnasium environments for tool-using LLM agents, rollouts and GRPO training."""

__version__ = "0.1.0"
