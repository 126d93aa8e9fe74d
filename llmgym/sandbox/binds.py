"""What of the host interpreter the sandbox may see: the prefix, never its installed packages.

A command needs ``sys.executable`` with its standard library (the prefix, for a virtual
environment both prefixes) and, for the agent's ``run_tests``, pytest with its dependencies.
Everything else installed beside them stays out of reach; above all llmgym itself, whose
wheel install puts the task data (hidden tests, clean sources: the answer key) in
site-packages. So the bubblewrap arguments bind each prefix read-only, cover every
site-packages directory inside it with an empty tmpfs, and bind back only the files of the
allowed distributions (resolved through their metadata, dependencies included). Where llmgym
still lies under a bound directory (an unusual install layout) it is covered too.
"""

from __future__ import annotations

import logging
import os
import site
import sys
import sysconfig
from functools import cache
from importlib import metadata
from pathlib import Path

logger = logging.getLogger(__name__)

ALLOWED_DISTRIBUTIONS = ("pytest",)
"""Distributions (with their dependencies) importable in the sandbox: run_tests needs pytest."""
COVER_TMPFS_BYTES = 1 << 20


def interpreter_dirs() -> list[str]:
    """The prefixes ``sys.executable`` runs from: base installation and, for a venv, the venv.

    Each at its real path and at the path Python uses; nested ones folded into their parent.
    """
    dirs = []
    for path in (sys.base_prefix, sys.prefix, os.path.dirname(sys.executable)):
        for candidate in (os.path.abspath(path), os.path.realpath(path)):
            if not candidate.startswith("/usr/") and candidate != "/usr":
                dirs.append(candidate)
    unique = sorted(set(dirs))
    return [d for d in unique if not any(d.startswith(p + "/") for p in unique if p != d)]


def site_packages_dirs() -> list[str]:
    """Every directory third-party packages may be installed in, at real and given paths."""
    found = list(site.getsitepackages())
    for prefix in {sys.prefix, sys.base_prefix}:  # a venv's base installation has its own
        paths = sysconfig.get_paths(vars={"base": prefix, "platbase": prefix})
        found += [paths["purelib"], paths["platlib"]]
    if site.ENABLE_USER_SITE:
        found.append(site.getusersitepackages())
    out = set()
    for path in found:
        for candidate in (os.path.abspath(path), os.path.realpath(path)):
            if os.path.isdir(candidate):
                out.add(candidate)
    return sorted(out)


@cache
def allowed_package_paths(names: tuple[str, ...] = ALLOWED_DISTRIBUTIONS) -> tuple[str, ...]:
    """Top-level files and folders (modules, packages, dist-info) of ``names`` and their deps."""
    try:
        from packaging.requirements import Requirement  # a pytest dependency
    except ImportError:  # no pytest here: bind what is named, no dependencies
        Requirement = None  # type: ignore[assignment,misc]
    seen: set[str] = set()
    paths: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        key = name.lower().replace("_", "-")
        if key in seen:
            continue
        seen.add(key)
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            logger.debug("sandbox: distribution %s not installed, not bound", name)
            continue
        for entry in dist.files or ():
            top = entry.parts[0]
            if top in ("..", "__pycache__") or top.endswith(".pth"):
                continue  # scripts outside site-packages; shared caches; path hooks
            located = os.path.abspath(str(dist.locate_file(top)))
            if os.path.exists(located):
                paths.add(located)
        for spec in dist.requires or () if Requirement is not None else ():
            req = Requirement(spec)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return tuple(sorted(paths))


def _under(path: str, parents: list[str]) -> bool:
    return any(path == p or path.startswith(p + "/") for p in parents)


def _llmgym_dirs() -> list[str]:
    import llmgym

    dirs = {os.path.realpath(os.path.dirname(llmgym.__file__))}
    try:
        import llmgym.task_data as task_data  # type: ignore[import-not-found]

        dirs.add(os.path.realpath(os.path.dirname(task_data.__file__ or "")))
    except ImportError:
        pass
    return sorted(d for d in dirs if d and d != "/")


@cache
def interpreter_bind_args(bound_system_dirs: tuple[str, ...] = ("/usr",)) -> tuple[str, ...]:
    """bwrap arguments: the interpreter prefixes read-only, site-packages emptied, allowed
    distributions bound back, llmgym covered wherever it still shows."""
    prefixes = interpreter_dirs()
    args: list[str] = []
    for prefix in prefixes:
        args += ["--ro-bind", prefix, prefix]
    visible = [*prefixes, *bound_system_dirs]
    covered = [d for d in site_packages_dirs() if _under(d, visible)]
    for folder in covered:  # small: it only holds the mount points of the allowed packages
        args += ["--size", str(COVER_TMPFS_BYTES), "--tmpfs", folder]
    for path in allowed_package_paths():
        if _under(path, covered) or not _under(path, visible):
            args += ["--ro-bind", path, path]
    for folder in covered:
        args += ["--remount-ro", folder]
    for folder in _llmgym_dirs():
        if _under(folder, visible) and not _under(folder, covered):
            args += ["--tmpfs", folder]  # an install outside site-packages: hide it anyway
    return tuple(args)


def hidden_paths() -> list[Path]:
    """Paths that must be unreachable from the sandbox (for tests and checks)."""
    return [Path(d) for d in _llmgym_dirs()]
