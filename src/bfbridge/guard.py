"""An optional time limit on Java calls, because Bio-Formats can loop on damaged data.

With a limit, the call runs on a daemon thread (attached to the JVM as a daemon, so a
stuck call never blocks interpreter exit) and the caller waits at most that long. On
expiry the Java thread is interrupted, which ends sleeps and interruptible I/O; the
caller then closes the reader involved, which makes most stuck stream reads fail. A
pure computation loop inside Bio-Formats cannot be stopped from outside (Java 20+ has
no ``Thread.stop``): it keeps one core busy until it ends, but the caller is free.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import jpype

from .errors import ReadTimeoutError

T = TypeVar("T")


def call(function: Callable[[], T], timeout: float | None, what: str) -> T:
    """``function()``, or :class:`~bfbridge.ReadTimeoutError` after ``timeout`` seconds."""
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
