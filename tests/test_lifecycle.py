"""Opening and closing releases every file handle; dropped objects release their readers."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import psutil
import pytest

import bfbridge


def _open_files() -> set[str]:
    gc.collect()  # objects other tests dropped release their handles when collected, not before
    return {f.path for f in psutil.Process().open_files()}


@pytest.fixture
def ome_tiff(tmp_path):
    tifffile = pytest.importorskip("tifffile")
    path = tmp_path / "cycle.ome.tif"
    tifffile.imwrite(
        path, np.arange(3 * 64 * 64, dtype=np.uint16).reshape(3, 64, 64), ome=True, metadata={"axes": "ZYX"}
    )
    return path


def test_hundreds_of_open_close_cycles_leak_no_handles(ome_tiff):
    bfbridge.imread(ome_tiff)  # warm up the JVM and class loading
    before = _open_files()
    for _ in range(200):
        with bfbridge.open(ome_tiff, max_workers=2) as image:
            image.series[0].to_numpy()
            assert str(ome_tiff) in _open_files()
    assert _open_files() == before
    assert str(ome_tiff) not in _open_files()


def test_garbage_collected_files_release_their_readers(ome_tiff):
    image = bfbridge.open(ome_tiff)
    image.series[0].to_numpy()
    assert str(ome_tiff) in _open_files()
    reference = weakref.ref(image)
    del image
    gc.collect()
    assert reference() is None
    assert str(ome_tiff) not in _open_files()


def test_failed_open_leaves_no_handle(tmp_path):
    path = tmp_path / "broken.tif"
    path.write_bytes(b"II*\x00" + b"\xff" * 64)
    for _ in range(20):
        with pytest.raises(bfbridge.FormatError):
            bfbridge.open(path)
    assert str(path) not in _open_files()


def test_planes_are_released_as_soon_as_python_drops_them():
    """No Java object may keep a numpy destination alive until Java's GC runs (it rarely does)."""
    import tracemalloc

    path = "big&sizeX=1024&sizeY=1024&sizeZ=40&pixelType=uint16.fake"  # 40 planes of 2 MiB
    with bfbridge.open(path, max_workers=1) as image:
        series = image.series[0]
        series[0, 0, 0]
        tracemalloc.start()
        try:
            for z in range(40):
                assert series[0, 0, z].shape == (1024, 1024)
            current, _ = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert current < 3 * 2**21, f"{current / 2**20:.0f} MiB of planes still alive after reading them"


@pytest.mark.parametrize("strategy", ["_foreign_memory_copy", "_unsafe_copy", "_ScratchCopy"])
def test_every_copy_strategy_copies_exactly(strategy):
    import jpype

    from bfbridge import jvm, pixels

    jvm.ensure_started()
    try:
        copy = getattr(pixels, strategy)()
    except Exception as error:  # e.g. no foreign-memory API before Java 22
        pytest.skip(f"{strategy} is unavailable on this JVM: {error}")
    rng = np.random.default_rng(7)
    for size in (1, 7, 4096, 3 * 2**20 + 5):
        data = rng.integers(-128, 128, size, dtype=np.int8)
        java_bytes = jpype.JArray(jpype.JByte)(data.tolist() if size < 5000 else data)
        out = np.zeros(size + 16, np.uint8)
        copy(java_bytes, size, out[8 : 8 + size])
        assert out[8 : 8 + size].tobytes() == data.tobytes()
        assert not out[:8].any() and not out[8 + size :].any()  # nothing written outside the target


def test_python_exits_when_the_jvm_was_started_by_a_thread_that_ended(python):
    """The first read on a pool thread starts the JVM; Python must still exit (no wait for that thread)."""
    result = python(
        """
        import threading, bfbridge
        worker = threading.Thread(target=lambda: print(bfbridge.imread("t&sizeX=8&sizeY=4.fake").shape))
        worker.start()
        worker.join()
        """,
        timeout=120,
    )
    assert result.stdout.strip() == "(1, 1, 1, 4, 8)"


def test_sigterm_ends_a_reading_process_without_a_jvm_crash(python, tmp_path):
    """Signals stay Python's (-Xrs): SIGTERM terminates, where Java's own handler crashed the interpreter."""
    crashes = tmp_path / "cache" / "crashes"
    result = python(
        """
        import os, signal, time, bfbridge
        print(bfbridge.imread("t&sizeX=8&sizeY=4.fake").shape, flush=True)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(30)
        print("survived SIGTERM")
        """,
        env={"BFBRIDGE_CACHE_DIR": str(tmp_path / "cache")},
        timeout=120,
        check=False,
    )
    assert result.returncode == -15, (result.returncode, result.stderr[-2000:])
    assert result.stdout.strip() == "(1, 1, 1, 4, 8)"
    assert not list(crashes.glob("hs_err_pid*.log"))
