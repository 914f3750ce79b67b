"""The readers of one open file: lent to one thread at a time, replaced when Java fails.

Bio-Formats readers are not thread-safe, so each thread borrows its own; a reader whose
Java state may be broken (out of memory, a timeout, an internal failure) is closed
instead of being returned to the pool.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

import jpype

from .. import jvm, pixels
from ..errors import FileClosedError, JavaMemoryError, ReadTimeoutError


class PooledReader:
    """One Bio-Formats reader with its byte buffers; used by one thread at a time.

    ``on_close`` releases what the reader's file id depends on (a remote mount).
    """

    def __init__(self, java, on_close: Callable[[], None] | None = None) -> None:
        self.java = java
        self.buffers = pixels.ByteBuffers()
        self._position = (0, 0)
        self._on_close = on_close

    def select(self, series: int, level: int) -> None:
        if self._position != (series, level):
            if self._position[0] != series:
                self.java.setSeries(series)
            self.java.setResolution(level)
            self._position = (series, level)

    def close(self) -> None:
        self.buffers.clear()
        with suppress(Exception):  # closing must not raise, e.g. at interpreter exit
            self.java.close()
        if self._on_close is not None:
            self._on_close()


class ReaderPool:
    """Readers of one file, lent to one thread at a time and grown up to ``size``."""

    def __init__(self, first: PooledReader, create: Callable[[], PooledReader], size: int, label: str) -> None:
        self._idle = [first]
        self._create = create
        self._count = 1
        self.size = size
        self._label = label
        self._closed = False
        self._condition = threading.Condition()

    @property
    def count(self) -> int:
        return self._count

    @contextmanager
    def borrow(self) -> Iterator[PooledReader]:
        reader = self._acquire()
        healthy = True
        try:
            yield reader
        except (JavaMemoryError, MemoryError, ReadTimeoutError):
            healthy = False  # the reader may hold half-updated state, or still be busy: replace it
            raise
        except jpype.JException as error:
            healthy = not jvm.is_internal_failure(error)  # damaged data alone leaves the reader sound
            raise
        finally:
            self._release(reader, healthy)

    def _acquire(self) -> PooledReader:
        with self._condition:
            while True:
                if self._closed:
                    raise FileClosedError(f"{self._label} is closed; open it again with bfbridge.open()")
                if self._idle:
                    return self._idle.pop()
                if self._count < self.size:
                    self._count += 1
                    break
                self._condition.wait()
        try:
            reader = self._create()
        except BaseException:
            with self._condition:
                self._count -= 1
                self._condition.notify()
            raise
        with self._condition:
            closed = self._closed
            if closed:  # closed while this reader was being opened: it must not outlive close()
                self._count -= 1
                self._condition.notify()
        if closed:
            reader.close()
            raise FileClosedError(f"{self._label} is closed; open it again with bfbridge.open()")
        return reader

    def _release(self, reader: PooledReader, healthy: bool) -> None:
        with self._condition:
            keep = healthy and not self._closed
            if keep:
                self._idle.append(reader)
            else:
                self._count -= 1
            self._condition.notify()
        if not keep:
            reader.close()

    def close(self) -> None:
        with self._condition:
            self._closed = True
            idle, self._idle = self._idle, []
            self._count -= len(idle)
            self._condition.notify_all()
        for reader in idle:
            reader.close()
