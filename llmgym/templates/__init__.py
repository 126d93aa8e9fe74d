"""Templates that `llmgym new-env` fills in (package data, not code)."""
