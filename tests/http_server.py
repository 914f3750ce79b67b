"""A real HTTP file server on 127.0.0.1 that honours Range requests and counts the bytes it sends.

Remote-reading tests and the remote benchmark use it to check that bfbridge fetches only
the byte ranges Bio-Formats asks for. Directories are listed as HTML pages, the way
fsspec's HTTP filesystem expects (``python -m http.server`` style).
"""

from __future__ import annotations

import os
import re
import socket
import socketserver
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class ServedBytes:
    """Body bytes sent per URL path and the requests made, safe to update from many threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.by_path: Counter[str] = Counter()
        self.requests: list[tuple[str, str, str | None]] = []  # (method, path, Range header)

    def add(self, path: str, size: int) -> None:
        with self._lock:
            self.by_path[path] += size

    def request(self, method: str, path: str, byte_range: str | None) -> None:
        with self._lock:
            self.requests.append((method, path, byte_range))

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self.by_path.values())

    def reset(self) -> None:
        with self._lock:
            self.by_path.clear()
            self.requests.clear()


class _RangeHandler(SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like real object stores
    disable_nagle_algorithm = True  # else headers and body in two writes wait ~40 ms for a delayed ACK

    def __init__(self, *args, served: ServedBytes, required_headers: dict[str, str], **kwargs) -> None:
        self.served = served
        self.required_headers = required_headers
        super().__init__(*args, **kwargs)

    def _authorised(self) -> bool:
        """Whether the request carries the headers the server requires (else a 401 is sent)."""
        if all(self.headers.get(name) == value for name, value in self.required_headers.items()):
            return True
        self.send_error(HTTPStatus.UNAUTHORIZED, "missing or wrong request headers")
        return False

    def log_message(self, format: str, *args) -> None:  # quiet test output
        pass

    def do_GET(self) -> None:
        self.served.request("GET", self.path, self.headers.get("Range"))
        if not self._authorised():
            return None
        file_path = Path(self.translate_path(self.path))
        if not file_path.is_file() or "Range" not in self.headers:
            return super().do_GET()
        return self._send_range(file_path, self.headers["Range"])

    def do_HEAD(self) -> None:
        self.served.request("HEAD", self.path, None)
        if not self._authorised():
            return None
        return super().do_HEAD()

    def copyfile(self, source, outputfile) -> None:
        """Whole-file and directory-listing bodies: count what is sent."""
        data = source.read()
        self.served.add(self.path, len(data))
        outputfile.write(data)

    def _send_range(self, file_path: Path, header: str) -> None:
        size = file_path.stat().st_size
        match = _RANGE.match(header.strip())
        if not match or match.groups() == ("", ""):
            self.send_error(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, "only single byte ranges are supported")
            return
        first, last = match.groups()
        if first == "":  # suffix range: the last N bytes
            start, end = max(0, size - int(last)), size - 1
        else:
            start, end = int(first), min(int(last) if last else size - 1, size - 1)
        if start >= size or start > end:
            self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
            self.send_header("Content-Range", f"bytes */{size}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        with open(file_path, "rb") as handle:
            handle.seek(start)
            data = handle.read(end - start + 1)
        self.send_response(HTTPStatus.PARTIAL_CONTENT)
        self.send_header("Content-Type", self.guess_type(str(file_path)))
        self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.served.add(self.path, len(data))
        self.wfile.write(data)

    def end_headers(self) -> None:
        self.send_header("Accept-Ranges", "bytes")
        super().end_headers()


class _Server(ThreadingHTTPServer):
    """Closes its keep-alive connections when it stops, as a server that goes away does."""

    daemon_threads = True

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def process_request(self, request, client_address) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def server_close(self) -> None:
        super().server_close()
        with self._connections_lock:
            for connection in self._connections:
                with suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)


@contextmanager
def running(server: socketserver.BaseServer) -> Iterator[int]:
    """Run ``server`` on a thread of this process; yields its port, then shuts it down and closes it."""
    thread = threading.Thread(target=server.serve_forever, name="test-http-server", daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextmanager
def serve_directory(
    root: str | os.PathLike, required_headers: dict[str, str] | None = None
) -> Iterator[tuple[str, ServedBytes]]:
    """Serve ``root`` read-only on an ephemeral 127.0.0.1 port; yields (base URL, byte counter).

    With ``required_headers``, requests without those header values get 401 (an access token, say).
    """
    served = ServedBytes()
    handler = partial(_RangeHandler, served=served, required_headers=required_headers or {}, directory=str(root))
    with running(_Server(("127.0.0.1", 0), handler)) as port:
        yield f"http://127.0.0.1:{port}", served
