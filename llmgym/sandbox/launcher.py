"""Privileged-side launcher: the last trusted code before an untrusted command starts.

Run as a script (``python -I -S launcher.py SPEC_JSON -- ARGV...``), never imported by user
code. It applies resource limits, and when started as root it (1) makes the interpreter
prefix reachable for an unprivileged uid inside a private mount namespace (``/root`` is
usually mode 0700) and (2) drops to the sandbox uid/gid with no supplementary groups. Then it
execs ``ARGV`` (``bwrap ...`` or, in fallback mode, the command itself). Limits set here are
inherited by bubblewrap and everything the command starts.
"""

import ctypes
import json
import os
import resource
import sys

CLONE_NEWNS = 0x20000
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 1 << 18

RLIMITS = {
    "cpu_seconds": resource.RLIMIT_CPU,
    "memory_bytes": resource.RLIMIT_AS,
    "file_size_bytes": resource.RLIMIT_FSIZE,
    "open_files": resource.RLIMIT_NOFILE,
    "processes": resource.RLIMIT_NPROC,
}


def _check(libc: ctypes.CDLL, result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _first_closed_dir(path: str) -> str | None:
    """The outermost ancestor of ``path`` that 'others' cannot traverse, or None."""
    parts = path.strip("/").split("/")
    for i in range(1, len(parts)):
        ancestor = "/" + "/".join(parts[:i])
        if not os.stat(ancestor).st_mode & 0o001:
            return ancestor
    return None


def expose_paths(paths: list[str]) -> None:
    """Re-mount ``paths`` (as root) so that an unprivileged uid can reach them.

    In a private mount namespace a tmpfs covers each closed ancestor (e.g. ``/root``) and the
    wanted directories are bind-mounted back at their original paths. The host is unchanged.
    """
    closed = {p: _first_closed_dir(p) for p in paths}
    if not any(closed.values()):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    _check(libc, libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    _check(libc, libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "make / private")
    fds = {p: os.open(p, os.O_PATH) for p, c in closed.items() if c}
    for cover in sorted({c for c in closed.values() if c}):
        _check(libc, libc.mount(b"tmpfs", cover.encode(), b"tmpfs", 0, b"mode=0755,size=1m"), cover)
    for path, fd in fds.items():
        if os.path.isdir(f"/proc/self/fd/{fd}"):
            os.makedirs(path, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            open(path, "a").close()  # mount point for a file bind
        src = f"/proc/self/fd/{fd}".encode()
        _check(libc, libc.mount(src, path.encode(), None, MS_BIND | MS_REC, None), path)
        os.close(fd)


def main() -> None:
    spec = json.loads(sys.argv[1])
    argv = sys.argv[sys.argv.index("--") + 1 :]
    if os.getuid() == 0:
        expose_paths(spec["expose"])
    for name, value in spec["rlimits"].items():
        resource.setrlimit(RLIMITS[name], (value, value))
    if spec.get("uid") is not None:
        os.setgroups([])
        os.setgid(spec["gid"])
        os.setuid(spec["uid"])
        if os.getuid() == 0 or os.geteuid() == 0:
            raise SystemExit("llmgym sandbox launcher: failed to drop root")
    os.umask(0o022)
    os.execvp(argv[0], argv)


if __name__ == "__main__":
    main()
