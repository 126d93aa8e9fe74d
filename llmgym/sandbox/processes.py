"""Process bookkeeping for the sandbox: find and kill what a sandbox uid still runs."""

from __future__ import annotations

import logging
import os
import signal
import time

logger = logging.getLogger(__name__)


def live_processes(uid: int) -> list[int]:
    """Pids of processes (zombies excluded) whose owner is ``uid``."""
    pids = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            if entry.stat().st_uid != uid:
                continue
            with open(f"/proc/{entry.name}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if state not in ("Z", "X"):
            pids.append(int(entry.name))
    return pids


def sweep_uid(uid: int, rounds: int = 50) -> int:
    """SIGKILL every live process owned by ``uid`` until none is left; returns how many."""
    killed = 0
    for _ in range(rounds):
        pids = live_processes(uid)
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except ProcessLookupError:
                continue
        time.sleep(0.01)
    else:
        logger.error("sandbox uid %d still runs processes after the sweep", uid)
    return killed
