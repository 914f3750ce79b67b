"""``bfbridge serve``: the virtual OME-Zarr store over HTTP, for browser viewers and remote zarr clients.

The server runs for real on 127.0.0.1, in this process (for the HTTP details) and as the CLI
in a child process that another process reads every series from exactly.
"""

from __future__ import annotations

import hashlib
import http.client
import re
import signal
import socket
import subprocess
import sys
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from io import StringIO

import numpy as np
import pytest
import zarr

import bfbridge
from bfbridge.virtual_zarr.server import StoreServer, announce, is_loopback, key_of
from conftest import EXPECTED
from tests.http_server import running
from tests.serve_process import bfbridge_serve
from tests.test_virtual_zarr import levels_of, unfolded

FAKE = "served&sizeX=1300&sizeY=1100&sizeZ=2&sizeC=2&series=2&pixelType=uint16.fake"
ORIGIN = {"Origin": "https://viewer.example"}


@contextmanager
def serving(store) -> Iterator[str]:
    """``store`` served on a free 127.0.0.1 port by a thread of this process; yields the base URL."""
    server = StoreServer(store, "127.0.0.1", 0)
    with running(server):
        yield server.url


@pytest.fixture(scope="module")
def served():
    """(image, store, base URL) for ``FAKE``, served in this process."""
    with bfbridge.open(FAKE) as image:
        store = image.to_zarr_store()
        with serving(store) as url:
            yield image, store, url


def request(url: str, method: str = "GET", path: str = "zarr.json", headers: dict | None = None):
    """(status, headers, body) of one raw request: the path is sent exactly as given (no normalising)."""
    port = int(re.search(r":(\d+)/", url).group(1))
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.putrequest(method, path if path.startswith("/") else f"/{path}", skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


# ---------------------------------------------------------------------------- HTTP behaviour


def test_get_and_head_answer_keys_with_lengths_and_types(served):
    _, store, url = served
    status, headers, body = request(url, path="zarr.json")
    assert status == 200 and body == store.hierarchy.get("zarr.json")
    assert headers["Content-Type"] == "application/json" and headers["Content-Length"] == str(len(body))
    chunk = "0/0/c/0/1/1/0/0"
    status, headers, body = request(url, "HEAD", chunk)
    assert status == 200 and body == b"" and headers["Content-Length"] == str(1100 * 1300 * 2)
    assert headers["Content-Type"] == "application/octet-stream" and headers["Accept-Ranges"] == "bytes"
    status, _, body = request(url, path=chunk)
    assert status == 200 and body == bytes(store.hierarchy.get(chunk))
    status, headers, body = request(url, path="OME/METADATA.ome.xml")
    assert status == 200 and headers["Content-Type"] == "application/xml"
    assert body == store.hierarchy.get("OME/METADATA.ome.xml") and body.startswith(b"<OME ")


@pytest.mark.parametrize(
    ("header", "start", "stop"),
    [("bytes=0-9", 0, 10), ("bytes=100-", 100, None), ("bytes=-7", -7, None), ("bytes=5-999999999", 5, None)],
)
def test_single_ranges_give_partial_content(served, header, start, stop):
    _, store, url = served
    whole = bytes(store.hierarchy.get("0/0/c/0/0/0/0/0"))
    status, headers, body = request(url, path="0/0/c/0/0/0/0/0", headers={"Range": header})
    assert status == 206 and body == whole[start:stop]
    first = start % len(whole)
    assert headers["Content-Range"] == f"bytes {first}-{first + len(body) - 1}/{len(whole)}"


@pytest.mark.parametrize("header", ["bytes=2000000000-", "bytes=0-1,5-9", "bytes=9-2", "items=0-1", "bytes=-0"])
def test_bad_ranges_give_416_with_the_size(served, header):
    _, _, url = served
    status, headers, body = request(url, path="zarr.json", headers={"Range": header})
    size = len(request(url, path="zarr.json")[2])
    assert status == 416 and headers["Content-Range"] == f"bytes */{size}"
    assert body == b"only one satisfiable byte range is supported (bytes=first-last, first- or -suffix)\n"


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/nothing",
        "/0/",
        "/0/0/c/0/0/0/0/9",  # past the chunk grid
        "/0/0/c/0/0/0/0/00",  # not canonical
        "/../../../../etc/passwd",
        "/0/../zarr.json",
        "/%2e%2e/%2e%2e/etc/passwd",
        "//etc/passwd",
        "/0/0/c/0/0/0/0/0%00",
        "/..%5c..%5cetc/passwd",
    ],
)
def test_anything_but_a_key_is_404(served, path):
    _, _, url = served
    status, headers, body = request(url, path=path)
    assert status == 404 and body == b"not a key of this OME-Zarr store (its root is zarr.json)\n"
    assert headers["Access-Control-Allow-Origin"] == "*"


def test_key_parsing_never_leaves_the_store():
    assert key_of("/0/0/zarr.json?x=1#frag") == "0/0/zarr.json"
    assert [key_of(p) for p in ("/", "/a//b", "/a/./b", "/a/../b", "a/b", "/%2e%2e/x", "/a%5cb")] == [None] * 7


def test_cors_headers_and_preflight(served):
    _, _, url = served
    _, headers, _ = request(url, path="zarr.json", headers=ORIGIN)
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert headers["Access-Control-Expose-Headers"] == "Content-Length, Content-Range, ETag, Accept-Ranges"
    preflight = {
        **ORIGIN,
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "range",
        "Access-Control-Request-Private-Network": "true",
    }
    status, headers, body = request(url, "OPTIONS", "0/0/c/0/0/0/0/0", preflight)
    assert status == 204 and body == b""
    assert headers["Access-Control-Allow-Methods"] == "GET, HEAD, OPTIONS"
    assert headers["Access-Control-Allow-Headers"] == "range"
    assert headers["Access-Control-Allow-Private-Network"] == "true"


def test_etag_revalidation_reads_nothing(served):
    _, _, url = served
    _, headers, _ = request(url, path="0/1/c/0/0/0/0/0")
    etag = headers["ETag"]
    assert headers["Cache-Control"] == "no-cache" and etag != request(url, path="0/1/c/0/0/1/0/0")[1]["ETag"]
    status, headers, body = request(url, path="0/1/c/0/0/0/0/0", headers={"If-None-Match": etag})
    assert status == 304 and body == b"" and headers["ETag"] == etag


@pytest.mark.parametrize("method", ["PUT", "POST", "DELETE", "PATCH"])
def test_writes_are_refused(served, method):
    _, _, url = served
    status, headers, body = request(url, method, "zarr.json")
    assert status == 405 and headers["Allow"] == "GET, HEAD, OPTIONS" and headers["Connection"] == "close"
    assert body == b"this OME-Zarr store is read-only\n"


def test_concurrent_requests_read_in_parallel_and_exactly(served):
    image, store, url = served
    keys = [f"{s}/{n}/c/0/{c}/{z}/0/0" for s in range(2) for n in range(2) for c in range(2) for z in range(2)]
    with ThreadPoolExecutor(8) as pool:
        bodies = list(pool.map(lambda key: request(url, path=key)[2], keys))
    for key, body in zip(keys, bodies, strict=True):
        assert body == bytes(store.hierarchy.get(key)), key
    assert image.readers_open == image.pool_size  # the reads shared the file's readers, no more


def test_remote_zarr_and_the_validator_read_it(served):
    import yaozarrs

    image, _, url = served
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yaozarrs.validate_zarr_store(url)
    assert [str(w.message) for w in caught if w.category.__module__.startswith("yaozarrs")] == []
    root = zarr.open_group(zarr.storage.FsspecStore.from_url(url, read_only=True), mode="r")
    for series in image.series:
        np.testing.assert_array_equal(root[f"{series.index}/0"][...], series.to_numpy())


def test_announce_names_the_url_viewers_and_who_can_connect(served, capsys):
    _, store, _ = served
    out = StringIO()
    with StoreServer(store, "127.0.0.1", 0) as server:
        announce(server, "cells.czi", 2, out)
        port = server.server_address[1]
    assert out.getvalue().splitlines() == [
        f"Serving cells.czi as OME-Zarr (2 series) at http://127.0.0.1:{port}/",
        f"  vizarr (one series):  https://hms-dbmi.github.io/vizarr/?source=http://127.0.0.1:{port}/0",
        f"  OME-NGFF validator:   https://ome.github.io/ome-ngff-validator/?source=http://127.0.0.1:{port}/",
        "Only this machine can connect (bound to 127.0.0.1; --host changes it). Ctrl-C stops.",
    ]
    assert capsys.readouterr().err == ""
    with StoreServer(store, "0.0.0.0", 0) as server:
        announce(server, "cells.czi", 2, StringIO())
    warning = "bfbridge: warning: bound to 0.0.0.0: anyone who can reach this machine can read the file\n"
    assert capsys.readouterr().err == warning
    assert [is_loopback(h) for h in ("127.0.0.1", "::1", "localhost", "127.0.0.2", "0.0.0.0", "example.org")] == [
        True, True, True, True, False, False,
    ]  # fmt: skip


# ---------------------------------------------------------------------------- the command


@pytest.mark.slow
@pytest.mark.parametrize(
    ("stop", "code", "message"), [(signal.SIGTERM, 143, "terminated (SIGTERM)"), (signal.SIGINT, 130, "interrupted")]
)
def test_cli_serves_every_series_to_another_process_and_stops_cleanly(stop, code, message):
    fake = "cli&sizeX=2100&sizeY=1100&sizeC=3&rgb=3&series=2&resolutions=2&pixelType=uint8.fake"
    with bfbridge_serve(fake) as (process, url):
        root = zarr.open_group(zarr.storage.FsspecStore.from_url(url, read_only=True), mode="r")
        with bfbridge.open(fake, fold_rgb=True) as image:
            for series in image.series:
                levels = levels_of(root[str(series.index)])
                assert len(levels) == 2
                for number, array in enumerate(levels):
                    np.testing.assert_array_equal(array[...], series.level(number).to_numpy())
        process.send_signal(stop)
        _, err = process.communicate(timeout=60)
        assert process.returncode == code and err == f"bfbridge: {message}\n"


@pytest.mark.corpus
@pytest.mark.slow
@pytest.mark.parametrize("path", ["czi/CD_s_1_t_3_c_2_z_5.czi", "svs/CMU-1-Small-Region.svs"])
def test_cli_serves_corpus_files_exactly(corpus, path):
    entry = EXPECTED[path]
    with bfbridge_serve(str(corpus / path)) as (_, url):
        root = zarr.open_group(zarr.storage.FsspecStore.from_url(url, read_only=True), mode="r")
        for index, expected in enumerate(entry["series"]):
            data = unfolded(root[f"{index}/0"][...], expected["shape"])
            assert hashlib.sha256(data.tobytes()).hexdigest() == expected["sha256"], f"{path} series {index}"


def _serve_once(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bfbridge", "serve", *args], capture_output=True, text=True, timeout=300
    )


def test_cli_busy_port_is_a_clear_error():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _serve_once("busy&sizeX=16&sizeY=16.fake", "--port", str(port))
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == (
        f"bfbridge: error: cannot serve on 127.0.0.1 port {port}: it is already in use; "
        "choose another with --port (--port 0 picks a free one)\n"
    )


def test_cli_unreadable_and_missing_files_fail_before_serving(tmp_path):
    junk = tmp_path / "junk.nd2"
    junk.write_text("this is not an ND2 file")
    result = _serve_once(str(junk), "--port", "0")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith("bfbridge: error: ") and result.stderr.count("\n") == 1
    assert str(junk) in result.stderr
    missing = _serve_once(str(tmp_path / "absent.czi"), "--port", "0")
    assert missing.returncode == 1 and missing.stdout == ""
    assert missing.stderr == f"bfbridge: error: [Errno 2] No such file: '{tmp_path / 'absent.czi'}'\n"
