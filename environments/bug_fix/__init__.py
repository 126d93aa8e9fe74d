"""BugFix: repair a small Python project, graded by hidden tests in a sandbox."""

from llmgym.environments.bug_fix.env import BugFixEnv

__all__ = ["BugFixEnv"]
