"""Run a project's pytest suite (visible + hidden tests) on a trusted tree in the sandbox.

Used where no agent code is involved: ``build.py`` confirms each candidate mutant of the
clean code against the hidden tests (the catalog, and the issue text from the failing tests'
docstrings), and the judge-strength bench measures what these tests alone would reject. The
reward never comes from here: see ``grader.py``.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from llmgym.environments.bug_fix.projects import HIDDEN_TESTS_DIR, VISIBLE_TESTS_DIR
from llmgym.sandbox import SANDBOX_WORKDIR, Sandbox, SandboxLimits, scratch_dir

SUITE_DIR = ".llmgym_suite"
MAX_REPORT_BYTES = 5_000_000
SUITE_LIMITS = SandboxLimits(wall_seconds=60, cpu_seconds=60, output_bytes=8_000)
TRUSTED_INI = f"[pytest]\npythonpath = {SANDBOX_WORKDIR}\naddopts =\njunit_family = xunit1\n"


@dataclass(frozen=True)
class SuiteResult:
    """Per-test outcomes of one run of the full suite (None: no usable report)."""

    outcomes: dict[str, str | None] | None
    """test id -> None if passed, else the failure message."""
    exit_code: int | None
    output: str
    duration_s: float


def suite_argv() -> list[str]:
    return [
        sys.executable, "-I", "-m", "pytest", "-p", "no:cacheprovider", "--noconftest",
        "-c", f"{SUITE_DIR}/pytest.ini", "--rootdir", ".", "--junitxml", f"{SUITE_DIR}/junit.xml",
        "-q", "-p", "no:randomly", VISIBLE_TESTS_DIR, HIDDEN_TESTS_DIR,
    ]  # fmt: skip


async def run_suite(files: dict[str, str], sandbox: Sandbox) -> SuiteResult:
    """Run visible + hidden tests of ``files`` in a fresh dir in the sandbox; parse JUnit."""
    with scratch_dir("llmgym-suite-") as tmp:
        work = tmp / "tree"
        for rel, text in files.items():
            if rel == "pytest.ini":
                continue  # never the project's own config: ours below
            dest = work / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(text)
        (work / SUITE_DIR).mkdir(parents=True, exist_ok=True)
        (work / SUITE_DIR / "pytest.ini").write_text(TRUSTED_INI)
        sandbox.adopt(work)
        result = await sandbox.arun(suite_argv(), work, limits=SUITE_LIMITS)
        outcomes = parse_junit(work / SUITE_DIR / "junit.xml") if not result.timed_out else None
        return SuiteResult(
            outcomes, result.exit_code, result.stdout + result.stderr, result.duration_s
        )


def parse_junit(path: Path) -> dict[str, str | None] | None:
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
        if test_id in outcomes:
            return None
        outcomes[test_id] = None if not bad else (bad[0].get("message") or bad[0].tag)[:500]
    return outcomes


def with_sources(
    files: dict[str, str], source_files: tuple[str, ...], sources: dict[str, str]
) -> dict[str, str]:
    """``files`` with the source files replaced by ``sources`` (missing = deleted)."""
    tree = {p: t for p, t in files.items() if p not in source_files}
    tree.update({p: sources[p] for p in source_files if p in sources})
    return tree
