"""Benchmark BugFix-v0: sandbox cost of run_tests() and grading, expert steps/s, attack table.

Prints medians of one ``run_tests()`` inside the sandbox against the same pytest command run
directly (no sandbox) on the same tree, and of one grading by the judge (probes in the
sandbox, the clean reference cached) against plain pytest on the visible + hidden tests (the
old grading command, no sandbox), for test-0000 and for one task of each project; then the
scripted expert's steps per second over test tasks; then the hostile-agent table (each
attack really runs in the sandbox and the containment is checked).

    python bench/bench_bug_fix.py [--repeats 10] [--tasks 12]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

from llmgym.environments.bug_fix.env import BugFixEnv
from llmgym.environments.bug_fix.grader import grade
from llmgym.environments.bug_fix.projects import Project
from llmgym.environments.bug_fix.suite import SUITE_DIR, suite_argv, with_sources
from llmgym.sandbox import Sandbox, SandboxLimits, SandboxResult
from llmgym.sandbox.runner import live_processes


async def timed(coro_factory, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        await coro_factory()
        times.append(time.perf_counter() - start)
    return times


async def plain(argv: list[str], cwd: Path) -> int:
    """The same command without the sandbox (same environment variables, e.g. no plugin autoload)."""
    env = {**Sandbox.default_env(SANDBOX_ENV_PROBE), "HOME": str(cwd)}
    proc = await asyncio.create_subprocess_exec(
        *argv,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    return await proc.wait()


class _EnvProbe:
    isolation = "bwrap"


SANDBOX_ENV_PROBE = _EnvProbe()


def write_tree(files: dict[str, str], root: Path) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


async def bench_sandbox_cost(repeats: int) -> None:
    env = BugFixEnv()
    await env.areset(seed=0, options={"task_id": "test-0000"})
    ws, project = env.workspace, env.project
    sandboxed_true = await timed(lambda: env.sandbox.arun(["true"], ws.tree), repeats)
    plain_true = await timed(lambda: plain(["true"], ws.tree), repeats)
    sandboxed_tests = await timed(ws.run_tests, repeats)
    tests_argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"]
    plain_tests = await timed(lambda: plain(tests_argv, ws.tree), repeats)

    sources = {p: (ws.tree / p).read_text() for p in project.source_files}
    cold = await timed(lambda: grade(project, sources, env.sandbox), 1)  # + clean reference
    sandboxed_grade = await timed(lambda: grade(project, sources, env.sandbox), repeats)
    plain_grade = await timed(lambda: plain_suite(project, sources), repeats)
    print(f"\n== sandbox cost (task test-0000, project {project.name}, {repeats} runs, medians) ==")
    print(f"{'what':<34}{'sandboxed s':>12}{'direct s':>10}{'ratio':>8}")
    for name, a, b in [
        ("empty command (true)", sandboxed_true, plain_true),
        ("run_tests() (visible tests)", sandboxed_tests, plain_tests),
        ("grading: judge vs plain pytest", sandboxed_grade, plain_grade),
    ]:
        ma, mb = statistics.median(a), statistics.median(b)
        print(f"{name:<34}{ma:>12.3f}{mb:>10.3f}{ma / mb:>8.2f}")
    print(
        f"first grading of a project in a process (computes the clean reference): {cold[0]:.3f} s"
    )
    print(
        "\n== grading per project: sandboxed judge vs plain pytest (visible + hidden), medians =="
    )
    print(f"{'project':<18}{'probes':>7}{'judge s':>9}{'pytest s':>10}{'ratio':>8}")
    seen: set[str] = set()
    for task_id in env.task_ids("test"):
        await env.areset(seed=0, options={"task_id": task_id})
        project = env.project
        if project.name in seen:
            continue
        seen.add(project.name)
        sources = {p: (env.workspace.tree / p).read_text() for p in project.source_files}
        report = await grade(project, sources, env.sandbox)
        n = max(3, repeats // 2)
        judge = statistics.median(await timed(partial(grade, project, sources, env.sandbox), n))
        suite = statistics.median(await timed(partial(plain_suite, project, sources), n))
        print(
            f"{project.name:<18}{report.probes:>7}{judge:>9.3f}{suite:>10.3f}{judge / suite:>8.2f}"
        )
    env.close()


async def plain_suite(project: Project, sources: dict[str, str]) -> int:
    """The old grading command, pytest on visible + hidden tests, without the sandbox."""
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "tree"
        files = {
            p: t
            for p, t in with_sources(project.files, project.source_files, sources).items()
            if p != "pytest.ini"
        }
        write_tree(files, tree)
        (tree / SUITE_DIR).mkdir()
        (tree / SUITE_DIR / "pytest.ini").write_text(f"[pytest]\npythonpath = {tree}\n")
        return await plain(suite_argv(), tree)


async def bench_expert(n_tasks: int) -> None:
    env = BugFixEnv()
    steps, rewards = 0, []
    start = time.perf_counter()
    for task_id in env.task_ids("test")[:n_tasks]:
        await env.areset(seed=0, options={"task_id": task_id})
        while True:
            _, reward, terminated, truncated, _ = await env.astep(env.expert_action())
            steps += 1
            if terminated or truncated:
                rewards.append(reward)
                break
    elapsed = time.perf_counter() - start
    env.close()
    print(f"\n== scripted expert on {n_tasks} test tasks ==")
    print(f"steps {steps}, {steps / elapsed:.2f} steps/s, {n_tasks / elapsed:.2f} episodes/s, "
          f"mean reward {sum(rewards) / len(rewards):.3f}")  # fmt: skip


def attacks(port: int, victim: int, outside: Path) -> list[tuple[str, str, str]]:
    """(attack, command, how containment shows in the output)."""
    py = sys.executable
    return [
        ("infinite loop", f"{py} -c 'while True: pass'", "killed"),
        ("fork flood", "bomb() { bomb | bomb & }; bomb", "killed, nothing left"),
        ("memory bomb", f"{py} -c 'x=[bytearray(1<<26) for _ in range(200)]'", "MemoryError"),
        ("disk fill (one file)", "dd if=/dev/zero of=big bs=1M count=200", "File too large"),
        ("disk fill (/tmp)", "for i in $(seq 20); do dd if=/dev/zero of=/tmp/f$i bs=1M count=15; done", "No space left"),
        ("read /etc/shadow", "cat /etc/shadow", "No such file"),
        ("read host env vars", "env; cat /proc/1/environ", "no LLMGYM_BENCH_SECRET"),
        ("network to host listener", f"{py} -c \"import socket; socket.create_connection(('127.0.0.1', {port}), 2)\"", "refused"),
        ("kill a host process", f"kill -9 {victim}", "No such process"),
        ("write outside work dir", f"echo x > {outside}; echo x > /usr/evil", "Read-only / No such file"),
        ("orphan (setsid + sleep)", "(setsid sleep 300 &); echo started", "swept"),
    ]  # fmt: skip


def is_contained(
    name: str,
    result: SandboxResult,
    out: str,
    connected: bool,
    sandbox: Sandbox,
    work: Path,
    victim: subprocess.Popen,
    outside: Path,
) -> bool:
    """Whether the attack called ``name`` left the host untouched."""
    no_leftovers = live_processes(sandbox.uid) == [] if os.getuid() == 0 else True
    if name == "infinite loop":
        return not result.ok and no_leftovers
    if name in ("fork flood", "orphan (setsid + sleep)"):
        return no_leftovers
    if name == "memory bomb":
        return "MemoryError" in out
    if name == "disk fill (one file)":
        return (work / "big").stat().st_size <= sandbox.limits.file_size_bytes
    if name == "disk fill (/tmp)":
        return "No space left" in out
    if name == "read /etc/shadow":
        return "root:" not in out
    if name == "read host env vars":
        return "hunter2" not in out
    if name == "network to host listener":
        return not connected and result.exit_code != 0
    if name == "kill a host process":
        return victim.poll() is None
    if name == "write outside work dir":
        return not outside.exists() and not Path("/usr/evil").exists()
    raise ValueError(f"unknown attack {name!r}")


async def attack_table() -> None:
    os.environ["LLMGYM_BENCH_SECRET"] = "hunter2"
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.setblocking(False)
    victim = subprocess.Popen(["sleep", "120"])
    limits = SandboxLimits(
        wall_seconds=5, cpu_seconds=3, file_size_bytes=16 << 20, tmp_bytes=64 << 20
    )
    print("\n== attack table (each attack ran in the sandbox) ==")
    print(f"{'attack':<28}{'contained':<11}{'s':>6}  evidence")
    with tempfile.TemporaryDirectory() as tmp, Sandbox(limits) as sandbox:
        work = Path(tmp) / "work"
        work.mkdir()
        sandbox.adopt(work)
        outside = Path(tmp) / "outside.txt"
        for name, command, _ in attacks(listener.getsockname()[1], victim.pid, outside):
            result = await sandbox.arun(command, work)
            out = result.stdout + result.stderr
            try:
                listener.accept()
                connected = True
            except BlockingIOError:
                connected = False
            contained = is_contained(name, result, out, connected, sandbox, work, victim, outside)
            evidence = (out.strip().splitlines() or [""])[-1][:60]
            status = "yes" if contained else "NO"
            print(f"{name:<28}{status:<11}{result.duration_s:>6.2f}  {evidence}")
    victim.kill()
    victim.wait()
    listener.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--tasks", type=int, default=12)
    args = parser.parse_args()
    print(f"isolation: {Sandbox().isolation}, uid {os.getuid()}, python {sys.version.split()[0]}")
    asyncio.run(bench_sandbox_cost(args.repeats))
    asyncio.run(bench_expert(args.tasks))
    asyncio.run(attack_table())


if __name__ == "__main__":
    main()
