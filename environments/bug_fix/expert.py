"""The scripted BugFix expert: read the broken files, apply the recorded fix, test, submit."""

from __future__ import annotations

import json

from llmgym.environments.bug_fix.mutations import Mutation
from llmgym.environments.bug_fix.workspace import Workspace


def fix_edit(mutated_text: str, mutation: Mutation) -> tuple[str, str]:
    """(old, new) for ``edit_file``: the mutated lines with enough context to be unique."""
    lines = mutated_text.split("\n")
    start = mutation.start_line - 1
    bad = mutation.mutated.split("\n") if mutation.mutated else []
    good = mutation.original.split("\n")
    for k in range(0 if bad else 1, len(lines) + 1):
        before = lines[max(0, start - k) : start]
        after = lines[start + len(bad) : start + len(bad) + k]
        old = "\n".join(before + bad + after)
        if old and mutated_text.count(old) == 1:
            return old, "\n".join(before + good + after)
    raise ValueError(f"cannot locate mutation {mutation.key} uniquely")


def call(name: str, **arguments: str) -> str:
    return "<tool_call>" + json.dumps({"name": name, "arguments": arguments}) + "</tool_call>"


def next_expert_action(workspace: Workspace, edits: list[tuple[str, str, str]]) -> str:
    """The expert's next turn, from the workspace's state and the fix ``(path, old, new)``."""
    unread = sorted({path for path, _, _ in edits} - workspace.reads)
    if unread:
        return "Let me look at the code the report points to.\n" + "\n".join(
            call("read_file", path=p) for p in unread
        )
    pending = []
    for path, old, new in edits:
        full = workspace.tree / path
        text = full.read_text() if full.is_file() else ""
        if old in text and new not in text:
            pending.append(call("edit_file", path=path, old=old, new=new))
    if pending:
        return "I found the cause; fixing it.\n" + "\n".join(pending)
    if not workspace.tests_run_since_change:
        return "Checking the test suite.\n" + call("run_tests")
    return "The fix is in and the tests pass.\n" + call("submit")
