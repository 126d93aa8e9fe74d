"""The BugFix task spec as a frozen typed record: the JSON ``generator.generate_bug_task`` writes.

``BugFixEnv`` names :class:`BugFixSpec` as its ``task_spec_type``: every task (the test
split's and each generated train task) is validated against it, strictly, when it starts, and
the env, its expert and its cheats read the typed fields. The task file keeps the JSON.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from llmgym.environments.bug_fix.mutations import Mutation
from llmgym.tasks import TaskSpec

MutationKind = Literal[
    "off_by_one", "wrong_operator", "swapped_arguments", "missing_edge_case", "wrong_default"
]
"""The kinds ``mutations.find_mutations`` produces (``mutations.KINDS``, in the same order)."""

LineNumber = Annotated[int, Field(ge=1)]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class MutationSpec(TaskSpec):
    """One injected bug: lines ``start_line..end_line`` of ``path`` replaced (``Mutation``)."""

    path: str  # relative to the project root, e.g. "calutil/months.py"
    start_line: LineNumber  # 1-based, inclusive
    end_line: LineNumber
    original: str  # the clean project's lines
    mutated: str  # what replaces them; "" deletes them (a missing guard clause)
    kind: MutationKind

    def to_mutation(self) -> Mutation:
        """The same mutation as :class:`Mutation`, which applies and undoes it."""
        return Mutation(
            self.path, self.start_line, self.end_line, self.original, self.mutated, self.kind
        )


class BugFixSpec(TaskSpec):
    """A BugFix task: a bundled project, the bugs injected into it and the user's report."""

    project: str  # a project name in tasks/bug_fix/projects.json
    project_sha256: Sha256  # that project's ``Project.sha256`` when the task was made
    mutations: Annotated[tuple[MutationSpec, ...], Field(min_length=1, max_length=2)]
    """One bug (easy, medium) or two in different files (hard)."""
    issue: str  # the bug report the agent reads: symptoms, never the fix
    catalog_key: str  # ``CatalogEntry.key`` of the bug (train tasks never draw the test's)
