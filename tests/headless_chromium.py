"""Open a page in Debian's headless Chromium and wait for what it reports; never hang, leave nothing behind.

The page comes from its own server on 127.0.0.1 (another origin than the data, so CORS is
exercised) and reports by POSTing JSON to ``/result`` on that server. ``--dump-dom`` would not
wait for the page's asynchronous reads.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.http_server import running

FLAGS = (
    "--headless",
    "--no-sandbox",  # tests may run as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--disable-extensions",
    "--enable-logging=stderr",  # console messages reach the log shown on failure
)


def find_chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class _PageHandler(SimpleHTTPRequestHandler):
    extensions_map = {".html": "text/html", ".js": "text/javascript", ".json": "application/json"}  # noqa: RUF012

    def __init__(self, *args, results: queue.Queue, **kwargs) -> None:
        self.results = results
        super().__init__(*args, **kwargs)

    def log_message(self, format: str, *args) -> None:  # quiet test output
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            self.results.put(json.loads(body))
        except ValueError:
            self.results.put({"ok": False, "error": f"unreadable report {body[:200]!r}"})
        self.send_response(HTTPStatus.NO_CONTENT)
        self.send_header("Content-Length", "0")
        self.end_headers()


@contextmanager
def page_server(folder: Path) -> Iterator[tuple[str, queue.Queue]]:
    """Serve ``folder`` (the page and its node_modules) on a free 127.0.0.1 port; yields (base URL, reports)."""
    results: queue.Queue = queue.Queue()
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_PageHandler, results=results, directory=str(folder)))
    server.daemon_threads = True
    with running(server) as port:
        yield f"http://127.0.0.1:{port}/", results


def _stop(process: subprocess.Popen) -> None:
    """Chromium forks helpers: end its whole process group (it leads its own session)."""
    for stop in (signal.SIGTERM, signal.SIGKILL):
        if process.poll() is not None:
            return
        with suppress(ProcessLookupError):
            os.killpg(process.pid, stop)
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)


def run_page(chromium: str, url: str, results: queue.Queue, timeout: float = 120) -> dict:
    """Open ``url`` and return the first report its page POSTs; RuntimeError with Chromium's log otherwise."""
    profile = Path(tempfile.mkdtemp(prefix="bfbridge-chromium-"))
    log_path = profile / "chromium.log"
    try:
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [chromium, *FLAGS, f"--user-data-dir={profile / 'profile'}", url],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                deadline = time.monotonic() + timeout
                while time.monotonic() < deadline:
                    with suppress(queue.Empty):
                        return results.get(timeout=0.2)
                    if process.poll() is not None:
                        break
                problem = f"exited with {process.returncode}" if process.poll() is not None else f"{timeout} s passed"
            finally:
                _stop(process)
        raise RuntimeError(f"the page reported nothing ({problem}); Chromium's log:\n{log_path.read_text()[-3000:]}")
    finally:
        shutil.rmtree(profile, ignore_errors=True)
