"""llmgym: Gymnasium environments for tool-using LLM agents, rollouts and GRPO training.

``import llmgym`` registers every environment id with Gymnasium and imports nothing heavy.
"""

from llmgym.registration import register_all, registered

__version__ = "0.1.0"
__all__ = ["__version__", "registered"]

register_all()
