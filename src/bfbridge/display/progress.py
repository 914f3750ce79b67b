"""Progress of long work in bytes: a tqdm bar, a callback, or nothing.

``True`` gives ``tqdm.auto``'s bar: a widget in Jupyter (with ipywidgets installed), text
on stderr in a terminal. Work is announced with :meth:`Progress.expect` as it is planned
(a pyramid level built from the one before is only known once that one is planned) and
reported with :meth:`Progress.advance`, which read threads may call concurrently.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

#: ``progress(done_bytes, total_bytes)``
ProgressCallback = Callable[[int, int], None]


def file_label(path: str) -> str:
    """A short name for a file in a bar's description (a ``.fake`` id without its options)."""
    name = os.path.basename(path)
    return name.split("&", 1)[0] + ".fake" if "&" in name and name.endswith(".fake") else name


class Progress:
    """Bytes done out of bytes expected, shown the way the caller asked."""

    def __init__(self, report: bool | ProgressCallback | None, description: str = "", total: int = 0) -> None:
        if not (report is None or isinstance(report, bool) or callable(report)):
            raise TypeError(f"progress must be True, False or a callback(done_bytes, total_bytes), not {report!r}")
        self.done = 0
        self.total = int(total)
        self._lock = threading.Lock()
        self._callback = report if callable(report) else None
        self._bar = None
        if report is True:
            from tqdm.auto import tqdm

            self._bar = tqdm(
                total=self.total, desc=description, unit="B", unit_scale=True, unit_divisor=1024, leave=True
            )

    def expect(self, nbytes: int) -> None:
        with self._lock:
            self.total += int(nbytes)
            if self._bar is None:
                return
            if self.done == 0:  # reset() also updates a notebook widget's maximum
                self._bar.reset(total=self.total)
            else:
                self._bar.total = self.total
                self._bar.refresh()

    def advance(self, nbytes: int) -> None:
        with self._lock:
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
