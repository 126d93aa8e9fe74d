"""Hostile-agent tests: each attack runs for real in the sandbox and is shown contained."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from llmgym.sandbox import (
    Sandbox,
    SandboxLimits,
    SandboxUnavailableError,
    probe_bwrap,
    runner,
    strict_from_env,
)
from llmgym.sandbox.runner import live_processes

pytestmark = pytest.mark.skipif(
    probe_bwrap() is not None and not strict_from_env(),
    reason=f"bubblewrap unusable here: {probe_bwrap()} (LLMGYM_SANDBOX_STRICT=1 fails instead)",
)

FAST = SandboxLimits(wall_seconds=4, cpu_seconds=2, processes=32, output_bytes=4000)


@pytest.fixture
def sandbox():
    with Sandbox(FAST, strict=True) as sb:
        yield sb


@pytest.fixture
def workdir(tmp_path: Path, sandbox: Sandbox) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    sandbox.adopt(work)
    return work


async def test_runs_as_unprivileged_user_with_clean_env(sandbox, workdir, monkeypatch):
    monkeypatch.setenv("LLMGYM_HOST_SECRET", "hunter2")
    result = await sandbox.arun("id -u; env; cat /proc/1/environ | tr '\\0' '\\n'", workdir)
    assert result.ok, result.stderr
    assert result.stdout.split()[0] != "0"
    assert "hunter2" not in result.stdout
    assert "LLMGYM_HOST_SECRET" not in result.stdout


async def test_infinite_loop_is_killed(sandbox, workdir):
    started = time.monotonic()
    result = await sandbox.arun([sys.executable, "-c", "while True: pass"], workdir)
    assert not result.ok
    assert time.monotonic() - started < FAST.wall_seconds + 2


async def test_sleeping_command_hits_the_wall_clock(sandbox, workdir):
    result = await sandbox.arun("sleep 60", workdir)
    assert result.timed_out and result.exit_code is None
    assert "wall-clock limit" in result.stderr
    assert result.duration_s < FAST.wall_seconds + 2


async def test_fork_flood_is_capped(sandbox, workdir):
    script = (
        "import os, time\n"
        "n = 0\n"
        "try:\n"
        "    while n < 10000:\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(30); os._exit(0)\n"
        "        n += 1\n"
        "except OSError as e:\n"
        "    print('forks', n, e.errno)\n"
    )
    result = await sandbox.arun([sys.executable, "-c", script], workdir)
    assert result.stdout.startswith("forks"), result
    assert int(result.stdout.split()[1]) < FAST.processes
    assert live_processes(sandbox.uid) == [] if os.getuid() == 0 else True


async def test_memory_bomb_fails_inside(sandbox, workdir):
    result = await sandbox.arun(
        [sys.executable, "-c", "x = [bytearray(64 << 20) for _ in range(100)]"],
        workdir,
        limits=SandboxLimits(wall_seconds=30, cpu_seconds=20),  # generous: a loaded CI box
    )
    assert result.exit_code not in (0, None)
    assert "MemoryError" in result.stderr


async def test_disk_fill_is_capped(sandbox, workdir):
    limits = SandboxLimits(wall_seconds=4, file_size_bytes=4 << 20, tmp_bytes=8 << 20)
    result = await sandbox.arun(
        "dd if=/dev/zero of=big bs=1M count=64 2>&1; "
        "for i in 1 2 3 4; do dd if=/dev/zero of=/tmp/fill$i bs=1M count=4 2>&1; done; "
        "cat /tmp/fill* | wc -c",
        workdir,
        limits=limits,
    )
    assert (workdir / "big").stat().st_size <= limits.file_size_bytes
    size_in_tmp = int(result.stdout.strip().splitlines()[-1])
    assert size_in_tmp <= limits.tmp_bytes
    assert "File too large" in result.stdout
    assert "No space left" in result.stdout


async def test_host_secrets_are_unreadable(sandbox, workdir):
    result = await sandbox.arun(
        "cat /etc/shadow; cat /etc/passwd; ls /root /home; cat /proc/1/cmdline", workdir
    )
    assert "root:x:" not in result.stdout and "root:*:" not in result.stdout
    assert "No such file" in result.stderr


async def test_network_to_host_listener_fails(sandbox, workdir):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    script = (
        "import socket\n"
        f"s = socket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
        "s.sendall(b'exfiltrated')\n"
    )
    try:
        result = await sandbox.arun([sys.executable, "-c", script], workdir)
        assert result.exit_code != 0
        assert "Connection refused" in result.stderr or "unreachable" in result.stderr
        with pytest.raises(TimeoutError):
            listener.accept()
    finally:
        listener.close()


async def test_cannot_kill_host_process(sandbox, workdir):
    victim = subprocess.Popen(["sleep", "30"])
    try:
        result = await sandbox.arun(f"kill -9 {victim.pid}; kill -9 -1; echo done", workdir)
        assert "done" in result.stdout
        assert victim.poll() is None
    finally:
        victim.kill()
        victim.wait()


async def test_writes_outside_workdir_do_not_reach_host(sandbox, workdir, tmp_path):
    outside = tmp_path / "outside.txt"
    result = await sandbox.arun(
        f"echo x > {outside}; echo x > /usr/evil; echo x > /root/evil; echo x > /tmp/mine; "
        "echo x > inside.txt; ls /tmp",
        workdir,
    )
    assert "mine" in result.stdout  # its private /tmp works
    assert not outside.exists()
    assert not os.path.exists("/usr/evil") and not os.path.exists("/root/evil")
    assert not Path("/tmp/mine").exists()
    assert (workdir / "inside.txt").read_text() == "x\n"


async def test_orphans_and_setsid_children_die_with_the_step(sandbox, workdir):
    result = await sandbox.arun(
        "(setsid sh -c 'sleep 1.5; echo alive > late_setsid' &) ; "
        "(nohup sh -c 'sleep 1.5; echo alive > late_nohup' >/dev/null 2>&1 &) ; echo started",
        workdir,
    )
    assert result.ok and "started" in result.stdout
    if os.getuid() == 0:
        assert live_processes(sandbox.uid) == []
    time.sleep(2.0)
    assert not (workdir / "late_setsid").exists()
    assert not (workdir / "late_nohup").exists()


async def test_output_is_truncated_with_a_note(sandbox, workdir):
    result = await sandbox.arun("seq 1 100000; echo LAST", workdir)
    assert result.truncated
    assert "output truncated" in result.stdout
    assert result.stdout.startswith("1\n2\n")
    assert result.stdout.rstrip().endswith("LAST")
    assert len(result.stdout) < FAST.output_bytes + 200


def test_sync_wrapper(sandbox, workdir):
    result = sandbox.run("echo hello > f && cat f", workdir)
    assert result.ok and result.stdout == "hello\n"


def test_strict_refuses_and_fallback_warns(monkeypatch, caplog):
    monkeypatch.setitem(runner._BWRAP_PROBE, "result", "bwrap not found (simulated)")
    with pytest.raises(SandboxUnavailableError, match="strict"):
        Sandbox(strict=True)
    monkeypatch.setenv("LLMGYM_SANDBOX_STRICT", "1")
    with pytest.raises(SandboxUnavailableError):
        Sandbox()
    monkeypatch.setenv("LLMGYM_SANDBOX_STRICT", "0")
    with caplog.at_level(logging.WARNING), Sandbox() as weak:
        assert weak.isolation == "rlimits"
    assert "SANDBOX WEAKENED" in caplog.text


def test_fallback_still_limits_and_drops_root(monkeypatch, tmp_path):
    monkeypatch.setitem(runner._BWRAP_PROBE, "result", "simulated")
    with Sandbox(FAST, strict=False) as weak:
        work = tmp_path / "w"
        work.mkdir()
        weak.adopt(work)
        nproc = "import resource; print(resource.getrlimit(resource.RLIMIT_NPROC)[0])"
        result = weak.run(f"id -u; python -c '{nproc}'; sleep 30", work)
    assert result.timed_out
    uid, nproc = result.stdout.split()[:2]
    assert uid != "0" and int(nproc) == FAST.processes


@pytest.mark.skipif(os.getuid() != 0, reason="needs a leased uid (root) to see every process")
async def test_no_zombies_are_left_to_the_host(sandbox, workdir):
    """bwrap never reaps its pid-namespace init; the launcher (a subreaper) must."""
    for command in ["echo hi", "sleep 30", "(setsid sleep 60 &); echo x"]:
        await sandbox.arun(command, workdir, limits=SandboxLimits(wall_seconds=1))
        leftovers = []
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                try:
                    if entry.stat().st_uid == sandbox.uid:
                        leftovers.append(entry.name)
                except FileNotFoundError:
                    continue
        assert leftovers == [], command


def test_closed_sandbox_refuses_to_run(tmp_path):
    sandbox = Sandbox(FAST, strict=True)
    sandbox.close()
    with pytest.raises(RuntimeError, match="closed"):
        sandbox.run("id -u", tmp_path)


async def test_installed_packages_are_out_of_reach_but_pytest_runs(sandbox, workdir):
    """Only the interpreter's prefix minus site-packages, plus pytest and its dependencies:
    llmgym (with its task data under a wheel install), numpy, pydantic... stay unreachable."""
    import llmgym
    from llmgym.sandbox.binds import site_packages_dirs

    package = os.path.dirname(llmgym.__file__)
    script = (
        "import importlib.util as u, os, sys\n"
        "print([m for m in ('llmgym', 'numpy', 'pydantic', 'gymnasium') if u.find_spec(m)])\n"
        "import pytest, pluggy\n"
        f"print(sorted(os.listdir({site_packages_dirs()[0]!r})))\n"
        f"print(os.path.exists({package!r}))\n"
    )
    result = await sandbox.arun([sys.executable, "-c", script], workdir)
    assert result.ok, result.stderr
    found, listed, llmgym_seen = result.stdout.splitlines()
    assert found == "[]"
    assert "'pytest'" in listed and "'numpy'" not in listed and "llmgym" not in listed
    assert llmgym_seen == "False"
    tests = await sandbox.arun(
        "mkdir -p t && printf 'def test_ok():\\n    assert 1\\n' > t/test_x.py && "
        f"{sys.executable} -m pytest -q -p no:cacheprovider t",
        workdir,
    )
    assert tests.ok and "1 passed" in tests.stdout, tests.stdout + tests.stderr
