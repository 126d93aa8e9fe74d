"""Adapters that offer llmgym environments to other training libraries (TRL)."""
