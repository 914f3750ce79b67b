"""Every series of every file in the shared corpus: shape, dims, dtype, sha256, metadata."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

import bfbridge
from conftest import EXPECTED

CASES = [(path, index) for path, entry in EXPECTED.items() for index in range(entry["series_count"])]
pytestmark = pytest.mark.corpus


@pytest.fixture(scope="module")
def opened(corpus):
    """Each corpus file opened once for the module (raw values: palettes not applied)."""
    files = {}
    yield lambda path: files.setdefault(
        path, bfbridge.open(corpus / path, group_files=EXPECTED[path]["group_files"], apply_lut=False)
    )
    for image in files.values():
        image.close()


@pytest.mark.skipif(not CASES, reason="sample corpus not found")
@pytest.mark.parametrize(("path", "index"), CASES, ids=[f"{p}#{i}" for p, i in CASES])
def test_series_matches_expected(opened, path, index):
    entry = EXPECTED[path]
    expected = entry["series"][index]
    image = opened(path)
    assert image.reader == entry["reader"]
    assert image.format == entry["format"]
    assert len(image.series) == entry["series_count"]
    series = image.series[index]
    data = series.to_numpy()
    assert list(data.shape) == expected["shape"] and series.dims == expected["dims"]
    assert data.dtype.name == expected["dtype"] and data.dtype.isnative and data.flags.c_contiguous
    assert hashlib.sha256(data.tobytes()).hexdigest() == expected["sha256"]
    assert [list(level.shape[3:5]) for level in series.levels] == expected["resolution_levels_yx"]
    assert series.name == expected["name"]
    assert list(series.channel_names) == expected["channel_names"]
    assert series.dimension_order == expected["dimension_order"]
    assert (series.indexed, series.false_color, series.little_endian) == (
        expected["indexed"],
        expected["false_color"],
        expected["little_endian"],
    )
    for axis in "xyz":
        quantity = series.physical_size.get(axis.upper())
        reference = expected[f"physical_size_{axis}"]
        assert (quantity is None) == (reference is None)
        if reference:
            assert quantity.value == pytest.approx(reference[0]) and quantity.unit == reference[1]
    if data.size:
        assert float(data.min()) == expected["min"] and float(data.max()) == expected["max"]


@pytest.mark.skipif(not CASES, reason="sample corpus not found")
@pytest.mark.parametrize("path", sorted(EXPECTED), ids=sorted(EXPECTED))
def test_dask_equals_numpy_and_ome_parses(opened, path):
    image = opened(path)
    series = image.series[-1]
    np.testing.assert_array_equal(series.to_dask().compute(scheduler="threads"), series.to_numpy())
    assert len(image.ome.images) >= 1


def test_gif_palette_gives_rgb_by_default(corpus):
    with bfbridge.open(corpus / "gif/newtonscradle.gif") as image:
        series = image.series[0]
        assert series.dims == "TCZYXS" and series.shape == (36, 1, 1, 150, 200, 3)
        colours = series[5]
    with bfbridge.open(corpus / "gif/newtonscradle.gif", apply_lut=False) as image:
        indices = image.series[0][5]
    assert colours.shape == (1, 1, 150, 200, 3) and indices.shape == (1, 1, 150, 200)
    # every pixel with the same palette index has the same colour
    flat_i, flat_c = indices.reshape(-1), colours.reshape(-1, 3)
    for value in np.unique(flat_i)[:20]:
        assert len(np.unique(flat_c[flat_i == value], axis=0)) == 1


def test_false_colour_luts_stay_metadata(corpus):
    with bfbridge.open(corpus / "czi/CD_s_1_t_3_c_2_z_5.czi") as image:
        series = image.series[0]
        assert series.indexed and series.false_color and series.dims == "TCZYX"
        expected = EXPECTED["czi/CD_s_1_t_3_c_2_z_5.czi"]["series"][0]["sha256"]
        assert hashlib.sha256(series.to_numpy().tobytes()).hexdigest() == expected
