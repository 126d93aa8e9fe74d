"""Bundled llmgym environments (installed as ``llmgym.environments``)."""
