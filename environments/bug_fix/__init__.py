"""BugFix: repair a small Python project, graded by hidden tests in a sandbox."""
