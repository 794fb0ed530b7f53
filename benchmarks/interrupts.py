"""Stops (SIGTERM, Ctrl-C) raised as exceptions, but never in the middle of a tracking call.

A stop raised while MLflow's client is inside a database transaction can leave that connection unusable, and
then the run it was about to end KILLED stays RUNNING. So the handlers installed here raise at once, except
inside `protected()` (every `Tracker` call runs in one), where the stop waits until the call returns:

    with interrupts.handled():          # SIGTERM raises Stopped, Ctrl-C KeyboardInterrupt
        with interrupts.protected():    # a stop arriving here is raised when the block is left
            client.log_batch(...)

Signal handlers run in the main thread, and tracking calls are made there, so one counter is enough.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

_depth = 0  # protected blocks entered and not left
_pending: BaseException | None = None  # the stop that arrived inside one


class Stopped(BaseException):
    """SIGTERM (a scheduler's, `kill`'s or a pool's stop) raised like Ctrl-C, so that what is finished is kept
    and a tracked run ends KILLED."""


def _stop(error: BaseException) -> None:
    global _pending
    if _depth:
        _pending = _pending or error
        return
    raise error


def _on_signal(signum, frame) -> None:
    _stop(KeyboardInterrupt() if signum == signal.SIGINT else Stopped(f"stopped by signal {signum}"))


@contextlib.contextmanager
def protected() -> Iterator[None]:
    """Hold a stop that arrives in the body until the body is left, then raise it."""
    global _depth, _pending
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if not _depth and _pending is not None:
            stop, _pending = _pending, None
            raise stop


@contextlib.contextmanager
def handled(signals: tuple[int, ...] = (signal.SIGTERM, signal.SIGINT)) -> Iterator[None]:
    """Install the handlers for the body (in the main thread only, where Python allows it), then put the
    previous ones back."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, _on_signal) for signum in signals}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
