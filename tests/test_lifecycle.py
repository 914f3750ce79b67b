"""Opening and closing releases every file handle; dropped objects release their readers."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import psutil
import pytest

import bfbridge


def _open_files() -> set[str]:
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
