"""Memory pressure and slow reads: a small heap, a Java OutOfMemoryError and a read timeout.

Each case runs in a fresh interpreter (the ``python`` fixture): the heap is fixed when
the JVM starts, and a read stuck in Java must not slow the rest of the suite down.
The child code is flat (no indentation) so that cases can be assembled from pieces.
"""

from __future__ import annotations

import json
import os
import zlib
from pathlib import Path

import numpy as np
import pytest
import tifffile

SIDE = 12000  # a 12000 x 12000 float64 plane is 1.15 GB: four times a 256 MB heap
SMALL_HEAP = "256m"


def _last_json(result) -> dict:
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture
def small_tiff(tmp_path):
    """A small OME-TIFF whose pixels are known, to prove a process still reads after trouble."""
    path = tmp_path / "small.ome.tif"
    tifffile.imwrite(
        path, np.arange(3 * 40 * 50, dtype=np.uint16).reshape(3, 40, 50), ome=True, metadata={"axes": "ZYX"}
    )
    return path


@pytest.fixture
def sparse_double_tiff(tmp_path):
    """An uncompressed 12000 x 12000 float64 TIFF (sparse on disk): every 997th row and column 5000 set."""
    path = tmp_path / "big-double.tif"
    tifffile.imwrite(path, shape=(SIDE, SIDE), dtype="float64", photometric="minisblack")
    plane = tifffile.memmap(path)
    plane[::997, :] = np.arange(SIDE) * 1.5
    plane[:, 5000] = -np.arange(SIDE)
    plane.flush()
    del plane
    return path


def write_inflate_bomb(path: Path) -> Path:
    """An OME-TIFF: series 0 is one zlib strip that inflates to 1.15 GB; series 1 is a small known image.

    Bio-Formats inflates a whole strip to read any part of it, so no region of series 0
    can be read with a heap below 1.15 GB: a deterministic Java OutOfMemoryError.
    """
    compressor = zlib.compressobj(1)
    rows = bytes(1200 * SIDE * 8)
    strip = b"".join([compressor.compress(rows) for _ in range(SIDE // 1200)] + [compressor.flush()])
    with tifffile.TiffWriter(path, ome=True) as writer:
        writer.write(
            iter([strip]), shape=(SIDE, SIDE), dtype="float64", compression="zlib", rowsperstrip=SIDE,
            photometric="minisblack",
        )  # fmt: skip
        writer.write(np.arange(64 * 64, dtype=np.uint16).reshape(64, 64), photometric="minisblack")
    return path


@pytest.fixture
def inflate_bomb(tmp_path):
    return write_inflate_bomb(tmp_path / "inflate-bomb.ome.tif")


STILL_READS = """
import json, jpype, psutil, numpy as np, bfbridge as bf

def still_reads(small):
    # The same process reads a fake id and a small file correctly.
    fake = bf.imread("after&sizeX=40&sizeY=30&sizeZ=2.fake")
    data = bf.imread(small)
    expected = np.arange(3 * 40 * 50, dtype=np.uint16).reshape(1, 1, 3, 40, 50)
    return fake.shape == (1, 1, 2, 30, 40) and bool((data == expected).all())
"""
PLANE_OR_MEMORY_ERROR = """
report = {{}}
try:
    with bf.open({path!r}) as f:
        plane = f.series[0][0, 0, 0]
        report["readers_open"], report["pool_size"] = f.readers_open, f.pool_size
    report["shape"], report["dtype"] = list(plane.shape), plane.dtype.name
    report["verdict"] = verdict(plane)
except bf.JavaMemoryError as error:
    report["memory_error"] = str(error)
    report["is_memory_error"] = isinstance(error, MemoryError)
report["still_reads"] = still_reads({small!r})
print(json.dumps(report))
"""


def _plane_or_memory_error(python, path: str, verdict: str, small) -> dict:
    """Read plane 0 of ``path`` with a 256 MB heap; ``verdict`` defines ``verdict(plane)``: is it right?"""
    code = STILL_READS + verdict + PLANE_OR_MEMORY_ERROR.format(path=path, small=str(small))
    return _last_json(python(code, env={"BFBRIDGE_MAX_HEAP": SMALL_HEAP}))


def _assert_tiled(report: dict) -> None:
    """The plane was read in strips sized to the small heap, exactly, and the process still reads."""
    assert "memory_error" not in report, f"a plane that fits in RAM must be tiled, not refused: {report}"
    assert report["shape"] == [SIDE, SIDE] and report["dtype"] == "float64"
    assert report["verdict"] is True, report
    assert report["readers_open"] <= report["pool_size"]
    assert report["still_reads"] is True


def test_fake_double_plane_beyond_the_heap_is_read_in_tiles(python, small_tiff):
    fake = f"big&sizeX={SIDE}&sizeY={SIDE}&pixelType=double.fake"
    # Regions read by a bare Bio-Formats reader, one small openBytes each, are the reference.
    verdict = f"""
def verdict(plane):
    reader = jpype.JClass("loci.formats.ImageReader")()
    reader.setId({fake!r})
    dtype = "<f8" if reader.isLittleEndian() else ">f8"
    corners = [(0, 0), (0, {SIDE} - 64), ({SIDE} - 64, 0), (5984, 6000), ({SIDE} - 64, {SIDE} - 64)]
    same = []
    for y, x in corners:
        raw = np.frombuffer(bytes(reader.openBytes(0, x, y, 64, 64)), dtype=dtype).reshape(64, 64)
        same.append(bool((plane[y:y + 64, x:x + 64] == raw).all()))
    reader.close()
    return all(same)
"""
    _assert_tiled(_plane_or_memory_error(python, fake, verdict, small_tiff))


def test_uncompressed_tiff_double_plane_beyond_the_heap_is_read_in_tiles(python, sparse_double_tiff, small_tiff):
    verdict = f"""
def verdict(plane):
    expected_row = np.arange({SIDE}) * 1.5
    rows = plane[::997].copy()
    rows[:, 5000] = expected_row[5000]  # column 5000 was written after the rows
    written = len(range(0, {SIDE}, 997)) * ({SIDE} - 2) + {SIDE} - 1  # non-zero values written
    return (
        bool((plane[:, 5000] == -np.arange({SIDE})).all())
        and bool((rows == expected_row).all())
        and int(np.count_nonzero(plane)) == written
    )
"""
    _assert_tiled(_plane_or_memory_error(python, str(sparse_double_tiff), verdict, small_tiff))


def test_java_out_of_memory_leaves_reader_pool_and_process_usable(python, inflate_bomb, small_tiff):
    code = (
        STILL_READS
        + f"""
report = {{"errors": [], "small_series_ok": [], "readers": []}}
image = bf.open({str(inflate_bomb)!r})
bomb, small = image.series
expected = np.arange(64 * 64, dtype=np.uint16).reshape(1, 1, 1, 64, 64)
for attempt in range(3):
    try:
        bomb[0, 0, 0, :16, :16]
        report["errors"].append(None)
    except BaseException as error:
        report["errors"].append([type(error).__name__, isinstance(error, MemoryError), str(error)])
    report["small_series_ok"].append(bool((small.to_numpy() == expected).all()))
    report["readers"].append([image.readers_open, image.pool_size])
image.close()
report["left_open"] = [f.path for f in psutil.Process().open_files() if f.path == {os.path.realpath(inflate_bomb)!r}]
report["still_reads"] = still_reads({str(small_tiff)!r})
print(json.dumps(report))
"""
    )
    report = _last_json(python(code, env={"BFBRIDGE_MAX_HEAP": SMALL_HEAP}))
    assert None not in report["errors"], "the inflate bomb was read with a 256 MB heap"
    for name, is_memory_error, message in report["errors"]:
        assert name == "JavaMemoryError" and is_memory_error
        assert str(inflate_bomb) in message and f"max heap is {SMALL_HEAP}" in message, message
    assert report["small_series_ok"] == [True, True, True]
    assert all(1 <= count <= size for count, size in report["readers"]), report["readers"]
    assert report["left_open"] == []
    assert report["still_reads"] is True


SLOW_READ = "slow&sizeX=64&sizeY=64&sleepOpenBytes={ms}.fake"
TIMEOUT_PROBE = """
import json, numpy as np, bfbridge as bf
report = {{}}
f = bf.open({slow!r})
series = f.series[0]
try:
    series[0, 0, 0]
    report["error"] = None
except BaseException as error:
    report["error"] = [type(error).__name__, str(error)]
    report["bases"] = [
        isinstance(error, bf.ReadTimeoutError), isinstance(error, bf.BioFormatsError), isinstance(error, TimeoutError)
    ]
# the process reads other files while the timed-out call may still be stuck in Java
report["other_file"] = bf.imread("other&sizeX=16&sizeY=8.fake").shape == (1, 1, 1, 8, 16)
"""
READ_AGAIN = """
bf.configure(read_timeout=120)
again = series[0, 0, 0]
report["same_file_again"] = bool((again == bf.imread("slow&sizeX=64&sizeY=64.fake")[0, 0, 0]).all())
report["readers"] = [f.readers_open, f.pool_size]
"""
REPORT = "f.close()\nprint(json.dumps(report))\n"


def _assert_timed_out(report: dict, slow: str) -> None:
    assert report["error"] is not None, "the slow read finished instead of timing out"
    name, message = report["error"]
    assert name == "ReadTimeoutError" and report["bases"] == [True, True, True], report
    assert slow in message and "read_timeout" in message, message
    assert report["other_file"] is True


def test_read_timeout_stops_a_read_stuck_in_java_and_the_file_reads_afterwards(python):
    slow = SLOW_READ.format(ms=4000)
    code = "import bfbridge\nbfbridge.configure(read_timeout=1)\n" + TIMEOUT_PROBE.format(slow=slow)
    report = _last_json(python(code + READ_AGAIN + REPORT, timeout=180))
    _assert_timed_out(report, slow)
    assert report["same_file_again"] is True
    assert 1 <= report["readers"][0] <= report["readers"][1]


def test_read_timeout_from_the_environment(python):
    slow = SLOW_READ.format(ms=20000)
    code = TIMEOUT_PROBE.format(slow=slow) + REPORT
    _assert_timed_out(_last_json(python(code, env={"BFBRIDGE_READ_TIMEOUT": "1"})), slow)


def test_read_timeout_also_guards_a_slow_open(python):
    """Bio-Formats loops on bad data mostly while parsing it (setId), so opening is guarded too."""
    slow = "slowopen&sizeX=16&sizeY=8&sleepInitFile=20000.fake"
    code = f"""
import json, bfbridge as bf
bf.configure(read_timeout=1)
try:
    bf.open({slow!r}).close()
    report = {{"error": None}}
except BaseException as error:
    report = {{"error": [type(error).__name__, str(error)]}}
report["other_file"] = bf.imread("other&sizeX=16&sizeY=8.fake").shape == (1, 1, 1, 8, 16)
print(json.dumps(report))
"""
    report = _last_json(python(code))
    assert report["error"] is not None, "the slow open finished instead of timing out"
    assert report["error"][0] == "ReadTimeoutError" and slow in report["error"][1], report
    assert report["other_file"] is True
