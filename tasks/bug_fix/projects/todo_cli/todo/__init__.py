"""A tiny to-do list manager with a command-line interface."""
