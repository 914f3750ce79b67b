"""The shared read threads, and running one read's jobs on several of them.

Threads are kept alive between reads: each new thread would attach to the JVM again.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")
_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()
_thread_state = threading.local()


@contextmanager
def serial_reads() -> Iterator[None]:
    """Within this block, a read of several planes stays on the calling thread.

    For callers that already read in parallel (the converter's block runner): nesting a
    second level of parallel reads only makes threads wait for each other's readers.
    """
    previous = getattr(_thread_state, "serial", False)
    _thread_state.serial = True
    try:
        yield
    finally:
        _thread_state.serial = previous


def _shared_executor() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max(32, 4 * (os.cpu_count() or 1)), thread_name_prefix="bfbridge-read")
        return _executor


def run_all(jobs: Sequence[T], run: Callable[[T], None], max_workers: int) -> None:
    """``run(job)`` for every job, on up to ``max_workers`` shared threads.

    Inside :func:`serial_reads`, or with one worker, the jobs run on the calling thread.
    The first failure stops the remaining jobs and is raised; no job outlives this call.
    """
    workers = 1 if getattr(_thread_state, "serial", False) else min(len(jobs), max_workers)
    if workers <= 1:
        for job in jobs:
            run(job)
        return
    pending = iter(jobs)  # each worker pulls the next job; next() on a list iterator is atomic
    failed = threading.Event()

    def drain() -> None:
        for job in pending:
            if failed.is_set():
                return
            try:
                run(job)
            except BaseException:
                failed.set()
                raise

    futures = [_shared_executor().submit(drain) for _ in range(workers)]
    wait(futures)  # no read may outlive this call, even when one of them failed
    for future in futures:
        future.result()
