"""Walk and delete directory trees that sandboxed code wrote: iteratively, never following links.

Agent code can build a tree that recursive walkers do not survive. It can nest thousands of
directories (on Python 3.11 ``os.walk`` and ``shutil.rmtree`` recurse and raise
RecursionError), make paths longer than PATH_MAX, chmod directories 000, use names that are
not UTF-8, and plant symlinks that point out of the tree. ``walk_tree`` uses an explicit stack
and skips what it cannot list. ``remove_tree`` works through directory fds, deletes any such
tree and never raises.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

logger = logging.getLogger(__name__)

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW


def walk_tree(
    root: str | Path,
) -> Iterator[tuple[str, list[os.DirEntry[str]], list[os.DirEntry[str]]]]:
    """Like ``os.walk(root)`` top-down, links not followed, but iterative, so any depth works.

    Yields ``(dirpath, subdirs, others)``: the entries of ``dirpath``, sorted by name, split into
    real directories and everything else (files, links, FIFOs). Remove entries from ``subdirs``
    to prune them. A directory that cannot be listed (permissions, a path past PATH_MAX) is
    skipped, as ``os.walk`` does.
    """
    stack = [os.fspath(root)]
    while stack:
        top = stack.pop()
        try:
            with os.scandir(top) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            continue
        subdirs: list[os.DirEntry[str]] = []
        others: list[os.DirEntry[str]] = []
        for entry in entries:
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_dir = False
            (subdirs if is_dir else others).append(entry)
        yield top, subdirs, others
        stack.extend(entry.path for entry in reversed(subdirs))  # pre-order, by name


def remove_tree(root: str | Path) -> bool:
    """Delete ``root`` and everything under it, whatever sandboxed code made of it. Never raises.

    Each directory found below the top level is first moved up into ``root`` (a rename between
    two directory fds), then emptied and removed. The work therefore never goes more than one
    level deep: no recursion, no stack of open fds and no path past PATH_MAX, however deep the
    tree. Links are deleted, never followed. Directories are set to mode 700 before they are
    listed. Returns whether ``root`` is gone; failures are logged.
    """
    path = os.fspath(root)
    try:
        _remove(path)
    except Exception:
        logger.warning("could not delete the temp tree %s", path, exc_info=True)
    return not os.path.lexists(path)


def _remove(root: str) -> None:
    try:
        info = os.lstat(root)
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(info.st_mode):
        os.unlink(root)
        return
    os.chmod(root, 0o700)  # a real directory (lstat): no link to follow
    top = os.open(root, _DIR_FLAGS)
    try:
        fresh_names = (f".llmgym-rm-{i}" for i in itertools.count())
        pending: list[str | None] = [None]  # None: root itself, else a directory's name in root
        while pending:
            name = pending.pop()
            fd = top if name is None else os.open(name, _DIR_FLAGS, dir_fd=top)
            try:
                with os.scandir(fd) as it:
                    entries = list(it)
                for entry in entries:
                    if not entry.is_dir(follow_symlinks=False):
                        os.unlink(entry.name, dir_fd=fd)
                        continue
                    # needed to list it, and (as non-root) to move it to another parent
                    os.chmod(entry.name, 0o700, dir_fd=fd)
                    if name is None:
                        pending.append(entry.name)
                    else:
                        moved = next(n for n in fresh_names if not _exists(n, top))
                        os.rename(entry.name, moved, src_dir_fd=fd, dst_dir_fd=top)
                        pending.append(moved)
            finally:
                if fd != top:
                    os.close(fd)
            if name is not None:
                os.rmdir(name, dir_fd=top)
    finally:
        os.close(top)
    os.rmdir(root)


def _exists(name: str, dir_fd: int) -> bool:
    try:
        os.lstat(name, dir_fd=dir_fd)
    except FileNotFoundError:
        return False
    return True


@contextlib.contextmanager
def scratch_dir(prefix: str) -> Iterator[Path]:
    """A fresh temp dir for sandboxed code; deleted on exit by :func:`remove_tree` (never raises)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        if not remove_tree(path):
            logger.error("temp dir %s is left on disk: delete it by hand", path)
