"""llmgym/BugFix-v0: repair a small Python project; hidden tests in a sandbox grade it."""

from __future__ import annotations

import importlib.util
import json
import sys
from typing import Any, ClassVar

from llmgym.env import LLMEnv, Scenario, Verdict
from llmgym.environments.bug_fix.cheats import CHEATS
from llmgym.environments.bug_fix.expert import fix_edit, next_expert_action
from llmgym.environments.bug_fix.generator import generate_bug_task
from llmgym.environments.bug_fix.grader import grade, read_agent_sources
from llmgym.environments.bug_fix.mutations import apply_mutations
from llmgym.environments.bug_fix.projects import Project, load_projects
from llmgym.environments.bug_fix.spec import BugFixSpec
from llmgym.environments.bug_fix.workspace import COMMAND_LIMITS, Workspace
from llmgym.sandbox import Sandbox, SandboxLimits
from llmgym.tasks import Task, load_split

SYSTEM_PROMPT = """You are a software engineer fixing a bug in a small Python project.
A user reported the problem below. Explore the code, find the cause and fix it with the file
tools. `run` executes shell commands in the project directory (mounted at /work, no network)
and `run_tests` runs the visible tests. Fix the source code, not the tests: you are graded by
the project's full test suite, including tests you cannot see. Call submit when done."""


class BugFixEnv(LLMEnv):
    """Repair a small Python project so that its hidden test suite passes.

    Args:
        command_limits: sandbox limits of each ``run``/``run_tests`` call.
        **kwargs: see :class:`llmgym.env.LLMEnv`.
    """

    task_family = "bug_fix"
    description = (
        "Repair real Python code: explore, edit, run tests; graded by hidden tests in a sandbox."
    )
    test_split_sha256 = "47e8496b060e91f7d024c1fb39b9d3306663fe599560b0ea65ec049cee8f67af"
    task_spec_type = BugFixSpec
    task_spec: BugFixSpec
    cheats = CHEATS
    _test_keys: ClassVar[frozenset[str] | None] = None

    def __init__(self, *, command_limits: SandboxLimits = COMMAND_LIMITS, **kwargs: Any):
        kwargs.setdefault("max_turns", 30)
        kwargs.setdefault("max_observation_chars", 8_000)
        super().__init__(**kwargs)
        if importlib.util.find_spec("pytest") is None:
            raise ModuleNotFoundError(
                f"BugFix-v0 runs the projects' tests with pytest, which {sys.executable} lacks: "
                "pip install 'pytest>=8'"
            )
        self.command_limits = command_limits
        self.sandbox = Sandbox(command_limits)
        self.workspace: Workspace | None = None
        self.project: Project | None = None
        self._fix: list[tuple[str, str, str]] = []

    @classmethod
    def test_catalog_keys(cls) -> frozenset[str]:
        """Catalog keys of the test split's bugs: train tasks never draw them."""
        if cls._test_keys is None:
            tasks = load_split(cls.task_family, "test", cls.test_split_sha256)
            cls._test_keys = frozenset(BugFixSpec.of(t).catalog_key for t in tasks)
        return cls._test_keys

    def generate_task(self, seed: int, difficulty: str) -> dict[str, Any]:
        return generate_bug_task(seed, difficulty, exclude=self.test_catalog_keys())

    def start(self, task: Task) -> Scenario:
        spec = self.task_spec  # ``task``'s spec, validated by ``reset``
        project = load_projects().get(spec.project)
        if project is None or project.sha256 != spec.project_sha256:
            raise ValueError(
                f"task {task.task_id} was made from project {spec.project!r} with sha256 "
                f"{spec.project_sha256}, which the installed bundle does not hold; rebuild "
                "the data (python -m llmgym.environments.bug_fix.build) or reinstall llmgym"
            )
        mutations = [m.to_mutation() for m in spec.mutations]
        files = apply_mutations(project.agent_files(), mutations)
        if self.sandbox.closed:  # reset after close(): a new sandbox, with a new uid lease
            self.sandbox = Sandbox(self.command_limits)
        self.project = project
        self.workspace = Workspace(files, self.sandbox, self.command_limits)
        self._fix = [(m.path, *fix_edit(files[m.path], m)) for m in mutations]
        user = (
            f"Bug report for the `{project.name}` project:\n\n{spec.issue}\n\n"
            "The project is in your working directory. Fix the bug and call submit."
        )
        return Scenario(SYSTEM_PROMPT, user, (self.workspace,))

    async def verify(self) -> Verdict:
        assert self.workspace is not None and self.project is not None
        sources = read_agent_sources(self.project, self.workspace.tree)
        report = await grade(self.project, sources, self.sandbox)
        return Verdict(
            reward=report.reward,
            # no fraction of agreeing probes: replayed across episodes it is a hill to climb
            components={
                "probes": float(report.probes),
                "failing_groups": float(len(report.failing_groups)),
            },
            explanation=report.explanation,
        )

    def canonical_state(self) -> dict[str, Any]:
        """The project's source files as the grader takes them from the agent's tree."""
        if self.workspace is None or self.project is None:
            return {"sources": {}}
        return {"sources": read_agent_sources(self.project, self.workspace.tree)}

    def expert_action(self) -> str:
        if self.workspace is None:
            raise RuntimeError("no episode is running (never reset, or closed): call reset() first")
        return next_expert_action(self.workspace, self._fix)

    def end_episode(self) -> None:
        workspace, self.workspace = self.workspace, None
        if workspace is not None:
            workspace.close()  # never raises: whatever cannot be deleted is logged

    def close(self) -> None:
        """End the episode (its temp dir goes) and return the sandbox's uid lease; idempotent.

        An env dropped without ``close()`` releases both too, when it is garbage-collected or
        at interpreter exit (finalizers of ``Workspace`` and ``UidLease``). ``copy.deepcopy``
        and ``pickle`` give an independent env: its own uid lease and a copy of the work tree
        (see ``Workspace.__getstate__``), so closing one never touches the other.
        """
        try:
            super().close()
        finally:  # the uid lease goes back whatever happened to the episode's cleanup
            self.sandbox.close()

    def fix_patch(self) -> str:
        """The recorded fix of the current task, as JSON edits (for debugging and docs)."""
        return json.dumps([{"path": p, "old": o, "new": n} for p, o, n in self._fix], indent=1)
