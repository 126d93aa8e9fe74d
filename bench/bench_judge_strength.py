"""How strong is the BugFix judge? Mutants of the clean code it rejects, new judge vs old tests.

Every single mutation ``mutations.find_mutations`` generates in the six projects, every
confirmed pair of the catalog (``tasks/bug_fix/mutants.json``) and two hand-written
near-misses (``* 13`` for ``* 12`` in months_between) are judged twice: by the differential
judge (``grader.grade``: reject iff a probe disagrees with the clean project) and by the old
hidden + visible pytest suite (reject iff a test fails or goes missing). The old verdicts of
catalogued mutants come from the catalog (each was confirmed there by running the suite);
the others run the suite here. Surviving mutants are listed: each is either equivalent to the
clean code or a gap in the probes.

    python bench/bench_judge_strength.py [--workers 2] [--project calendar_utils]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from collections import defaultdict
from dataclasses import dataclass

from llmgym.environments.bug_fix.generator import load_catalog
from llmgym.environments.bug_fix.grader import grade, reference_results
from llmgym.environments.bug_fix.mutations import Mutation, apply_mutations, find_mutations
from llmgym.environments.bug_fix.projects import Project, load_projects
from llmgym.environments.bug_fix.suite import run_suite
from llmgym.sandbox import Sandbox

NEAR_MISS = ("months = (end.year - start.year) * 12", "months = (end.year - start.year) * 13")


@dataclass(frozen=True)
class Mutant:
    project: str
    kind: str  # "single", "pair" or "near-miss"
    key: str
    files: dict[str, str]
    old_rejected: bool | None  # None: not known from the catalog, run the suite


def mutants(only: str | None) -> list[Mutant]:
    projects = load_projects()
    catalog = {e.key: e for e in load_catalog()}
    out = []
    for name, project in projects.items():
        if only and name != only:
            continue
        for path in project.source_files:
            for m in find_mutations(path, project.files[path]):
                key = f"{name}|{m.key}"
                files = apply_mutations(project.files, [m])
                out.append(Mutant(name, "single", key, files, True if key in catalog else None))
        for entry in catalog.values():
            if entry.project == name and len(entry.mutations) > 1:
                muts = [Mutation.from_dict(m) for m in entry.mutations]
                out.append(
                    Mutant(name, "pair", entry.key, apply_mutations(project.files, muts), True)
                )
    if only in (None, "calendar_utils"):
        clean = projects["calendar_utils"].files
        near_miss = {**clean, "calutil/months.py": clean["calutil/months.py"].replace(*NEAR_MISS)}
        out.append(Mutant("calendar_utils", "near-miss", "months_between * 13", near_miss, None))
    return out


async def judge(
    mutant: Mutant, project: Project, pool: asyncio.Queue[Sandbox]
) -> tuple[bool, bool]:
    sandbox = await pool.get()
    try:
        sources = {p: mutant.files[p] for p in project.source_files if p in mutant.files}
        new = (await grade(project, sources, sandbox)).reward < 1.0
        old = mutant.old_rejected
        if old is None:
            outcomes = (await run_suite(mutant.files, sandbox)).outcomes
            old = (
                outcomes is None
                or set(outcomes) != set(project.expected_tests)
                or any(msg is not None for msg in outcomes.values())
            )
        return new, old
    finally:
        pool.put_nowait(sandbox)


async def main(workers: int, only: str | None) -> None:
    projects = load_projects()
    todo = mutants(only)
    pool: asyncio.Queue[Sandbox] = asyncio.Queue()
    sandboxes = [Sandbox() for _ in range(workers)]
    for sb in sandboxes:
        pool.put_nowait(sb)
    started = time.perf_counter()
    try:
        for name in {m.project for m in todo}:  # warm the reference cache once per project
            await reference_results(projects[name], sandboxes[0])
        verdicts = await asyncio.gather(*(judge(m, projects[m.project], pool) for m in todo))
    finally:
        for sb in sandboxes:
            sb.close()
    elapsed = time.perf_counter() - started
    table: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    survivors = []
    for mutant, (new, old) in zip(todo, verdicts, strict=True):
        for row in ((mutant.project, mutant.kind), ("all", mutant.kind)):
            table[row][0] += 1
            table[row][1] += old
            table[row][2] += new
        if not new:
            survivors.append((mutant, old))
    print(f"\n== judge strength: mutants rejected ({len(todo)} mutants, {elapsed:.0f} s, "
          f"{workers} workers, {os.cpu_count()} cpus) ==")  # fmt: skip
    print(f"{'project':<16}{'kind':<11}{'mutants':>8}{'old tests':>11}{'new judge':>11}")
    for (project, kind), (n, old, new) in sorted(
        table.items(), key=lambda kv: (kv[0][0] == "all", kv[0])
    ):
        print(f"{project:<16}{kind:<11}{n:>8}{old:>11}{new:>11}")
    print(f"\nsurvivors of the new judge ({len(survivors)}; equivalent mutants or probe gaps):")
    for mutant, old in survivors:
        print(f"  {mutant.key}  (old tests {'rejected' if old else 'passed'} it)")
    both = [m for m, (new, old) in zip(todo, verdicts, strict=True) if old and not new]
    print(f"rejected by the old tests but not by the new judge: {len(both)}")
    for m in both:
        print(f"  {m.key}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--project", default=None, help="only this project")
    args = parser.parse_args()
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    asyncio.run(main(args.workers, args.project))
