"""Privileged-side launcher: the last trusted code before an untrusted command starts.

Run as a script (``python -I -S launcher.py SPEC_JSON -- ARGV...``), never imported by user
code. It applies resource limits, and when started as root it (1) makes the interpreter
prefix reachable for an unprivileged uid inside a private mount namespace (``/root`` is
usually mode 0700) and (2) drops to the sandbox uid/gid with no supplementary groups. Then it
runs ``ARGV`` (``bwrap ...`` or, in fallback mode, the command itself) as a child subreaper. Limits set here are
inherited by bubblewrap and everything the command starts.
"""

import contextlib
import ctypes
import json
import os
import resource
import signal
import sys
import time

CLONE_NEWNS = 0x20000
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 1 << 18
PR_SET_CHILD_SUBREAPER = 36

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
    sys.exit(supervise(argv, own_uid=spec.get("uid") is not None))


def supervise(argv: list[str], own_uid: bool) -> int:
    """Run ``argv`` as our child and reap every descendant orphaned to us.

    As a child subreaper the launcher collects the zombies bubblewrap leaves behind (its
    pid-namespace init is never reaped by bwrap itself); without it they pile up under the
    host's pid 1, which in a container may never reap them, and count against RLIMIT_NPROC.
    On SIGTERM (the host's wall clock) or when the command ends, whatever the sandbox uid
    still runs is killed (``kill(-1)`` reaches only that uid's processes, never ours).
    """
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    child = os.fork()
    if child == 0:
        try:
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)

    def kill_everything(*_: object) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(-1 if own_uid else child, signal.SIGKILL)

    signal.signal(signal.SIGTERM, kill_everything)
    _, status = os.waitpid(child, 0)
    if own_uid:
        kill_everything()
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:  # reap the orphans (zombies by now) handed to us
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            time.sleep(0.005)
    code = os.waitstatus_to_exitcode(status)
    if code < 0:  # die of the same signal, so the host sees what killed the command
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    return code


if __name__ == "__main__":
    main()
