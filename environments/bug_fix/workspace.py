"""The agent's world in BugFix: its copy of the project and the tools that act on it.

File tools run on the host but only inside the work tree (paths are resolved and must stay
inside it; symlinks the agent planted are never followed out). ``run`` and ``run_tests``
execute in the sandbox, where the tree is mounted at ``/work``; every process they start is
gone when the call returns. After each command the tree is held to a disk quota.

The temp dir is removed by ``close()``, or by a ``weakref.finalize`` when a workspace is dropped
unclosed (garbage collection, interpreter exit). A copy or an unpickled workspace is
independent: it gets a fresh temp dir holding a snapshot of the tree (``__getstate__``).

Agent code may leave a tree built to break walkers: directories nested thousands deep, names
that are not UTF-8. Walks and removal are iterative (``llmgym.sandbox.trees``), the quota keeps
every path short, and names reach the agent escaped (``shown``), never as lone surrogates.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from llmgym.sandbox import (
    SANDBOX_WORKDIR,
    Sandbox,
    SandboxLimits,
    SandboxResult,
    remove_tree,
    walk_tree,
)
from llmgym.tools import ToolError, tool

MAX_WRITE_CHARS = 200_000
MAX_LISTED_FILES = 300
DISK_QUOTA_BYTES = 64 << 20
BLOCK_BYTES = 4096
MAX_TREE_PATH_BYTES = 1024
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
        names: list[str] = []
        for _, subdirs, others in walk_tree(self.tree):
            subdirs[:] = [d for d in subdirs if d.name not in SKIPPED_DIRS]
            names.extend(self._rel_of(entry.path) for entry in others)
        out = [shown(name) for name in names]
        undecodable = sum(a != b for a, b in zip(out, names, strict=True))
        if len(out) > MAX_LISTED_FILES:
            out[MAX_LISTED_FILES:] = [f"[... {len(out) - MAX_LISTED_FILES} more files]"]
        if undecodable:
            out.append(
                f"[{undecodable} name(s) hold bytes that are not UTF-8, shown as \\xNN escapes; "
                "the file tools cannot open such names: rename them with run (mv)]"
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
            return f"Wrote {len(content)} characters to {shown(self._rel(full))}."

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
            return f"Edited {shown(self._rel(full))}."

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
        """Hold the tree to the disk quota, with every path in it short enough to walk.

        Each file and each directory counts at least a block (4 KiB), so the quota also bounds
        the number of entries. A directory whose path in the tree passes MAX_TREE_PATH_BYTES
        is deleted whole: no project file lives that deep, and agent code can nest directories
        thousands deep, past PATH_MAX. Then, while the tree is over quota, the largest
        non-project files go, and after them the non-project directories, deepest first.
        """
        prefix = len(os.fsencode(self.tree)) + 1
        files: list[tuple[int, str]] = []
        dirs: list[str] = []
        too_deep = 0
        for _, subdirs, others in walk_tree(self.tree):
            for entry in list(subdirs):
                if len(os.fsencode(entry.path)) - prefix > MAX_TREE_PATH_BYTES:
                    subdirs.remove(entry)
                    remove_tree(entry.path)
                    too_deep += 1
                else:
                    dirs.append(entry.path)
            for entry in others:
                with contextlib.suppress(OSError):
                    size = entry.stat(follow_symlinks=False).st_size
                    files.append((max(size, BLOCK_BYTES), entry.path))
        notes = []
        if too_deep:
            notes.append(
                f"[{too_deep} folder(s) nested past {MAX_TREE_PATH_BYTES} bytes of path deleted]"
            )
        total = sum(size for size, _ in files) + BLOCK_BYTES * len(dirs)
        if total > self.disk_quota_bytes:
            removed = 0
            for size, path in sorted(files, reverse=True):
                if total <= self.disk_quota_bytes:
                    break
                if self._rel_of(path) not in self.original_paths:
                    with contextlib.suppress(OSError):
                        os.unlink(path)
                    total -= size
                    removed += 1
            project_dirs = {str(d) for p in self.original_paths for d in PurePosixPath(p).parents}
            for path in sorted(dirs, key=len, reverse=True):  # a child before its parent
                if total <= self.disk_quota_bytes:
                    break
                if self._rel_of(path) not in project_dirs:
                    remove_tree(path)
                    total -= BLOCK_BYTES
                    removed += 1
            quota_mib = self.disk_quota_bytes / (1 << 20)
            notes.append(f"[disk quota of {quota_mib:g} MiB exceeded: {removed} entries deleted]")
        return "".join("\n" + note for note in notes)

    def _rel_of(self, host_path: str) -> str:
        """The tree-relative form of a path that ``walk_tree(self.tree)`` yielded."""
        return host_path[len(os.fspath(self.tree)) + 1 :]


def shown(name: str) -> str:
    """A file name as text every UTF-8 writer takes: bytes that are not UTF-8 become \\xNN."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


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
    prefix = len(os.fspath(tree)) + 1
    entries: list[TreeEntry] = []
    for _, subdirs, others in walk_tree(tree):
        for entry in [*subdirs, *others]:
            rel = entry.path[prefix:]
            if entry.is_symlink():
                entries.append(TreeEntry(rel, "link", target=os.readlink(entry.path)))
                continue
            mode = entry.stat(follow_symlinks=False).st_mode & 0o7777
            if entry.is_dir(follow_symlinks=False):
                entries.append(TreeEntry(rel, "dir", mode))
            elif entry.is_file(follow_symlinks=False):
                entries.append(TreeEntry(rel, "file", mode, Path(entry.path).read_bytes()))
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
