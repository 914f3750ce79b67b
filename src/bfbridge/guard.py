"""An optional time limit on Java calls, because Bio-Formats can loop on damaged data.

With a limit, the call runs on a daemon thread (attached to the JVM as a daemon, so a
stuck call never blocks interpreter exit) and the caller waits at most that long. On
expiry the Java thread is interrupted, which ends sleeps and interruptible I/O; the
caller then closes the reader involved, which makes most stuck stream reads fail. A
pure computation loop inside Bio-Formats cannot be stopped from outside (Java 20+ has
no ``Thread.stop``): it keeps one core busy until it ends, but the caller is free.

A :func:`deadline` block gives all the calls a thread makes inside it one shared limit
(a notebook thumbnail must not take long, whatever the file).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import jpype

from .errors import ReadTimeoutError

T = TypeVar("T")
_thread_state = threading.local()


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Within this block, the calls this thread makes through :func:`call` share ``seconds`` in all."""
    previous = getattr(_thread_state, "deadline", None)
    end = time.monotonic() + seconds
    _thread_state.deadline = end if previous is None else min(previous, end)
    try:
        yield
    finally:
        _thread_state.deadline = previous


def call(function: Callable[[], T], timeout: float | None, what: str) -> T:
    """``function()``, or :class:`~bfbridge.ReadTimeoutError` after ``timeout`` seconds.

    Inside a :func:`deadline` block the limit is whatever is left of it, if that is shorter.
    """
    end = getattr(_thread_state, "deadline", None)
    if end is not None:
        left = end - time.monotonic()
        if left <= 0:
            raise ReadTimeoutError(f"{what} was not started: its time budget is spent")
        timeout = left if timeout is None else min(timeout, left)
    if timeout is None:
        return function()
    outcome: dict[str, object] = {}
    java_thread: list = []

    def run() -> None:
        try:
            thread_class = jpype.JClass("java.lang.Thread")
            thread_class.attachAsDaemon()
            java_thread.append(thread_class.currentThread())
            outcome["value"] = function()
        except BaseException as error:  # handed to the caller below
            outcome["error"] = error

    worker = threading.Thread(target=run, name="bfbridge-guarded-read", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        if java_thread:
            java_thread[0].interrupt()
        raise ReadTimeoutError(
            f"{what} did not finish within {timeout:g} s (read_timeout); Bio-Formats may be looping on "
            "damaged data. Raise the limit with bfbridge.configure(read_timeout=...) if the file is just slow."
        )
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]
