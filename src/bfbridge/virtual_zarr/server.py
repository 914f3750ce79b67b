"""The HTTP server behind ``bfbridge serve``: a virtual OME-Zarr store for browser viewers.

GET and HEAD answer store keys only (a URL is parsed into a key, never mapped to a path),
single byte ranges are honoured, and CORS headers let viewers on other origins (vizarr,
neuroglancer, the OME-NGFF validator) read it. Each connection gets a thread; chunks are read
through the file's pool of readers. It binds to 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import errno
import hashlib
import ipaddress
import logging
import socket
import sys
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

from .._version import __version__
from .byteranges import from_header, satisfiable, span
from .store import OmeZarrStore

log = logging.getLogger(__name__)

VIZARR = "https://hms-dbmi.github.io/vizarr/?source="
VALIDATOR = "https://ome.github.io/ome-ngff-validator/?source="
_CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "Content-Length, Content-Range, ETag, Accept-Ranges",
}
_CONTENT_TYPES = {".json": "application/json", ".xml": "application/xml"}


def key_of(target: str) -> str | None:
    """The store key a request target names, or None when it cannot name one (no ``..``, no empty parts)."""
    path = unquote(urlsplit(target).path)
    if not path.startswith("/"):
        return None
    key = path[1:]
    parts = key.split("/")
    if not key or any(part in ("", ".", "..") for part in parts) or "\\" in key or "\x00" in key:
        return None
    return key


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class StoreServer(ThreadingHTTPServer):
    """Serves one :class:`OmeZarrStore` on ``host``:``port`` (port 0: any free port)."""

    daemon_threads = True  # a viewer's open connection never keeps the process alive

    def __init__(self, store: OmeZarrStore, host: str, port: int) -> None:
        self.store = store
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        try:
            super().__init__((host, port), _Handler)
        except OSError as error:
            hint = "; choose another with --port (--port 0 picks a free one)" if error.errno == errno.EADDRINUSE else ""
            reason = "it is already in use" if error.errno == errno.EADDRINUSE else error.strerror
            failure = OSError(f"cannot serve on {host} port {port}: {reason}{hint}")
            failure.errno = error.errno
            raise failure from None
        self.host = host

    @property
    def url(self) -> str:
        """The base URL of the store (ends with ``/``)."""
        host, port = self.server_address[:2]
        if host in ("0.0.0.0", "::"):
            host = socket.gethostname()
        elif ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{port}/"


def announce(server: StoreServer, path: str, series_count: int, out=sys.stdout) -> None:
    """Tell the user where the store is, how to view it, and who can reach it."""
    url = server.url
    print(f"Serving {path} as OME-Zarr ({series_count} series) at {url}", file=out)
    print(f"  vizarr (one series):  {VIZARR}{url}0", file=out)
    print(f"  OME-NGFF validator:   {VALIDATOR}{url}", file=out)
    if is_loopback(server.host):
        print(f"Only this machine can connect (bound to {server.host}; --host changes it). Ctrl-C stops.", file=out)
    else:
        print(
            f"bfbridge: warning: bound to {server.host}: anyone who can reach this machine can read the file",
            file=sys.stderr,
        )
        print("Ctrl-C stops.", file=out)
    out.flush()


class _Handler(BaseHTTPRequestHandler):
    server: StoreServer
    protocol_version = "HTTP/1.1"  # keep-alive: a viewer asks for many chunks
    disable_nagle_algorithm = True
    server_version = f"bfbridge/{__version__}"

    def log_message(self, format: str, *args) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        self._answer(with_body=True)

    def do_HEAD(self) -> None:
        self._answer(with_body=False)

    def do_OPTIONS(self) -> None:
        """CORS preflight: a viewer on another origin may send Range (and ask across to a private address)."""
        self.send_response(HTTPStatus.NO_CONTENT)
        self.send_header("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
        self.send_header("Access-Control-Allow-Headers", self.headers.get("Access-Control-Request-Headers") or "Range")
        if self.headers.get("Access-Control-Request-Private-Network") == "true":
            self.send_header("Access-Control-Allow-Private-Network", "true")
        self.send_header("Access-Control-Max-Age", "86400")
        self.send_header("Content-Length", "0")
        self._end_headers()

    def _refuse_write(self) -> None:
        headers = {"Allow": "GET, HEAD, OPTIONS", "Connection": "close"}  # the request's body is never read
        self._send_text(HTTPStatus.METHOD_NOT_ALLOWED, "this OME-Zarr store is read-only", headers)

    do_PUT = do_POST = do_DELETE = do_PATCH = _refuse_write

    # ------------------------------------------------------------- answers

    def _end_headers(self) -> None:
        for name, value in _CORS.items():
            self.send_header(name, value)
        self.end_headers()

    def _send_text(self, status: HTTPStatus, text: str, headers: dict[str, str] | None = None) -> None:
        body = f"{text}\n".encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self._end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _answer(self, with_body: bool) -> None:
        hierarchy = self.server.store.hierarchy
        key = key_of(self.path)
        if key is None or not hierarchy.exists(key):
            self._send_text(HTTPStatus.NOT_FOUND, "not a key of this OME-Zarr store (its root is zarr.json)")
            return
        tag = hashlib.sha1(f"{hierarchy.version}/{hierarchy.compression}/{key}".encode()).hexdigest()[:24]
        etag = f'"{tag}"'
        if etag in (self.headers.get("If-None-Match") or ""):
            self.send_response(HTTPStatus.NOT_MODIFIED)
            self.send_header("ETag", etag)
            self._end_headers()
            return
        try:
            value = hierarchy.get(key) if with_body else None
            size = len(value) if value is not None else hierarchy.size(key)
        except Exception as error:  # a damaged or changed file: say so, keep serving the rest
            log.warning("reading %s failed: %s", key, error)
            message = "; ".join(line.strip() for line in str(error).splitlines() if line.strip())
            self._send_text(HTTPStatus.INTERNAL_SERVER_ERROR, f"reading {key} failed: {message}")
            return
        start, stop, status, extra = 0, size, HTTPStatus.OK, {}
        header = self.headers.get("Range")
        if header is not None:
            request = from_header(header)
            if request is None or not satisfiable(size, request):
                self._send_text(
                    HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE,
                    "only one satisfiable byte range is supported (bytes=first-last, first- or -suffix)",
                    {"Content-Range": f"bytes */{size}"},
                )
                return
            start, stop = span(size, request)
            status, extra = HTTPStatus.PARTIAL_CONTENT, {"Content-Range": f"bytes {start}-{stop - 1}/{size}"}
        self.send_response(status)
        for name, text in extra.items():
            self.send_header(name, text)
        self.send_header("Content-Type", _content_type(key))
        self.send_header("Content-Length", str(stop - start))
        self.send_header("ETag", etag)
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Cache-Control", "no-cache")  # revalidate: the file may change (the ETag follows it)
        self._end_headers()
        if value is not None:
            try:
                self.wfile.write(memoryview(value)[start:stop])
            except ConnectionError:  # the viewer moved on (panned away) before the chunk arrived
                self.close_connection = True


def _content_type(key: str) -> str:
    name = key.rsplit("/", 1)[-1]
    suffix = name[name.rfind(".") :] if "." in name else ""
    return _CONTENT_TYPES.get(suffix, "application/octet-stream")
