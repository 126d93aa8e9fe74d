"""Running an environment's coroutines from Gymnasium's synchronous API.

``LLMEnv`` steps natively with ``astep``; ``step`` must return its result synchronously,
from plain code or from inside a running event loop (a notebook, an async trainer). A pure-CPU
step never suspends and is driven directly. Anything else runs on one private event loop
in one background thread per env, made on first use and kept: the same loop every step
(objects the env binds to a loop stay valid), no thread or loop built per call, and no
deadlock with a caller's own loop.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def drive(coro: Coroutine[Any, Any, T], owner: str) -> T:
    """Run a coroutine that never suspends (a pure-CPU step) to its result."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value
    coro.close()
    raise RuntimeError(f"{owner} suspended in a step declared pure-CPU")


class LoopThread:
    """A private event loop running in a daemon thread; ``run`` blocks for a result."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._finalizer: weakref.finalize | None = None

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        if self._loop is None:
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name="llmgym-env-loop", daemon=True)
            thread.start()
            self._loop, self._thread = loop, thread
            self._finalizer = weakref.finalize(self, _stop, loop, thread)  # dropped unclosed
        if self._thread is threading.current_thread():
            coro.close()
            raise RuntimeError("a step of this env was called from inside its own step")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def close(self) -> None:
        """Stop the loop and its thread (idempotent); a later ``run`` starts new ones."""
        if self._finalizer is not None:
            self._finalizer()
        self._loop = self._thread = self._finalizer = None


def _stop(loop: asyncio.AbstractEventLoop, thread: threading.Thread) -> None:
    if not loop.is_closed():
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        if not thread.is_alive():
            loop.close()
