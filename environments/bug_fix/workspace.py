"""The agent's world in BugFix: its copy of the project and the tools that act on it.

File tools run on the host but only inside the work tree (paths are resolved and must stay
inside it; symlinks the agent planted are never followed out). ``run`` and ``run_tests``
execute in the sandbox, where the tree is mounted at ``/work``; every process they start is
gone when the call returns. After each command the tree is held to a disk quota.

The temp dir is removed by ``close()``, or by a ``weakref.finalize`` when a workspace is dropped
unclosed (garbage collection, interpreter exit). A copy or an unpickled workspace is
independent: it gets a fresh temp dir holding a snapshot of the tree (``__getstate__``).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
import tempfile
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmgym.sandbox import SANDBOX_WORKDIR, Sandbox, SandboxLimits, SandboxResult
from llmgym.tools import ToolError, tool

MAX_WRITE_CHARS = 200_000
MAX_LISTED_FILES = 300
DISK_QUOTA_BYTES = 64 << 20
SKIPPED_DIRS = {"__pycache__", ".pytest_cache"}
PYTEST_TIMING = re.compile(r" in \d+(?:\.\d+)?s(?: \(\d+:\d\d:\d\d\))?(?=(?: =+)?$)", re.MULTILINE)
COMMAND_LIMITS = SandboxLimits(wall_seconds=30, cpu_seconds=20, output_bytes=6_000)


class Workspace:
    """A project checked out in a private temp dir, with the agent's tools."""

    def __init__(
        self,
        files: dict[str, str],
        sandbox: Sandbox,
        limits: SandboxLimits = COMMAND_LIMITS,
        disk_quota_bytes: int = DISK_QUOTA_BYTES,
    ):
        self.sandbox = sandbox
        self.limits = limits
        self.disk_quota_bytes = disk_quota_bytes
        self._make_root()
        self.original_paths = frozenset(files)
        for rel, text in files.items():
            path = self.tree / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        sandbox.adopt(self.tree)
        self.reads: set[str] = set()
        self.tests_run_since_change = False

    def _make_root(self) -> None:
        self._root = Path(tempfile.mkdtemp(prefix="llmgym-bugfix-"))
        self.tree = self._root / "repo"
        self.tree.mkdir()
        # holds the path, not the workspace: runs once, on close() or when the workspace is dropped
        self._finalizer = weakref.finalize(self, remove_tree, self._root)

    @property
    def closed(self) -> bool:
        return not self._finalizer.alive

    def close(self) -> None:
        """Delete the temp dir (idempotent)."""
        self._finalizer()

    def __getstate__(self) -> dict[str, Any]:
        """Copy/pickle state: a snapshot of the tree instead of the temp dir (see the module)."""
        if self.closed:
            raise RuntimeError("this Workspace is closed: there is no tree left to copy")
        state = {k: v for k, v in self.__dict__.items() if k not in ("_root", "tree", "_finalizer")}
        state["snapshot"] = snapshot_tree(self.tree)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        snapshot: tuple[TreeEntry, ...] = state.pop("snapshot")
        self.__dict__.update(state)
        self._make_root()
        restore_tree(self.tree, snapshot)
        self.sandbox.adopt(self.tree)  # the copy's sandbox holds a uid of its own

    # --- path safety --------------------------------------------------------------------
    def resolve(self, path: str) -> Path:
        """Map an agent path (relative, or absolute under /work) to a host path in the tree."""
        if not path or "\x00" in path:
            raise ToolError(f"invalid path {path!r}")
        if path == SANDBOX_WORKDIR or path.startswith(SANDBOX_WORKDIR + "/"):
            path = path[len(SANDBOX_WORKDIR) :].lstrip("/") or "."
        if os.path.isabs(path):
            raise ToolError(f"path {path!r} is outside the project: use a path relative to it")
        root = os.path.realpath(self.tree)
        full = os.path.realpath(os.path.join(root, path))
        if full != root and not full.startswith(root + os.sep):
            raise ToolError(f"path {path!r} is outside the project")
        return Path(full)

    def _rel(self, path: Path) -> str:
        return path.relative_to(os.path.realpath(self.tree)).as_posix()

    # --- tools --------------------------------------------------------------------------
    @tool
    def list_files(self) -> str:
        """List the project's files (relative paths)."""
        out = []
        for dirpath, dirnames, filenames in os.walk(self.tree):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS)
            for name in sorted(filenames):
                out.append(Path(dirpath, name).relative_to(self.tree).as_posix())
        if len(out) > MAX_LISTED_FILES:
            return (
                "\n".join(out[:MAX_LISTED_FILES])
                + f"\n[... {len(out) - MAX_LISTED_FILES} more files]"
            )
        return "\n".join(out) or "(no files)"

    @tool
    def read_file(self, path: str) -> str:
        """Read a text file of the project.

        Args:
            path: file path relative to the project root, e.g. "pkg/module.py".
        """
        with file_errors(path):
            full = self.resolve(path)
            if not full.is_file():
                raise ToolError(f"no such file: {path!r} (call list_files to see the files)")
            self.reads.add(self._rel(full))
            return full.read_bytes().decode("utf-8", "replace")

    @tool
    def write_file(self, path: str, content: str) -> str:
        """Create or overwrite a text file of the project with the given content.

        Args:
            path: file path relative to the project root.
            content: the complete new text of the file.
        """
        with file_errors(path):
            if len(content) > MAX_WRITE_CHARS:
                raise ToolError(
                    f"content is {len(content)} characters; the limit is {MAX_WRITE_CHARS}"
                )
            full = self.resolve(path)
            if full.exists() and not full.is_file():
                raise ToolError(f"{path!r} exists and is not a regular file (a directory, FIFO...)")
            full.parent.mkdir(parents=True, exist_ok=True)
            full.write_text(content)
            self.sandbox.adopt(self.tree)
            self.tests_run_since_change = False
            return f"Wrote {len(content)} characters to {self._rel(full)}."

    @tool
    def edit_file(self, path: str, old: str, new: str) -> str:
        """Replace one exact occurrence of `old` by `new` in a file.

        Args:
            path: file path relative to the project root.
            old: the exact text to replace (include enough lines to make it unique).
            new: the text to put in its place.
        """
        with file_errors(path):
            full = self.resolve(path)
            if not full.is_file():
                raise ToolError(f"no such file: {path!r}")
            text = full.read_text()
            count = text.count(old) if old else 0
            if count != 1:
                where = "was not found" if count == 0 else f"occurs {count} times"
                raise ToolError(
                    f"`old` {where} in {path}; it must match exactly one place (copy it from "
                    "read_file, whitespace included, and add surrounding lines to make it unique)"
                )
            full.write_text(text.replace(old, new, 1))
            self.tests_run_since_change = False
            return f"Edited {self._rel(full)}."

    @tool
    async def run(self, command: str) -> str:
        """Run a shell command in the project directory (sandboxed: no network, time-limited).

        Args:
            command: the command line, e.g. "python -c 'import pkg'" or "ls -la".
        """
        result = await self.sandbox.arun(command, self.tree, limits=self.limits)
        self.tests_run_since_change = False
        return format_command_result(result) + self._enforce_quota()

    @tool
    async def run_tests(self) -> str:
        """Run the project's visible test suite (pytest) and show its report."""
        argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"]
        result = await self.sandbox.arun(argv, self.tree, limits=self.limits)
        self.tests_run_since_change = True
        report = PYTEST_TIMING.sub("", format_command_result(result))  # "5 passed in 0.02s"
        return report + self._enforce_quota()

    def _enforce_quota(self) -> str:
        """Delete the largest non-project files while the tree exceeds the disk quota.

        Each file counts at least 4 KiB, so the quota also bounds the number of files.
        """
        sizes = []
        for dirpath, _, filenames in os.walk(self.tree):
            for name in filenames:
                path = Path(dirpath, name)
                # at least a block each, so that a million tiny files count too
                sizes.append((max(path.lstat().st_size, 4096), path))
        total = sum(size for size, _ in sizes)
        if total <= self.disk_quota_bytes:
            return ""
        removed = 0
        for size, path in sorted(sizes, reverse=True):
            if total <= self.disk_quota_bytes:
                break
            if path.relative_to(self.tree).as_posix() not in self.original_paths:
                with contextlib.suppress(OSError):
                    path.unlink()
                total -= size
                removed += 1
        quota_mib = self.disk_quota_bytes / (1 << 20)
        return f"\n[disk quota of {quota_mib:g} MiB exceeded: {removed} file(s) deleted]"


def remove_tree(root: Path) -> None:
    """Delete ``root`` whatever the agent did to it (dirs chmod 000, links out of the tree)."""
    if not root.exists():
        return
    for dirpath, dirnames, _ in os.walk(root):  # the agent may chmod dirs 000
        for name in dirnames:  # before os.walk tries to list them
            child = os.path.join(dirpath, name)
            if not os.path.islink(child):  # never chmod a link's target (say, /)
                with contextlib.suppress(OSError):
                    os.chmod(child, 0o700)
    shutil.rmtree(root, ignore_errors=True)


@dataclass(frozen=True)
class TreeEntry:
    """One entry of a tree snapshot: a dir, a file (bytes) or a symlink (its target), and mode."""

    path: str
    kind: str
    """"dir", "file" or "link"."""
    mode: int = 0o644
    data: bytes = b""
    target: str = ""


def snapshot_tree(tree: Path) -> tuple[TreeEntry, ...]:
    """Everything under ``tree`` as plain records (links are recorded, never followed)."""
    entries: list[TreeEntry] = []
    for dirpath, dirnames, filenames in os.walk(tree):
        dirnames.sort()
        for name in [*sorted(dirnames), *sorted(filenames)]:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, tree)
            info = os.lstat(full)
            mode = info.st_mode & 0o7777
            if os.path.islink(full):
                entries.append(TreeEntry(rel, "link", target=os.readlink(full)))
            elif os.path.isdir(full):
                entries.append(TreeEntry(rel, "dir", mode))
            elif os.path.isfile(full):
                entries.append(TreeEntry(rel, "file", mode, Path(full).read_bytes()))
            # FIFOs, sockets, devices: nothing a project needs; not copied
    return tuple(entries)


def restore_tree(tree: Path, entries: tuple[TreeEntry, ...]) -> None:
    """Recreate a snapshot under the (empty) ``tree``; modes of dirs are set last."""
    for entry in entries:
        full = tree / entry.path
        if entry.kind == "dir":
            full.mkdir(parents=True, exist_ok=True)
        elif entry.kind == "link":
            full.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(entry.target, full)
        else:
            full.parent.mkdir(parents=True, exist_ok=True)
            full.write_bytes(entry.data)
            os.chmod(full, entry.mode)
    for entry in reversed(entries):
        if entry.kind == "dir":
            os.chmod(tree / entry.path, entry.mode)


@contextlib.contextmanager
def file_errors(path: str) -> Iterator[None]:
    """Turn OS and decoding errors of a file tool into a message for the agent."""
    try:
        yield
    except (OSError, UnicodeError) as exc:
        raise ToolError(f"cannot access {path!r}: {type(exc).__name__}: {exc}") from None


def format_command_result(result: SandboxResult) -> str:
    """The agent's view of a command: status, stdout, stderr (no timings: same run, same text)."""
    status = "killed: time limit" if result.timed_out else f"exit code {result.exit_code}"
    parts = [f"[{status}]"]
    if result.stdout:
        parts.append(result.stdout.rstrip("\n"))
    if result.stderr:
        parts.append("[stderr]\n" + result.stderr.rstrip("\n"))
    return "\n".join(parts)
