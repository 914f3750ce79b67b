"""Concurrency: many threads on one file, many processes on one jar cache and one memo cache.

Threads read random regions (random planes, offsets and steps) at the same moment and
must get exactly the serial read. Processes start together (a barrier), warm the same
cache and write the same memo file at once; nothing may be corrupted.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import random
import shutil
import threading
import traceback
from pathlib import Path

import jpype
import numpy as np
import pytest
import tifffile

import bfbridge
from conftest import EXPECTED

THREADS = 8
REGIONS_PER_THREAD = 24
PROCESSES = 4


def _random_key(generator: random.Random, shape: tuple[int, ...]) -> tuple:
    """A basic numpy index: an int or a slice (start, stop, step 1-3) per axis."""
    key = []
    for axis, size in enumerate(shape):
        if axis < 3 and generator.random() < 0.4:
            key.append(generator.randrange(size))
            continue
        start = generator.randrange(size)
        stop = generator.randrange(start + 1, size + 1)
        key.append(slice(start, stop, generator.choice((1, 1, 2, 3))))
    return tuple(key)


def _in_threads(work) -> list:
    """Run ``work(thread_number)`` on THREADS threads released together; their results, or the first error."""
    barrier = threading.Barrier(THREADS, timeout=60)
    results: list = [None] * THREADS
    errors: list[str] = []

    def run(number: int) -> None:
        try:
            barrier.wait()
            results[number] = work(number)
        except BaseException:
            errors.append(traceback.format_exc())

    threads = [threading.Thread(target=run, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert not any(thread.is_alive() for thread in threads), "a reading thread hung"
    assert errors == [], errors[0]
    return results


def _assert_random_regions_equal(path: Path, serial: np.ndarray, shared: bool) -> None:
    """THREADS threads read random regions, from one shared ImageFile or each from its own."""
    common = bfbridge.open(path, max_workers=3) if shared else None

    def work(number: int) -> list:
        generator = random.Random(number)
        image = common or bfbridge.open(path)
        try:
            series = image.series[0]
            return [
                (key, series[key]) for key in (_random_key(generator, serial.shape) for _ in range(REGIONS_PER_THREAD))
            ]
        finally:
            if common is None:
                image.close()

    try:
        for regions in _in_threads(work):
            for key, region in regions:
                expected = serial[key]
                assert region.dtype == expected.dtype and region.shape == expected.shape, key
                assert np.array_equal(region, expected), f"region {key} differs from the serial read"
    finally:
        if common is not None:
            assert common.readers_open <= 3
            common.close()


@pytest.fixture
def tiled_ome_tiff(tmp_path) -> tuple[Path, np.ndarray]:
    """A zlib-compressed, tiled OME-TIFF (T=3, C=2, Z=4, 300 x 500) of random uint16 values."""
    data = np.random.default_rng(8).integers(0, 65535, size=(3, 2, 4, 300, 500), dtype=np.uint16)
    path = tmp_path / "tiled.ome.tif"
    tifffile.imwrite(path, data, ome=True, tile=(64, 64), compression="zlib", metadata={"axes": "TCZYX"})
    return path, data


@pytest.mark.parametrize("shared", [True, False], ids=["one-shared-file", "one-file-per-thread"])
def test_threads_reading_random_regions_of_an_ome_tiff_equal_the_serial_read(tiled_ome_tiff, shared):
    path, data = tiled_ome_tiff
    with bfbridge.open(path) as image:
        serial = image.series[0].to_numpy(max_workers=1)
    np.testing.assert_array_equal(serial, data)
    _assert_random_regions_equal(path, serial, shared)


@pytest.mark.corpus
@pytest.mark.parametrize("shared", [True, False], ids=["one-shared-file", "one-file-per-thread"])
@pytest.mark.parametrize("relative", ["czi/CD_s_1_t_3_c_2_z_5.czi", "ome-tiff/4D-series.ome.tiff"])
def test_threads_reading_random_regions_of_a_sample_equal_the_serial_read(corpus, relative, shared):
    with bfbridge.open(corpus / relative) as image:
        serial = image.series[0].to_numpy(max_workers=1)
    assert hashlib.sha256(serial.tobytes()).hexdigest() == EXPECTED[relative]["series"][0]["sha256"]
    _assert_random_regions_equal(corpus / relative, serial, shared)


# ---------------------------------------------------------------------------- processes


def _open_twice_at_once(path: str, cache: str, barrier, results) -> None:
    """In a fresh process: start the JVM from ``cache`` and open ``path`` twice, in step with the others."""
    try:
        for name in [n for n in os.environ if n.startswith("BFBRIDGE_")]:
            del os.environ[name]
        os.environ["BFBRIDGE_CACHE_DIR"] = cache
        barrier.wait()
        report = {"jar_source": bfbridge.jvm_info()["jar_source"]}
        for round_ in ("first", "second"):
            barrier.wait()  # every process calls setId (and saves or loads the memo) at the same moment
            with bfbridge.open(path, memoize=0) as image:
                report[round_] = [hashlib.sha256(s.to_numpy().tobytes()).hexdigest() for s in image.series]
        results.put(report)
    except BaseException:
        results.put({"error": traceback.format_exc()})


def _run_processes(path: Path, cache: Path) -> list[dict]:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES, timeout=240)
    results = context.Queue()
    processes = [
        context.Process(target=_open_twice_at_once, args=(str(path), str(cache), barrier, results))
        for _ in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    reports = [results.get(timeout=600) for _ in processes]
    for process in processes:
        process.join(60)
        assert process.exitcode == 0
    return reports


def _memo_loads(path: Path, memo_file: Path) -> bool:
    """Whether a bare Bio-Formats Memoizer (in this process) accepts the memo file the processes left."""
    bfbridge.jvm_info()
    memo_root = memo_file.parent  # the Memoizer keeps a memo at <its folder>/<file's absolute folder>/.<name>.bfmemo
    for _ in path.parent.parts[1:]:
        memo_root = memo_root.parent
    memoizer = jpype.JClass("loci.formats.Memoizer")(
        jpype.JClass("loci.formats.ImageReader")(), 0, jpype.JClass("java.io.File")(str(memo_root))
    )
    memoizer.setFlattenedResolutions(False)  # as bfbridge configures its readers: the memo records it
    try:
        memoizer.setId(str(path))
        return bool(memoizer.isLoadedFromMemo())
    finally:
        memoizer.close()


@pytest.mark.corpus
def test_processes_opening_one_file_at_once_corrupt_neither_jar_nor_memo_cache(corpus, tmp_path, seeded_cache):
    relative = "lif/testdata_2channel_xz.lif"
    path = tmp_path / "data" / "shared.lif"
    path.parent.mkdir()
    shutil.copyfile(corpus / relative, path)
    jars_before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in seeded_cache.rglob("*.jar")}

    reports = _run_processes(path, seeded_cache)

    errors = [report["error"] for report in reports if "error" in report]
    assert errors == [], errors[0]
    expected = [series["sha256"] for series in EXPECTED[relative]["series"]]
    for report in reports:
        assert report["jar_source"] == "cache"
        assert report["first"] == expected and report["second"] == expected
    jars_after = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in seeded_cache.rglob("*.jar")}
    assert jars_after == jars_before
    assert [p.name for p in (seeded_cache / "jars").rglob("*") if p.name.startswith(".tmp")] == []
    memo_dir = seeded_cache / "memo"
    memos = sorted(p for p in memo_dir.rglob("*") if p.is_file())
    assert [p.name for p in memos] == [".shared.lif.bfmemo"], memos  # one memo, no temporary leftovers
    assert _memo_loads(path, memos[0])
    assert sorted(p.name for p in path.parent.iterdir()) == ["shared.lif"]


def test_damaged_planes_raise_without_reopening_the_file(tmp_path, monkeypatch):
    """A plane Bio-Formats rejects (a FormatException or IOException) leaves its reader sound: a
    pipeline that skips bad planes must not pay a full setId for each of them."""
    from bfbridge.reader import opening

    planes = np.random.default_rng(0).integers(0, 255, (12, 64, 64), dtype=np.uint8)
    path = tmp_path / "partly-damaged.tif"
    tifffile.imwrite(path, planes, compression="zlib", metadata=None)
    data = bytearray(path.read_bytes())
    with tifffile.TiffFile(path) as tiff:
        for page in tiff.pages[4:]:
            for offset, count in zip(page.dataoffsets, page.databytecounts, strict=True):
                data[offset : offset + count] = b"\xff" * count
    path.write_bytes(bytes(data))
    opens = []
    real_open = opening.open_reader
    monkeypatch.setattr(opening, "open_reader", lambda spec, *a: opens.append(spec.path) or real_open(spec, *a))
    with bfbridge.open(path, max_workers=1) as image:
        series = image.series[0]
        outcomes = []
        for t in range(series.shape[0]):
            try:
                outcomes.append(bool((series[t, 0, 0] == planes[t]).all()))
            except bfbridge.FormatError as error:
                assert not error.internal, error
                outcomes.append(None)
        assert outcomes == [True] * 4 + [None] * 8
        assert opens.count(str(path)) == 1 and image.readers_open == 1  # the first open only
