"""Leaks and read-only: handles, threads and Java heap stay flat; the data directory is never touched.

``tests/test_lifecycle.py`` covers one OME-TIFF opened and closed, or dropped. These
tests cover every sample format, failed and memoized opens, objects that outlive their
ImageFile (a Series, a dask array, an xarray, a reference cycle), the Java heap, and
the data directory's listing and mtimes.
"""

from __future__ import annotations

import gc
import hashlib
import os
import shutil
import stat
import subprocess
import sys
import threading
import time
import weakref
from pathlib import Path

import jpype
import psutil
import pytest

import bfbridge
from conftest import EXPECTED
from tests.damage import SAMPLES, child_env, copy_sample, probe_in_children

pytestmark = pytest.mark.corpus

CYCLES = 200


def _open_files() -> set[str]:
    return {f.path for f in psutil.Process().open_files()}


def _open_under(folder: Path) -> list[str]:
    real = os.path.realpath(folder)  # the OS reports real paths
    return sorted(path for path in _open_files() if path.startswith(real))


@pytest.fixture(scope="module")
def data(corpus, tmp_path_factory) -> dict[str, Path]:
    """A copy of every sample format (companions included), by format key; the main file of each."""
    root = tmp_path_factory.mktemp("data")
    return {key: copy_sample(corpus, sample, root) for key, sample in SAMPLES.items()}


def _open_and_read(path: Path, memoize, dask: bool = False) -> None:
    with bfbridge.open(path, memoize=memoize, group_files=_group_files(path)) as image:
        series = image.series[-1]
        series[0, 0, 0]
        if dask:
            series.to_dask().compute(scheduler="threads")


def _group_files(path: Path) -> bool:
    relative = next((s.main for s in SAMPLES.values() if str(path).endswith(s.main)), None)
    return EXPECTED[relative]["group_files"] if relative else True


def test_open_close_cycles_across_formats_leave_no_handles_or_threads(data, tmp_path):
    broken = tmp_path / "broken.czi"
    broken.write_bytes(b"ZISRAWFILE" + bytes(54))
    # every format memoized (0: always; later opens load the memo), a few multi-file ones not memoized too
    plans = [(path, 0) for path in data.values()] + [(data[k], False) for k in ("ics", "vsi", "ome-tiff-companion")]

    def cycle(number: int) -> None:
        if number % 10 == 9:
            with pytest.raises(bfbridge.FormatError):
                bfbridge.open(broken)
            return
        path, memoize = plans[number % len(plans)]
        _open_and_read(path, memoize, dask=number % 7 == 0)

    for number in range(2 * len(plans)):  # warm up: classes, memo files, dask's thread pool
        cycle(number)
    files, descriptors, threads = _open_files(), psutil.Process().num_fds(), threading.active_count()
    for number in range(CYCLES):
        cycle(number)
    assert _open_files() == files
    assert _open_under(data["czi"].parents[1]) == []
    assert psutil.Process().num_fds() <= descriptors + 2  # a leak per cycle would add 200
    assert threading.active_count() == threads


def _holder(kind: str, path: Path):
    """Something a user keeps after dropping the ImageFile itself, and a weak reference to that file."""
    image = bfbridge.open(path)
    reference = weakref.ref(image)
    series = image.series[0]
    if kind == "series":
        series.to_numpy()
        kept = series
    elif kind == "pyramid level":
        kept = series.level(-1)
        kept.to_numpy()
    elif kind == "dask array":
        kept = series.to_dask()
        kept.compute(scheduler="threads")
    elif kind == "xarray":
        kept = series.to_xarray()
        kept.values  # noqa: B018
    else:  # a reference cycle that only the cyclic garbage collector frees
        kept = {"image": image}
        kept["self"] = kept
        series.to_numpy()
    return kept, reference


@pytest.mark.parametrize("kind", ["series", "pyramid level", "dask array", "xarray", "reference cycle"])
@pytest.mark.parametrize("key", ["ics", "ome-tiff-pyramid"])
def test_objects_dropped_without_close_release_their_readers(data, kind, key):
    folder = data[key].parent
    kept, reference = _holder(kind, data[key])
    assert _open_under(folder) != []  # the readers are open while something uses the file
    del kept
    gc.collect()
    assert reference() is None
    assert _open_under(folder) == []


def _heap_in_use() -> int:
    """Bytes of live Java objects: the smallest of a few readings, each after a full collection."""
    runtime = jpype.JClass("java.lang.Runtime").getRuntime()
    system = jpype.JClass("java.lang.System")
    readings = []
    for _ in range(3):
        gc.collect()  # drop Python proxies first, so Java may collect what they held
        system.gc()
        time.sleep(0.05)
        readings.append(int(runtime.totalMemory()) - int(runtime.freeMemory()))
    return min(readings)


def test_java_heap_does_not_grow_across_open_close_cycles(data):
    fake = "heap&sizeX=2048&sizeY=2048&pixelType=uint16.fake"  # its reader keeps an 8 MB byte[] for a plane
    paths = [fake, data["lif"], data["ome-tiff"], data["ics"]]

    def cycle() -> None:
        for path in paths:
            with bfbridge.open(path, memoize=False) as image:
                image.series[0][0, 0, 0]
                image.original_metadata  # noqa: B018

    for _ in range(5):
        cycle()
    before = _heap_in_use()
    for _ in range(30):
        cycle()
    growth = _heap_in_use() - before
    # leaked fake readers alone would hold 240 MB; measured noise is well under 1 MB
    assert growth < 16 << 20, f"Java heap grew by {growth >> 20} MB over {30 * len(paths)} open/read/close cycles"


# ---------------------------------------------------------------------------- read-only


def _snapshot(folder: Path) -> dict[str, tuple]:
    """Every entry below ``folder`` (and itself): type, mode, size, mtime, and content hash for files."""
    entries = {}
    for path in sorted([folder, *folder.rglob("*")]):
        info = path.lstat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if stat.S_ISREG(info.st_mode) else None
        entries[str(path.relative_to(folder))] = (info.st_mode, info.st_size, info.st_mtime_ns, digest)
    return entries


def test_reading_never_touches_the_data_directory(corpus, tmp_path, bundle_jar):
    data_dir = tmp_path / "data"
    mains = {key: copy_sample(corpus, sample, data_dir) for key, sample in SAMPLES.items()}
    cache = tmp_path / "cache"
    before = _snapshot(data_dir)
    jobs = [
        {"name": f"{key}/{label}", "path": str(path), "group_files": EXPECTED[SAMPLES[key].main]["group_files"],
         "memoize": memoize}
        for key, path in mains.items()
        for label, memoize in (("memo-save", 0), ("memo-load", 0), ("no-memo", False))
    ]  # fmt: skip
    env = child_env(BFBRIDGE_JARS=str(bundle_jar), BFBRIDGE_CACHE_DIR=str(cache), BFBRIDGE_MAX_HEAP="1g")
    results = probe_in_children(jobs, env, timeout=120)
    for command in ("info", "ome"):
        subprocess.run([sys.executable, "-m", "bfbridge", command, str(mains["ome-tiff-companion"])], env=env,
                       check=True, capture_output=True, timeout=300)  # fmt: skip

    assert {name: outcome["status"] for name, outcome in results.items()} == {job["name"]: "ok" for job in jobs}
    assert _snapshot(data_dir) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "data"]
    memos = sorted(cache.rglob("*.bfmemo"))
    assert memos, "nothing was memoized, so the memo case proved nothing"
    assert all(str(data_dir) in str(memo) for memo in memos)  # memo paths mirror the data under the cache
    shutil.rmtree(cache)
