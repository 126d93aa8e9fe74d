"""Lease unprivileged uids for sandboxes, one per live ``Sandbox`` (only when running as root).

A uid of its own per sandbox means RLIMIT_NPROC counts only that sandbox's processes and the
post-command sweep (kill everything the uid runs) can never hit another sandbox. Leases are
``flock``-ed files, so concurrent processes on the host never share a uid.

A lease is freed by ``release()``, by its process dying, and by garbage collection or
interpreter exit when its holder was dropped without ``close()`` (a ``weakref.finalize``).
Copying or pickling a lease never shares it: a copy is a fresh lease of another uid.
"""

from __future__ import annotations

import fcntl
import os
import weakref
from typing import Any

UID_FIRST = 620_000
UID_COUNT = 4096
LEASE_DIR = "/run/llmgym-sandbox-uids"


class UidLease:
    """An exclusively held uid; ``release()`` frees it (also when the process dies, or when
    the lease is garbage-collected or the interpreter exits without a release)."""

    def __init__(self, uid: int, fd: int):
        self.uid = uid
        self.fd = fd
        # the finalizer holds the fd, not the lease: it runs once, on release or on collection
        self._finalizer = weakref.finalize(self, os.close, fd) if fd >= 0 else None

    @property
    def held(self) -> bool:
        return self.fd >= 0

    def release(self) -> None:
        if self._finalizer is not None:
            self._finalizer()
        self.fd = -1

    def __reduce__(self) -> tuple[Any, ...]:
        """Copy/pickle as a new lease: two holders of one uid would sweep each other's processes."""
        return (lease_uid, ()) if self.held else (UidLease, (self.uid, -1))

    def __repr__(self) -> str:
        return f"UidLease(uid={self.uid}, held={self.held})"


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
