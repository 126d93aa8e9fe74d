"""Bundled trainers (installed as ``llmgym.trainers``)."""
