"""Run one untrusted command in a work directory under bubblewrap, with hard limits.

``Sandbox.arun`` is the async API (the event loop never blocks); ``Sandbox.run`` wraps it.
Isolation (each property has a test in ``tests/test_sandbox.py``): the command never runs as
real uid 0 (as root we drop to a leased unprivileged uid before bwrap), no network, no host
files but read-only system/interpreter dirs, a size-capped tmpfs ``/tmp``, the work dir as
the only writable bind (at ``/work``), a cleared environment, rlimits on CPU, address space,
file size, open files and processes, a wall-clock kill of the process group and a sweep of
everything the leased uid still runs (a child that calls ``setsid`` escapes ``killpg``).
Where namespaces are unavailable it falls back to rlimits only with a loud warning, unless
strict mode (``LLMGYM_SANDBOX_STRICT=1``) is on, which refuses to run instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from llmgym.sandbox.binds import interpreter_bind_args, interpreter_dirs
from llmgym.sandbox.processes import live_processes, sweep_uid
from llmgym.sandbox.trees import walk_tree
from llmgym.sandbox.uids import UidLease, lease_uid

__all__ = ["Sandbox", "SandboxLimits", "SandboxResult", "live_processes", "sweep_uid"]

logger = logging.getLogger(__name__)

LAUNCHER = Path(__file__).with_name("launcher.py")
SANDBOX_WORKDIR = "/work"
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/alternatives", "/etc/localtime")


class SandboxUnavailableError(RuntimeError):
    """Strict mode is on and the full (bubblewrap) isolation cannot be set up."""


@dataclass(frozen=True)
class SandboxLimits:
    """Resource limits for one command (each applies to every process it starts)."""

    wall_seconds: float = 20.0
    """Wall-clock budget; then the whole sandbox is killed."""
    cpu_seconds: int = 15
    """RLIMIT_CPU per process."""
    memory_bytes: int = 1 << 30
    """RLIMIT_AS (virtual address space) per process."""
    file_size_bytes: int = 16 << 20
    """RLIMIT_FSIZE: largest file a process may write."""
    open_files: int = 256
    """RLIMIT_NOFILE."""
    processes: int = 64
    """RLIMIT_NPROC for the sandbox uid (counts every process it runs)."""
    tmp_bytes: int = 64 << 20
    """Size of the private tmpfs mounted on /tmp."""
    output_bytes: int = 16_000
    """Characters of stdout and of stderr kept (head and tail, with a note)."""


@dataclass(frozen=True)
class SandboxResult:
    """What one sandboxed command did."""

    exit_code: int | None
    """Exit status; negative = killed by that signal; None if killed on the wall clock."""
    stdout: str
    stderr: str
    timed_out: bool
    duration_s: float
    isolation: str
    """"bwrap" or "rlimits" (fallback)."""
    truncated: bool = False

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out


def strict_from_env() -> bool:
    return os.environ.get("LLMGYM_SANDBOX_STRICT", "") not in ("", "0", "false", "False")


_BWRAP_PROBE: dict[str, str | None] = {}


def probe_bwrap() -> str | None:
    """None if bubblewrap with all namespaces works here, else why not (cached)."""
    if "result" in _BWRAP_PROBE:
        return _BWRAP_PROBE["result"]
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        reason: str | None = "bwrap not found on PATH (install it: apt-get install bubblewrap)"
    else:
        cmd = [bwrap, "--unshare-all", "--unshare-user", "--ro-bind", "/", "/", "true"]
        lease = lease_uid() if os.getuid() == 0 else None
        if lease is not None:  # probe as an unprivileged uid, as the real runs will be
            spec = {"expose": [], "rlimits": {}, "uid": lease.uid, "gid": lease.uid}
            cmd = [sys.executable, "-I", "-S", str(LAUNCHER), json.dumps(spec), "--", *cmd]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False)
            reason = None if proc.returncode == 0 else f"bwrap failed: {proc.stderr.strip()}"
        except (OSError, subprocess.TimeoutExpired) as exc:
            reason = f"bwrap failed: {exc}"
        finally:
            if lease is not None:
                lease.release()
    _BWRAP_PROBE["result"] = reason
    return reason


class Sandbox:
    """Runs commands in a work dir with isolation and limits; one leased uid per instance.

    Use as a context manager (or call ``close()``) to return the uid lease.
    """

    def __init__(self, limits: SandboxLimits | None = None, *, strict: bool | None = None) -> None:
        self.limits = limits or SandboxLimits()
        self.strict = strict_from_env() if strict is None else strict
        problem = probe_bwrap()
        if problem is None:
            self.isolation = "bwrap"
        elif self.strict:
            raise SandboxUnavailableError(
                f"{problem}; strict sandbox mode (LLMGYM_SANDBOX_STRICT=1) refuses to run "
                "agent code with weaker isolation. Install bubblewrap and allow unprivileged "
                "user namespaces, or unset LLMGYM_SANDBOX_STRICT to accept rlimits only."
            )
        else:
            self.isolation = "rlimits"
            logger.warning(
                "SANDBOX WEAKENED: %s. Agent code will run with rlimits only: it can read host "
                "files, use the network and see host processes. Set LLMGYM_SANDBOX_STRICT=1 to "
                "refuse instead.",
                problem,
            )
        self._lease: UidLease | None = lease_uid() if os.getuid() == 0 else None
        self._busy = False
        self._closed = False

    @property
    def uid(self) -> int:
        return self._lease.uid if self._lease else os.getuid()

    def adopt(self, path: Path) -> None:
        """Give the sandbox uid ownership of ``path`` (recursively) so commands can write it.

        Iterative (``walk_tree``): a tree nested thousands deep by agent code is no problem.
        """
        if self._lease is None:
            return
        uid = self._lease.uid
        os.chown(path, uid, uid, follow_symlinks=False)
        for _, subdirs, others in walk_tree(path):
            for entry in [*subdirs, *others]:
                os.chown(entry.path, uid, uid, follow_symlinks=False)

    def close(self) -> None:
        self._closed = True
        if self._lease is not None:
            self._lease.release()
            self._lease = None

    @property
    def closed(self) -> bool:
        return self._closed

    def __getstate__(self) -> dict[str, object]:
        """Copy/pickle: the copy is idle and holds its own uid lease (``UidLease.__reduce__``)."""
        return {**self.__dict__, "_busy": False}

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _argv(
        self,
        command: Sequence[str],
        workdir: Path,
        ro_binds: Mapping[str, str],
        env: Mapping[str, str],
        lim: SandboxLimits,
    ) -> list[str]:
        spec = {
            "expose": [*interpreter_dirs(), str(workdir), *ro_binds],
            "uid": self.uid if self._lease else None,
            "gid": self.uid if self._lease else None,
            "rlimits": {
                "cpu_seconds": lim.cpu_seconds,
                "memory_bytes": lim.memory_bytes,
                "file_size_bytes": lim.file_size_bytes,
                "open_files": lim.open_files,
                "processes": lim.processes,
            },
        }
        launcher = [sys.executable, "-I", "-S", str(LAUNCHER), json.dumps(spec), "--"]
        if self.isolation != "bwrap":
            return [*launcher, *command]
        args = [shutil.which("bwrap") or "bwrap", "--unshare-all", "--unshare-user", "--disable-userns",
                "--die-with-parent", "--new-session", "--cap-drop", "ALL", "--clearenv"]  # fmt: skip
        # the private /tmp first: binds below may live under /tmp (a venv there) and must
        # land on top of it, not be hidden by it
        args += [
            "--proc",
            "/proc",
            "--dev",
            "/dev",
            "--size",
            str(lim.tmp_bytes),
            "--tmpfs",
            "/tmp",
        ]
        for path in SYSTEM_DIRS:
            if os.path.islink(path):
                args += ["--symlink", os.readlink(path), path]
            elif os.path.isdir(path):
                args += ["--ro-bind", path, path]
        for path in SYSTEM_FILES:
            if os.path.exists(path):
                args += ["--ro-bind", path, path]
        args += interpreter_bind_args()  # the prefixes, minus every installed package but pytest's
        args += ["--bind", str(workdir), SANDBOX_WORKDIR]
        for host, dest in ro_binds.items():
            args += ["--ro-bind", host, dest]
        for key, value in env.items():
            args += ["--setenv", key, value]
        args += ["--hostname", "sandbox", "--chdir", SANDBOX_WORKDIR, "--", *command]
        return [*launcher, *args]

    def default_env(self) -> dict[str, str]:
        home = SANDBOX_WORKDIR if self.isolation == "bwrap" else "/tmp"
        return {
            "PATH": f"{os.path.dirname(sys.executable)}:/usr/local/bin:/usr/bin:/bin",
            "HOME": home,
            "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        }

    async def arun(
        self,
        command: str | Sequence[str],
        workdir: str | os.PathLike[str],
        *,
        ro_binds: Mapping[str, str] | None = None,
        env: Mapping[str, str] | None = None,
        limits: SandboxLimits | None = None,
    ) -> SandboxResult:
        """Run ``command`` (a shell string or an argv list) with ``workdir`` at /work.

        Args:
            command: ``"pytest -q"`` runs through ``/bin/sh -c``; a list is exec'd as is.
            workdir: host directory, the only writable place (owned by the sandbox uid,
                see ``adopt``).
            ro_binds: extra read-only binds ``{host_path: sandbox_path}``.
            env: extra environment variables (the host environment is never passed).
            limits: override this sandbox's limits for one call.
        """
        if self._closed:  # never fall back to running as ourselves (root) without a lease
            raise RuntimeError("this Sandbox is closed; create a new one")
        if self._busy:
            raise RuntimeError(
                "this Sandbox is already running a command (its sweep would kill the other "
                "command's processes): use one Sandbox per concurrent worker"
            )
        self._busy = True
        try:
            return await self._arun(command, workdir, ro_binds=ro_binds, env=env, limits=limits)
        finally:
            self._busy = False

    async def _arun(
        self,
        command: str | Sequence[str],
        workdir: str | os.PathLike[str],
        *,
        ro_binds: Mapping[str, str] | None,
        env: Mapping[str, str] | None,
        limits: SandboxLimits | None,
    ) -> SandboxResult:
        lim = limits or self.limits
        argv = ["/bin/sh", "-c", command] if isinstance(command, str) else list(command)
        workdir = Path(workdir).resolve()
        if not workdir.is_dir():
            raise NotADirectoryError(f"sandbox work dir {workdir} does not exist; create it first")
        full_env = {**self.default_env(), **(env or {})}
        full_argv = self._argv(argv, workdir, ro_binds or {}, full_env, lim)
        cwd = str(workdir) if self.isolation != "bwrap" else "/"
        started = time.monotonic()
        proc = await asyncio.create_subprocess_exec(
            *full_argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
            cwd=cwd,
            env=full_env,
        )
        out_task = asyncio.ensure_future(_read_capped(proc.stdout, lim.output_bytes))
        err_task = asyncio.ensure_future(_read_capped(proc.stderr, lim.output_bytes))
        timed_out = False
        try:
            await asyncio.wait_for(proc.wait(), timeout=lim.wall_seconds)
        except TimeoutError:
            timed_out = True
            # the launcher kills what the sandbox runs and reaps it; SIGKILL below if it hangs
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(proc.wait(), timeout=2)
        finally:
            self._kill_all(proc.pid)
            await _wait_quietly(proc)
        (stdout, cut_out), (stderr, cut_err) = await asyncio.gather(out_task, err_task)
        if timed_out:
            stderr += f"\n[killed: wall-clock limit of {lim.wall_seconds:g} s exceeded]"
        return SandboxResult(
            exit_code=None if timed_out else proc.returncode,
            stdout=stdout,
            stderr=stderr,
            timed_out=timed_out,
            duration_s=time.monotonic() - started,
            isolation=self.isolation,
            truncated=cut_out or cut_err,
        )

    def run(
        self, command: str | Sequence[str], workdir: str | os.PathLike[str], **kwargs: object
    ) -> SandboxResult:
        """Synchronous ``arun`` (must not be called from a running event loop)."""
        return asyncio.run(self.arun(command, workdir, **kwargs))  # type: ignore[arg-type]

    def _kill_all(self, pgid: int) -> None:
        """Kill the process group, then every process still owned by the leased uid."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        if self._lease is not None:
            sweep_uid(self._lease.uid)


async def _wait_quietly(proc: asyncio.subprocess.Process) -> None:
    try:
        await asyncio.wait_for(proc.wait(), timeout=5)
    except TimeoutError:
        logger.error("sandbox process %d did not die after SIGKILL", proc.pid)


async def _read_capped(stream: asyncio.StreamReader | None, limit: int) -> tuple[str, bool]:
    """Read a whole stream, keeping the first 2/3 and last 1/3 of ``limit`` characters."""
    if stream is None:
        return "", False
    head = bytearray()
    tail = bytearray()
    total = 0
    head_cap, tail_cap = limit * 2 // 3, limit - limit * 2 // 3
    while chunk := await stream.read(65536):
        total += len(chunk)
        room = head_cap - len(head)
        if room > 0:
            head += chunk[:room]
            chunk = chunk[room:]
        if chunk:
            tail = (tail + chunk)[-tail_cap:]
    if total <= limit:
        return (head + tail).decode("utf-8", "replace"), False
    dropped = total - len(head) - len(tail)
    note = f"\n[... output truncated: {dropped} of {total} bytes omitted ...]\n"
    return head.decode("utf-8", "replace") + note + tail.decode("utf-8", "replace"), True
