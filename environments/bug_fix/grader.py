"""The BugFix judge: differential testing of the agent's sources against the clean project.

Agent code runs in one place only: a child process in the sandbox, started on a fresh tree
that holds the project's source files as found in the agent's tree (regular files, no
symlinks, size-capped; nothing else the agent wrote), our probe harness (``harness.py``) and
the probes (``probes/<project>.py``: many generated inputs, edge cases and the hidden tests'
inputs, as data). The child writes one JSON line of plain values per probe. This process,
which never imports agent code, parses those lines (size- and depth-bounded) and compares
them with the clean project's results on the same probes (computed once per project and
probe set by the same harness on the trusted sources, and cached here: same interpreter and
platform as the agent's run, so no drift between the two). Reward 1.0 iff every probe agrees.

Whatever the agent's code does inside its child (patch a test runner, register hooks, forge
or rewrite the results, return objects whose ``__eq__`` says yes) only changes the data it
hands back: to forge the right values it needs the right function, which is the task. pytest
no longer decides anything: the hidden tests' docstrings still write the bug reports
(``build.py``), the visible tests serve the agent's ``run_tests``.
"""

from __future__ import annotations

import json
import logging
import math
import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmgym.environments.bug_fix import harness
from llmgym.environments.bug_fix.probes import Probe, probes_digest, probes_for
from llmgym.environments.bug_fix.projects import Project
from llmgym.sandbox import Sandbox, SandboxLimits, scratch_dir

logger = logging.getLogger(__name__)

JUDGE_DIR = ".llmgym_judge"
MAX_SOURCE_BYTES = 512_000
MAX_RESULTS_BYTES = 16 << 20
PROBE_SECONDS = 2.0
JUDGE_LIMITS = SandboxLimits(
    wall_seconds=30, cpu_seconds=30, output_bytes=2_000, file_size_bytes=MAX_RESULTS_BYTES
)
Results = dict[str, list[Any]]
_REFERENCE: dict[tuple[str, str], Results] = {}


@dataclass(frozen=True)
class ProbeRun:
    """What one harness run handed back: probe id -> step records (untrusted plain data)."""

    results: Results
    exit_code: int | None
    timed_out: bool
    duration_s: float
    stderr: str


@dataclass(frozen=True)
class GradeReport:
    """The judge's verdict on one set of sources.

    It names the functions that disagree, never a count of probes or a probe's value (the clean
    project's, or the agent's, which for a boolean tells the clean one). Replayed across
    episodes of one task, an exact count is a signal to hill-climb on, and values are an answer
    key.
    """

    reward: float
    probes: int
    failing_groups: tuple[str, ...] = ()
    """Functions or classes with at least one disagreeing probe."""
    duration_s: float = 0.0
    explanation: str = ""


def read_agent_sources(project: Project, agent_dir: Path) -> dict[str, str]:
    """The project's source files as found in the agent's tree (only those; safely)."""
    root = os.path.realpath(agent_dir)
    taken = {}
    for rel in project.source_files:
        path = os.path.join(root, rel)
        if os.path.realpath(path) != path:  # a symlink somewhere on the way: ignore it
            continue
        try:  # O_NONBLOCK: a FIFO planted in place of a source file must not hang us
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            continue
        with os.fdopen(fd, "rb") as f:
            info = os.fstat(f.fileno())
            if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_SOURCE_BYTES:
                continue
            taken[rel] = f.read(MAX_SOURCE_BYTES + 1).decode("utf-8", "replace")
    return taken


async def run_probes(
    sources: dict[str, str], probes: tuple[Probe, ...], sandbox: Sandbox
) -> ProbeRun:
    """Run the harness on ``sources`` in a fresh tree in the sandbox; read its results.

    The tree goes afterwards whatever the child left in it (``scratch_dir``: never raises).
    """
    with scratch_dir("llmgym-judge-") as tmp:
        work = tmp / "tree"
        for rel, text in sources.items():
            dest = work / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(text)
        judge = work / JUDGE_DIR
        judge.mkdir(parents=True, exist_ok=True)
        (judge / "harness.py").write_text(Path(harness.__file__).read_text())
        spec = {
            "probe_seconds": PROBE_SECONDS,
            "preload": [
                rel[:-3].replace("/", ".").removesuffix(".__init__") for rel in sorted(sources)
            ],
            "probes": [p.to_json() for p in probes],
        }
        (judge / "probes.json").write_text(json.dumps(spec))
        sandbox.adopt(work)
        argv = [sys.executable, "-I", f"{JUDGE_DIR}/harness.py"]
        # LANGUAGE=C: gettext (argparse's messages) stops looking for catalogs at once
        result = await sandbox.arun(argv, work, env={"LANGUAGE": "C"}, limits=JUDGE_LIMITS)
        return ProbeRun(
            read_results(judge / "results.jsonl"),
            result.exit_code,
            result.timed_out,
            result.duration_s,
            result.stderr[-1000:],
        )


def read_results(path: Path) -> Results:
    """Parse the results file written in the sandbox: never follows links, never raises.

    The child may have swapped the file or its folder for a symlink into the host: both are
    opened without following links (the folder as a directory fd, the file relative to it).
    """
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK
    try:
        folder = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return {}
    try:
        fd = os.open(path.name, flags, dir_fd=folder)
    except OSError:
        return {}
    finally:
        os.close(folder)
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            return {}
        raw = f.read(MAX_RESULTS_BYTES)
    results: Results = {}
    for line in raw.split(b"\n"):
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):  # junk, 5,000-digit ints, deep nesting
            continue
        if not isinstance(record, dict):
            continue
        probe_id, steps = record.get("id"), record.get("steps")
        if isinstance(probe_id, str) and isinstance(steps, list) and probe_id not in results:
            results[probe_id] = steps
    return results


async def reference_results(project: Project, sandbox: Sandbox) -> Results:
    """The clean project's results on its probes (trusted code; computed once, cached)."""
    key = (project.sha256, probes_digest(project.name))
    if key not in _REFERENCE:
        probes = probes_for(project.name)
        clean = {p: project.files[p] for p in project.source_files}
        for _attempt in range(2):  # a probe of the clean code can time out on a busy machine
            run = await run_probes(clean, probes, sandbox)
            problems = [p.id for p in probes if not _plain(run.results.get(p.id))]
            if not problems:
                break
        if problems:  # not the agent's doing: the episode fails, it is not scored 0
            raise RuntimeError(
                f"the clean {project.name} project gives no plain result for {len(problems)} "
                f"probe(s), e.g. {problems[:3]} (exit code {run.exit_code}, stderr "
                f"{run.stderr[-300:]!r}); fix environments/bug_fix/probes/{project.name}.py"
            )
        _REFERENCE[key] = run.results
    return _REFERENCE[key]


def _plain(steps: list[Any] | None) -> bool:
    if steps is None:
        return False
    text = json.dumps(steps)
    return "$unencodable" not in text and '"ProbeTimeout"' not in text


async def grade(project: Project, sources: dict[str, str], sandbox: Sandbox) -> GradeReport:
    """Grade ``sources`` (the agent's versions of the project's source files)."""
    expected = await reference_results(project, sandbox)
    probes = probes_for(project.name)
    run = await run_probes(sources, probes, sandbox)
    bad = [p for p in probes if not probe_agrees(p, expected[p.id], run.results.get(p.id))]
    groups = tuple(dict.fromkeys(p.group for p in bad))
    if not bad:
        why = f"all {len(probes)} probes agree with the clean project"
    else:
        why = (
            f"probes disagree with the clean project, in {', '.join(groups[:6])}"
            f"{' ...' if len(groups) > 6 else ''}"
        )
        # for whoever runs the judge, not for the verdict: what a boolean probe gave tells
        # what it should give, so replayed episodes could collect the answers one by one
        first = bad[0]
        logger.debug(
            "%s: e.g. %s gave %s", project.name, first.id, _short(run.results.get(first.id))
        )
        if run.timed_out:
            why += "; the run was killed at the wall-clock limit"
    return GradeReport(
        reward=0.0 if bad else 1.0,
        probes=len(probes),
        failing_groups=groups,
        duration_s=run.duration_s,
        explanation=why,
    )


def probe_agrees(probe: Probe, expected: list[Any], got: list[Any] | None) -> bool:
    """Whether the child's records of ``probe`` equal the reference's, step by step."""
    if not isinstance(got, list) or len(got) != len(expected):
        return False
    try:
        return all(
            _step_agrees(ref, rec, probe.compares_message(i))
            for i, (ref, rec) in enumerate(zip(expected, got, strict=True))
        )
    except RecursionError:
        return False


def _step_agrees(ref: dict[str, Any], got: Any, message: bool) -> bool:
    if not isinstance(got, dict) or not same(ref.get("out", ""), got.get("out", "")):
        return False
    if "e" in ref:
        return got.get("e") == ref["e"] and (not message or got.get("m") == ref.get("m"))
    return "e" not in got and "v" in got and same(ref["v"], got["v"])


def same(expected: Any, got: Any) -> bool:
    """Equality of two encoded values; floats to 1e-9 relative; unencodable never equal."""
    if isinstance(expected, dict) and isinstance(got, dict):
        if "$unencodable" in expected or "$unencodable" in got:
            return False
        if "$float" in expected and "$float" in got and len(got) == 1:
            return _floats_equal(expected["$float"], got["$float"])
        return expected.keys() == got.keys() and all(same(v, got[k]) for k, v in expected.items())
    if isinstance(expected, list) and isinstance(got, list):
        return len(expected) == len(got) and all(
            same(a, b) for a, b in zip(expected, got, strict=True)
        )
    return type(expected) is type(got) and expected == got


def _floats_equal(a: Any, b: Any) -> bool:
    try:
        x, y = float(a), float(b)
    except (TypeError, ValueError):
        return False
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    return math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12)


def _short(value: Any, limit: int = 160) -> str:
    text = json.dumps(value, ensure_ascii=False) if value is not None else "no result"
    return text if len(text) <= limit else text[: limit - 3] + "..."
