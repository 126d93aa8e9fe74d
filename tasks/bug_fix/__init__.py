"""BugFix task data: the frozen project bundle, the confirmed-mutant catalog and the test split."""
