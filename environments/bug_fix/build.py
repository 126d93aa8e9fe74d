"""Freeze the BugFix data: project bundle, confirmed-mutant catalog and the test split.

``python -m llmgym.environments.bug_fix.build [--workers 2]`` reads the authored projects in
``tasks/bug_fix/projects/``, runs each clean suite in the sandbox (every test must pass; its
ids become the expected ids), then runs the suite once per candidate mutation and per
sampled cross-file pair, keeping those that break at least one hidden test (whose docstrings
write the bug report) and that the judge rejects (its probes disagree with the clean code:
an unrepaired task must never be paid), and writes ``projects.json``, ``mutants.json`` and
``test.jsonl``.
Print the new test split sha256 and record it in ``BugFixEnv.test_split_sha256``.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import itertools
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from llmgym.environments.bug_fix.grader import grade
from llmgym.environments.bug_fix.mutations import Mutation, apply_mutations, find_mutations
from llmgym.environments.bug_fix.projects import HIDDEN_TESTS_DIR, Project, read_project_folder
from llmgym.environments.bug_fix.suite import run_suite
from llmgym.sandbox import Sandbox
from llmgym.tasks import make_test_split, write_split

log = logging.getLogger(__name__)
DATA_DIR = Path(__file__).resolve().parents[2] / "tasks" / "bug_fix"
TEST_SPLIT_SIZE = 48
PAIRS_PER_PROJECT = 40


def hidden_test_docs(files: dict[str, str]) -> dict[str, str]:
    """``hidden_tests.test_x::test_y`` -> the test's docstring."""
    docs = {}
    for rel, text in files.items():
        if rel.startswith(HIDDEN_TESTS_DIR + "/") and rel.endswith(".py"):
            module = rel[:-3].replace("/", ".")
            for node in ast.parse(text).body:
                if isinstance(node, ast.FunctionDef) and node.name.startswith("test"):
                    docs[f"{module}::{node.name}"] = ast.get_docstring(node) or node.name
    return docs


class Runner:
    """Runs suites on a small pool of sandboxes (one command per sandbox at a time)."""

    def __init__(self, workers: int):
        self.pool: asyncio.Queue[Sandbox] = asyncio.Queue()
        self.sandboxes = [Sandbox() for _ in range(workers)]
        for sb in self.sandboxes:
            self.pool.put_nowait(sb)

    async def outcomes(self, files: dict[str, str]) -> dict[str, str | None] | None:
        sandbox = await self.pool.get()
        try:
            return (await run_suite(files, sandbox)).outcomes
        finally:
            self.pool.put_nowait(sandbox)

    async def judged(self, project: Project, files: dict[str, str]) -> bool:
        """Whether the judge rejects ``files`` (an unrepaired bug must never be paid)."""
        sandbox = await self.pool.get()
        try:
            sources = {p: files[p] for p in project.source_files if p in files}
            return (await grade(project, sources, sandbox)).reward < 1.0
        finally:
            self.pool.put_nowait(sandbox)

    def close(self) -> None:
        for sb in self.sandboxes:
            sb.close()


def _entry(
    project: Project, mutations: list[Mutation], outcomes: dict[str, str | None]
) -> dict[str, Any] | None:
    failing = {t: m for t, m in outcomes.items() if m is not None}
    hidden = {t: m for t, m in failing.items() if t.startswith(HIDDEN_TESTS_DIR)}
    if not hidden or set(outcomes) != set(project.expected_tests):
        return None  # harmless (equivalent) mutant, or it broke collection of some file
    return {
        "project": project.name,
        "mutations": [m.to_dict() for m in mutations],
        "failing_visible": {t: m for t, m in failing.items() if t not in hidden},
        "failing_hidden": hidden,
    }


async def build_project(folder: Path, runner: Runner) -> tuple[Project, list[dict[str, Any]]]:
    files = read_project_folder(folder)
    clean = await runner.outcomes(files)
    if clean is None or any(m is not None for m in clean.values()):
        raise RuntimeError(f"project {folder.name} does not pass its own suite: {clean}")
    project = Project(
        name=folder.name,
        files=files,
        expected_tests=tuple(sorted(clean)),
        test_docs=hidden_test_docs(files),
    )
    candidates = [m for path in project.source_files for m in find_mutations(path, files[path])]
    results = await asyncio.gather(
        *(runner.outcomes(apply_mutations(files, [m])) for m in candidates)
    )
    singles = []
    for mutation, outcomes in zip(candidates, results, strict=True):
        entry = _entry(project, [mutation], outcomes) if outcomes else None
        if entry:
            singles.append(entry)
    # hard bugs: pairs in different files that no visible test catches, confirmed together
    quiet = [e for e in singles if not e["failing_visible"]]
    pairs = [
        (a, b)
        for a, b in itertools.combinations(quiet, 2)
        if a["mutations"][0]["path"] != b["mutations"][0]["path"]
    ]
    rng = np.random.default_rng(sum(folder.name.encode()))
    chosen = [pairs[i] for i in sorted(rng.permutation(len(pairs))[:PAIRS_PER_PROJECT])]
    muts = [
        [Mutation.from_dict(a["mutations"][0]), Mutation.from_dict(b["mutations"][0])]
        for a, b in chosen
    ]
    results = await asyncio.gather(*(runner.outcomes(apply_mutations(files, ms)) for ms in muts))
    combos = []
    for (a, b), ms, outcomes in zip(chosen, muts, results, strict=True):
        entry = _entry(project, ms, outcomes) if outcomes else None
        if entry and not entry["failing_visible"]:
            fails = set(entry["failing_hidden"])
            if fails & set(a["failing_hidden"]) and fails & set(b["failing_hidden"]):
                combos.append(entry)
    entries = singles + combos
    rejected = await asyncio.gather(
        *(
            runner.judged(
                project, apply_mutations(files, [Mutation.from_dict(m) for m in e["mutations"]])
            )
            for e in entries
        )
    )
    kept = [e for e, bad in zip(entries, rejected, strict=True) if bad]
    log.info(
        "%s: %d candidates, %d confirmed, %d pairs, %d dropped (the judge's probes miss them: "
        "extend probes/%s.py)",
        folder.name,
        len(candidates),
        len(singles),
        len(combos),
        len(entries) - len(kept),
        folder.name,
    )
    return project, kept


async def build(workers: int, split_only: bool = False) -> None:
    if not split_only:
        runner = Runner(workers)
        try:
            folders = sorted(p for p in (DATA_DIR / "projects").iterdir() if p.is_dir())
            built = [await build_project(folder, runner) for folder in folders]
        finally:
            runner.close()
        bundle = {p.name: p.model_dump(mode="json") for p, _ in built}
        (DATA_DIR / "projects.json").write_text(json.dumps(bundle, indent=1, sort_keys=True) + "\n")
        catalog = [e for _, entries in built for e in entries]
        (DATA_DIR / "mutants.json").write_text(json.dumps(catalog, indent=1) + "\n")
    from llmgym.environments.bug_fix import generator, projects

    projects.load_projects.cache_clear()
    generator.load_catalog.cache_clear()
    tasks = make_test_split(generator.generate_bug_task, generator.DIFFICULTIES, TEST_SPLIT_SIZE)
    path, sha = write_split("bug_fix", "test", tasks, root=DATA_DIR.parent)
    counts = {d: len(v) for d, v in generator.entries_by_difficulty().items()}
    log.info("catalog: %d confirmed bugs %s", sum(counts.values()), counts)
    log.info("wrote %s (%d tasks), sha256 %s", path, len(tasks), sha)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--split-only", action="store_true", help="only rewrite test.jsonl")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    asyncio.run(build(args.workers, args.split_only))


if __name__ == "__main__":
    main()
