"""The hardened grader: never trusts the agent's tree.

A grading run builds a fresh tree from trusted storage (the project bundle: clean tests,
hidden tests, our own pytest config), copies in only the project's source files from the
agent's tree (regular files, no symlinks, size-capped; a deleted file stays deleted), adds a
canary test that must fail, and runs ``python -I -m pytest -p no:cacheprovider --noconftest``
with a trusted ``-c`` config inside the sandbox. The verdict comes from the JUnit report: the
exact expected test ids, each passed, the canary failed with its secret nonce. A planted
``conftest.py``/``pytest.ini``/``sitecustomize.py`` is never copied, rewritten or deleted tests
are replaced by the trusted ones, and an ``os._exit(0)`` leaves no report: all score 0.
"""

from __future__ import annotations

import os
import secrets
import shutil
import stat
import sys
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from llmgym.environments.bug_fix.projects import HIDDEN_TESTS_DIR, VISIBLE_TESTS_DIR, Project
from llmgym.sandbox import SANDBOX_WORKDIR, Sandbox, SandboxLimits

GRADER_DIR = ".llmgym_grader"
MAX_SOURCE_BYTES = 512_000
MAX_REPORT_BYTES = 5_000_000
GRADING_LIMITS = SandboxLimits(wall_seconds=60, cpu_seconds=60, output_bytes=8_000)
TRUSTED_INI = f"[pytest]\npythonpath = {SANDBOX_WORKDIR}\naddopts =\njunit_family = xunit1\n"


@dataclass(frozen=True)
class SuiteResult:
    """Per-test outcomes of one run of the full suite (None: no usable report)."""

    outcomes: dict[str, str | None] | None
    """test id -> None if passed, else the failure message."""
    exit_code: int | None
    output: str
    duration_s: float


@dataclass(frozen=True)
class GradeReport:
    """The grader's verdict on one tree."""

    reward: float
    passed: tuple[str, ...] = ()
    failed: dict[str, str] = field(default_factory=dict)
    missing: tuple[str, ...] = ()
    unexpected: tuple[str, ...] = ()
    canary_ok: bool = False
    report_ok: bool = False
    hidden_pass_rate: float = 0.0
    visible_pass_rate: float = 0.0
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


def trusted_tree(project: Project, sources: dict[str, str]) -> dict[str, str]:
    """Clean project files with the source files replaced by ``sources`` (missing = deleted)."""
    tree = {p: t for p, t in project.files.items() if p not in project.source_files}
    tree.update({p: sources[p] for p in project.source_files if p in sources})
    return tree


async def run_suite(
    files: dict[str, str], sandbox: Sandbox, nonce: str | None = None
) -> SuiteResult:
    """Run visible + hidden tests of ``files`` in a fresh dir in the sandbox; parse JUnit."""
    with tempfile.TemporaryDirectory(prefix="llmgym-grade-") as tmp:
        work = Path(tmp) / "tree"
        for rel, text in files.items():
            if rel == "pytest.ini":
                continue  # never the project's own config: ours below
            dest = work / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(text)
        config = work / GRADER_DIR
        config.mkdir(parents=True, exist_ok=True)
        (config / "pytest.ini").write_text(TRUSTED_INI)
        if nonce:
            (work / HIDDEN_TESTS_DIR / f"test_zz_canary_{nonce}.py").write_text(
                f"def test_canary_{nonce}():\n    assert False, 'canary {nonce}'\n"
            )
        sandbox.adopt(work)
        report = work / GRADER_DIR / "junit.xml"
        argv = [
            sys.executable, "-I", "-m", "pytest", "-p", "no:cacheprovider", "--noconftest",
            "-c", f"{GRADER_DIR}/pytest.ini", "--rootdir", ".", "--junitxml", f"{GRADER_DIR}/junit.xml",
            "-q", "-p", "no:randomly", VISIBLE_TESTS_DIR, HIDDEN_TESTS_DIR,
        ]  # fmt: skip
        result = await sandbox.arun(argv, work, limits=GRADING_LIMITS)
        outcomes = _parse_junit(report) if not result.timed_out else None
        return SuiteResult(
            outcomes, result.exit_code, result.stdout + result.stderr, result.duration_s
        )


def _parse_junit(path: Path) -> dict[str, str | None] | None:
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_REPORT_BYTES:
            return None
        root = ET.fromstring(path.read_bytes())
    except (OSError, ET.ParseError):
        return None
    outcomes: dict[str, str | None] = {}
    for case in root.iter("testcase"):
        test_id = f"{case.get('classname', '')}::{case.get('name', '')}"
        bad = [c for c in case if c.tag in ("failure", "error", "skipped")]
        if test_id in outcomes:  # a duplicated id is a forged report
            return None
        outcomes[test_id] = None if not bad else (bad[0].get("message") or bad[0].tag)[:500]
    return outcomes


async def grade(project: Project, sources: dict[str, str], sandbox: Sandbox) -> GradeReport:
    """Grade ``sources`` (the agent's versions of the project's source files)."""
    nonce = secrets.token_hex(8)
    suite = await run_suite(trusted_tree(project, sources), sandbox, nonce=nonce)
    if suite.outcomes is None:
        return GradeReport(
            reward=0.0,
            duration_s=suite.duration_s,
            explanation=f"no usable test report (exit code {suite.exit_code})",
        )
    outcomes = dict(suite.outcomes)
    canary = [t for t in outcomes if t.endswith(f"::test_canary_{nonce}")]
    canary_ok = len(canary) == 1 and nonce in (outcomes.pop(canary[0]) or "")
    expected = set(project.expected_tests)
    passed = tuple(sorted(t for t, msg in outcomes.items() if msg is None and t in expected))
    failed = {t: msg for t, msg in sorted(outcomes.items()) if msg is not None and t in expected}
    missing = tuple(sorted(expected - set(outcomes)))
    unexpected = tuple(sorted(set(outcomes) - expected))
    hidden = [t for t in expected if t.startswith(HIDDEN_TESTS_DIR)]
    visible = [t for t in expected if not t.startswith(HIDDEN_TESTS_DIR)]
    resolved = (
        canary_ok and not failed and not missing and not unexpected and len(passed) == len(expected)
    )
    why = "all tests pass" if resolved else _explain(canary_ok, failed, missing, unexpected)
    return GradeReport(
        reward=1.0 if resolved else 0.0,
        passed=passed,
        failed=failed,
        missing=missing,
        unexpected=unexpected,
        canary_ok=canary_ok,
        report_ok=True,
        hidden_pass_rate=sum(t in passed for t in hidden) / max(1, len(hidden)),
        visible_pass_rate=sum(t in passed for t in visible) / max(1, len(visible)),
        duration_s=suite.duration_s,
        explanation=why,
    )


def _explain(
    canary_ok: bool, failed: dict[str, str], missing: tuple[str, ...], unexpected: tuple[str, ...]
) -> str:
    parts = []
    if not canary_ok:
        parts.append("the canary test did not fail as it must (pytest was tampered with)")
    if failed:
        parts.append(f"{len(failed)} test(s) failed")
    if missing:
        parts.append(f"{len(missing)} expected test(s) did not run")
    if unexpected:
        parts.append(f"{len(unexpected)} unexpected test id(s)")
    return "; ".join(parts)


def copy_tree(files: dict[str, str], dest: Path) -> None:
    """Write ``files`` under ``dest`` (fresh)."""
    if dest.exists():
        shutil.rmtree(dest)
    for rel, text in files.items():
        path = dest / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
