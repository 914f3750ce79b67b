"""``bfbridge serve`` in a child process, for tests and benchmarks that read it from elsewhere."""

from __future__ import annotations

import queue
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def bfbridge_serve(*args: str, timeout: float = 180) -> Iterator[tuple[subprocess.Popen, str]]:
    """``bfbridge serve ARGS --port 0``; yields the process and the URL it prints. Always stopped after."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bfbridge", "serve", *args, "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(process.stdout.readline()), daemon=True).start()
    try:
        first = lines.get(timeout=timeout)
        found = re.search(r" at (http://127\.0\.0\.1:\d+/)$", first.strip())
        if not found:
            raise RuntimeError(f"bfbridge serve printed no URL: {first!r} (exit code {process.poll()})")
        yield process, found.group(1)
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=60)
