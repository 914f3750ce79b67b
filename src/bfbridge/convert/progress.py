"""Progress of a conversion in bytes written: a tqdm bar, a callback, or nothing.

Writers announce work with :meth:`Progress.expect` as they plan it (a pyramid level
that is built from the one before is only known once that one is planned), and
report it with :meth:`Progress.advance`; both run in the calling thread.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

#: ``progress(done_bytes, total_bytes)``
ProgressCallback = Callable[[int, int], None]


class Progress:
    """Bytes written out of bytes expected, shown the way the caller asked."""

    def __init__(self, report: bool | ProgressCallback, description: str = "") -> None:
        self.done = 0
        self.total = 0
        self._callback = report if callable(report) else None
        self._bar = None
        if report is True:
            from tqdm import tqdm

            self._bar = tqdm(
                total=0, desc=description, unit="B", unit_scale=True, unit_divisor=1024, file=sys.stderr, leave=True
            )

    def expect(self, nbytes: int) -> None:
        self.total += int(nbytes)
        if self._bar is not None:
            self._bar.total = self.total
            self._bar.refresh()

    def advance(self, nbytes: int) -> None:
        self.done += int(nbytes)
        if self._bar is not None:
            self._bar.update(int(nbytes))
        if self._callback is not None:
            self._callback(self.done, self.total)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
