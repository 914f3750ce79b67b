"""Progress of full reads: ``to_numpy``, ``imread`` and ``to_xarray(lazy=False)`` count bytes."""

from __future__ import annotations

import numpy as np
import pytest

import bfbridge
from tests.reference import read_reference

FAKE = "progress&sizeX=300&sizeY=200&sizeZ=3&sizeC=2&sizeT=2&pixelType=uint16.fake"
PLANE = 300 * 200 * 2


class Calls:
    """A progress callback that records its calls (made from the read threads, one at a time)."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def __call__(self, done: int, total: int) -> None:
        self.calls.append((done, total))


def test_to_numpy_reports_every_plane_in_bytes():
    calls = Calls()
    with bfbridge.open(FAKE) as image:
        data = image.series[0].to_numpy(progress=calls)
    np.testing.assert_array_equal(data, read_reference(FAKE))
    assert calls.calls == [(PLANE * n, PLANE * 12) for n in range(1, 13)]  # one call per plane, in order of completion


def test_reads_in_strips_count_each_strip(monkeypatch):
    from bfbridge import pixels

    monkeypatch.setattr(pixels, "MIN_TILE_BUDGET", 300 * 2 * 50)  # 50 rows per strip
    monkeypatch.setattr(pixels, "tile_budget", lambda workers: 300 * 2 * 50)
    calls = Calls()
    with bfbridge.open("strips&sizeX=300&sizeY=200&pixelType=uint16.fake") as image:
        image.series[0].to_numpy(max_workers=1, progress=calls)
    assert calls.calls == [(PLANE // 4 * n, PLANE) for n in range(1, 5)]


def test_folded_rgb_counts_each_sample_view():
    calls = Calls()
    fake = "rgb&sizeX=40&sizeY=30&sizeC=3&rgb=3&sizeT=2.fake"
    with bfbridge.open(fake, fold_rgb=True) as image:
        data = image.series[0].to_numpy(progress=calls)
    assert data.shape == (2, 3, 1, 30, 40)
    assert calls.calls[-1] == (data.nbytes, data.nbytes) and len(calls.calls) == 2  # one job per physical plane


def test_imread_and_to_xarray_take_progress():
    calls = Calls()
    data = bfbridge.imread(FAKE, progress=calls)
    assert data.shape == (2, 2, 3, 200, 300) and calls.calls[-1] == (data.nbytes, data.nbytes)
    calls = Calls()
    with bfbridge.open(FAKE) as image:
        array = image.series[0].to_xarray(lazy=False, progress=calls)
        assert isinstance(array.data, np.ndarray) and calls.calls[-1] == (data.nbytes, data.nbytes)
        np.testing.assert_array_equal(array.data, data)
        with pytest.raises(ValueError, match=r"progress applies to to_xarray\(lazy=False\)"):
            image.series[0].to_xarray(progress=True)


def test_progress_true_shows_a_text_bar_on_stderr_outside_jupyter(capfd):
    with bfbridge.open(FAKE) as image:
        image.series[0].to_numpy(progress=True)
    err = capfd.readouterr().err
    assert "progress.fake [0]: 100%" in err and "1.37M/1.37M" in err  # 1,440,000 bytes in MiB


def test_a_bad_progress_value_is_refused_before_reading():
    with bfbridge.open(FAKE) as image, pytest.raises(TypeError, match="progress must be True, False or a callback"):
        image.series[0].to_numpy(progress="yes")


def test_a_failing_callback_stops_the_read():
    def fail(done: int, total: int) -> None:
        raise RuntimeError("stop here")

    with bfbridge.open(FAKE) as image, pytest.raises(RuntimeError, match="stop here"):
        image.series[0].to_numpy(progress=fail)
