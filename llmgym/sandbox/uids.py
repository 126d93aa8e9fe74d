"""Lease unprivileged uids for sandboxes, one per live ``Sandbox`` (only when running as root).

A uid of its own per sandbox means RLIMIT_NPROC counts only that sandbox's processes and the
post-command sweep (kill everything the uid runs) can never hit another sandbox. Leases are
``flock``-ed files, so concurrent processes on the host never share a uid.
"""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass

UID_FIRST = 620_000
UID_COUNT = 4096
LEASE_DIR = "/run/llmgym-sandbox-uids"


@dataclass
class UidLease:
    """An exclusively held uid; ``release()`` frees it (also when the process dies)."""

    uid: int
    fd: int

    def release(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def lease_uid() -> UidLease:
    """Lease a free uid in [UID_FIRST, UID_FIRST + UID_COUNT) that no passwd entry uses."""
    os.makedirs(LEASE_DIR, mode=0o700, exist_ok=True)
    start = (os.getpid() * 7919) % UID_COUNT
    for i in range(UID_COUNT):
        uid = UID_FIRST + (start + i) % UID_COUNT
        fd = os.open(os.path.join(LEASE_DIR, str(uid)), os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        return UidLease(uid=uid, fd=fd)
    raise RuntimeError(
        f"all {UID_COUNT} sandbox uids from {UID_FIRST} are leased; close unused Sandbox "
        f"objects or remove stale locks in {LEASE_DIR}"
    )
