"""bfbridge.convert on the shared corpus: the seven files of issue 5 to NGFF 0.5, NGFF 0.4 and OME-TIFF.

Each output is validated by an independent tool (yaozarrs, ome-zarr-models, tifffile,
Bio-Formats itself) and read back: level 0 of every series must equal the canonical
array from the naive reference reader (RGB samples folded into C for Zarr), and the
pyramid levels must be exactly what the downsampling rule says.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import signal
import subprocess
import sys
import time
import warnings

import numpy as np
import ome_types
import pytest
import tifffile
import zarr

import bfbridge
from conftest import EXPECTED
from tests.reference import read_reference

SAMPLES = (
    "czi/CD_s_1_t_3_c_2_z_5.czi",
    "lif/testdata_2channel_xz.lif",
    "svs/CMU-1-Small-Region.svs",
    "ome-tiff/largeimg.ome.tiff",
    "ome-tiff/4D-series.ome.tiff",
    "mrc/EMD-3001.map",
    "tiff/multipage_rgb.tif",
)
OUTPUTS = {"ngff05": ".ome.zarr", "ngff04": ".ome.zarr", "ometiff": ".ome.tiff"}


@pytest.fixture(scope="module")
def converted(corpus, tmp_path_factory):
    """``converted(sample, kind)``: the sample converted once per module with default options."""
    folder = tmp_path_factory.mktemp("converted")
    done = {}

    def get(sample: str, kind: str):
        if (sample, kind) not in done:
            target = folder / f"{sample.replace('/', '_')}-{kind}{OUTPUTS[kind]}"
            result = bfbridge.convert(corpus / sample, target, ngff_version="0.4" if kind == "ngff04" else "0.5")
            assert result == target
            done[sample, kind] = target
        return done[sample, kind]

    return get


@pytest.fixture(scope="module")
def canonical(corpus):
    """``canonical(sample, series)``: the naive reference reader's array, checked against expected.json."""
    arrays = {}

    def get(sample: str, index: int) -> np.ndarray:
        if (sample, index) not in arrays:
            data = read_reference(str(corpus / sample), index)
            assert hashlib.sha256(data.tobytes()).hexdigest() == EXPECTED[sample]["series"][index]["sha256"]
            arrays[sample, index] = data
        return arrays[sample, index]

    return get


def folded(data: np.ndarray) -> np.ndarray:
    """TCZYXS -> TCZYX with channel c * S + s (what NGFF stores for RGB)."""
    if data.ndim == 5:
        return data
    t, c, z, y, x, s = data.shape
    return np.moveaxis(data, 5, 2).reshape(t, c * s, z, y, x)


def expected_levels(sample: str, index: int) -> list[tuple[int, int]]:
    """The source's pyramid, or halving (rounding up) until a level fits a 1024 x 1024 tile."""
    levels = [tuple(level) for level in EXPECTED[sample]["series"][index]["resolution_levels_yx"]]
    if len(levels) > 1:
        return levels
    while levels[-1][0] > 1024 or levels[-1][1] > 1024:
        levels.append((math.ceil(levels[-1][0] / 2), math.ceil(levels[-1][1] / 2)))
    return levels


def halved(data: np.ndarray, method: str = "mean") -> np.ndarray:
    """Each 2 x 2 window over Y and X reduced by ``method``; windows at an odd edge hold fewer pixels."""
    if method == "nearest":
        return data[:, :, :, ::2, ::2]
    height, width = data.shape[3:5]
    padded = np.pad(
        data.astype(np.float64),
        [(0, 0)] * 3 + [(0, height % 2), (0, width % 2)] + [(0, 0)] * (data.ndim - 5),
        constant_values=np.nan,
    )
    windows = padded.reshape(*data.shape[:3], (height + 1) // 2, 2, (width + 1) // 2, 2, *data.shape[5:])
    reduced = {"mean": np.nanmean, "max": np.nanmax, "min": np.nanmin}[method](windows, axis=(4, 6))
    return (np.rint(reduced) if np.issubdtype(data.dtype, np.integer) else reduced).astype(data.dtype)


def ome_attributes(group: zarr.Group, kind: str) -> dict:
    attributes = dict(group.attrs)
    if kind == "ngff05":
        assert attributes["ome"]["version"] == "0.5"
        return attributes["ome"]
    assert "ome" not in attributes
    return attributes


# ---------------------------------------------------------------------------- validity and pixels


@pytest.mark.corpus
@pytest.mark.parametrize("sample", SAMPLES)
def test_ngff05_is_valid_and_pixel_identical(sample, converted, canonical):
    import yaozarrs

    target = converted(sample, "ngff05")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yaozarrs.validate_zarr_store(str(target))
    assert [str(w.message) for w in caught if w.category.__module__.startswith("yaozarrs")] == []  # no SHOULD broken
    root = zarr.open_group(target, mode="r")
    assert root.metadata.zarr_format == 3
    _check_series(root, sample, "ngff05", canonical)


@pytest.mark.corpus
@pytest.mark.parametrize("sample", SAMPLES)
def test_ngff04_is_valid_and_pixel_identical(sample, converted, canonical):
    from ome_zarr_models import open_ome_zarr
    from ome_zarr_models.v04.bioformats2raw import BioFormats2Raw
    from ome_zarr_models.v04.image import Image

    target = converted(sample, "ngff04")
    assert isinstance(open_ome_zarr(target, version="0.4"), BioFormats2Raw)
    for index in range(EXPECTED[sample]["series_count"]):
        assert isinstance(open_ome_zarr(target / str(index), version="0.4"), Image)
    root = zarr.open_group(target, mode="r")
    assert root.metadata.zarr_format == 2
    _check_series(root, sample, "ngff04", canonical)


def _check_series(root: zarr.Group, sample: str, kind: str, canonical) -> None:
    count = EXPECTED[sample]["series_count"]
    assert ome_attributes(root, kind)["bioformats2raw.layout"] == 3
    assert ome_attributes(root["OME"], kind)["series"] == [str(i) for i in range(count)]
    for index in range(count):
        group = root[str(index)]
        datasets = ome_attributes(group, kind)["multiscales"][0]["datasets"]
        assert [d["path"] for d in datasets] == [str(n) for n in range(len(datasets))]
        levels = [group[d["path"]] for d in datasets]
        assert [a.shape[3:] for a in levels] == expected_levels(sample, index)
        reference = folded(canonical(sample, index))
        full = levels[0][...]
        assert full.dtype == reference.dtype and full.shape == reference.shape
        np.testing.assert_array_equal(full, reference)


@pytest.mark.corpus
@pytest.mark.parametrize("sample", SAMPLES)
def test_ometiff_opens_in_tifffile_and_bfbridge_with_canonical_arrays(sample, converted):
    target = converted(sample, "ometiff")
    entry = EXPECTED[sample]
    with tifffile.TiffFile(target) as tiff:
        assert tiff.is_ome and len(tiff.series) == entry["series_count"]
        for index, series in enumerate(tiff.series):
            assert [level.pages[0].shape[:2] for level in series.levels] == expected_levels(sample, index)
            page = series.pages[0]
            assert page.is_tiled and page.compression == tifffile.COMPRESSION.ADOBE_DEFLATE
    with bfbridge.open(target) as image:
        assert image.reader == "OMETiffReader" and len(image.series) == entry["series_count"]
        for index, series in enumerate(image.series):
            expected = entry["series"][index]
            data = series.to_numpy()
            assert list(data.shape) == expected["shape"] and data.dtype.name == expected["dtype"]
            assert hashlib.sha256(data.tobytes()).hexdigest() == expected["sha256"]
            assert [lvl.shape[3:5] for lvl in series.levels] == expected_levels(sample, index)
            assert list(series.channel_names) == expected["channel_names"]
            for axis in "xyz":
                quantity, reference = series.physical_size.get(axis.upper()), expected[f"physical_size_{axis}"]
                assert (quantity is None) == (reference is None)
                if reference:
                    assert (quantity.value, quantity.unit) == (pytest.approx(reference[0]), reference[1])


# ---------------------------------------------------------------------------- pyramids


@pytest.mark.corpus
def test_generated_levels_are_exact_2x2_means(converted, canonical):
    """SVS series 0 (2967 x 2220 RGB, no source pyramid): each level is the mean of the one before."""
    sample = "svs/CMU-1-Small-Region.svs"
    expected = folded(canonical(sample, 0))
    group = zarr.open_group(converted(sample, "ngff05"), mode="r")["0"]
    with tifffile.TiffFile(converted(sample, "ometiff")) as tiff:
        tiff_levels = [level.asarray() for level in tiff.series[0].levels]
    assert ome_attributes(group, "ngff05")["multiscales"][0]["type"] == "mean"
    for number in (1, 2):
        expected = halved(expected)
        np.testing.assert_array_equal(group[str(number)][...], expected)
        # OME-TIFF keeps RGB samples last: the same values, C and S unfolded
        np.testing.assert_array_equal(tiff_levels[number], np.moveaxis(expected[0, :, 0], 0, -1))


@pytest.mark.corpus
def test_source_pyramid_is_copied(converted, corpus):
    """largeimg.ome.tiff has its own 256 x 256 level: it is copied, not recomputed."""
    sample = "ome-tiff/largeimg.ome.tiff"
    with bfbridge.open(corpus / sample) as image:
        source = image.series[0].level(1).to_numpy()
    group = zarr.open_group(converted(sample, "ngff05"), mode="r")["0"]
    np.testing.assert_array_equal(group["1"][...], source)
    assert "type" not in ome_attributes(group, "ngff05")["multiscales"][0]
    with bfbridge.open(converted(sample, "ometiff")) as image:
        np.testing.assert_array_equal(image.series[0].level(1).to_numpy(), source)


# ---------------------------------------------------------------------------- NGFF metadata


@pytest.mark.corpus
@pytest.mark.parametrize("kind", ["ngff05", "ngff04"])
def test_axes_units_scales_and_omero(kind, converted, canonical):
    sample = "czi/CD_s_1_t_3_c_2_z_5.czi"
    group = zarr.open_group(converted(sample, kind), mode="r")["0"]
    attributes = ome_attributes(group, kind)
    multiscale = attributes["multiscales"][0]
    if kind == "ngff04":
        assert multiscale["version"] == "0.4"
    assert multiscale["axes"] == [
        {"name": "t", "type": "time", "unit": "second"},  # from the planes' DeltaT (no TimeIncrement)
        {"name": "c", "type": "channel"},
        {"name": "z", "type": "space", "unit": "micrometer"},
        {"name": "y", "type": "space", "unit": "micrometer"},
        {"name": "x", "type": "space", "unit": "micrometer"},
    ]
    pixel = EXPECTED[sample]["series"][0]["physical_size_x"][0]
    [dataset] = multiscale["datasets"]
    step = 60.04549992084503  # the mean DeltaT step (see test_convert_time_axis.py)
    assert dataset["coordinateTransformations"] == [{"type": "scale", "scale": [step, 1.0, 0.32, pixel, pixel]}]
    data = canonical(sample, 0)
    channels = attributes["omero"]["channels"]
    assert [c["label"] for c in channels] == ["LED555", "LED470"]
    assert [c["color"] for c in channels] == ["FF7E00", "00FF33"]  # the CZI's channel colours
    for index, channel in enumerate(channels):
        values = data[:, index]
        assert channel["window"] == {"start": values.min(), "end": values.max(), "min": 0.0, "max": 65535.0}
    assert attributes["omero"]["rdefs"] == {"model": "color", "defaultT": 0, "defaultZ": 2}


@pytest.mark.corpus
def test_scale_is_physical_size_times_downsampling(converted):
    svs = ome_attributes(zarr.open_group(converted("svs/CMU-1-Small-Region.svs", "ngff05"), mode="r")["0"], "ngff05")
    scales = [d["coordinateTransformations"][0]["scale"] for d in svs["multiscales"][0]["datasets"]]
    assert scales == [[1.0, 1.0, 1.0, 0.499 * f, 0.499 * f] for f in (1, 2, 4)]
    assert [c["label"] for c in svs["omero"]["channels"]] == ["C0:R", "C0:G", "C0:B"]
    assert [c["color"] for c in svs["omero"]["channels"]] == ["FF0000", "00FF00", "0000FF"]
    large = ome_attributes(zarr.open_group(converted("ome-tiff/largeimg.ome.tiff", "ngff04"), mode="r")["0"], "ngff04")
    scales = [d["coordinateTransformations"][0]["scale"] for d in large["multiscales"][0]["datasets"]]
    assert scales == [[1.0, 1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 2.0, 2.0]]  # no physical size: pixels
    assert [axis.get("unit") for axis in large["multiscales"][0]["axes"]] == [None] * 5
    mrc = ome_attributes(zarr.open_group(converted("mrc/EMD-3001.map", "ngff05"), mode="r")["0"], "ngff05")
    assert [axis.get("unit") for axis in mrc["multiscales"][0]["axes"]] == [None, None] + ["angstrom"] * 3


@pytest.mark.corpus
def test_ngff04_arrays_are_zarr_v2_with_slash_separator(converted):
    target = converted("lif/testdata_2channel_xz.lif", "ngff04")
    array = json.loads((target / "1" / "0" / ".zarray").read_text())
    assert array["zarr_format"] == 2 and array["dimension_separator"] == "/"
    assert array["compressor"] == {"id": "blosc", "cname": "zstd", "clevel": 1, "shuffle": 2, "blocksize": 0}
    assert array["chunks"] == [1, 1, 1, 128, 128] and array["dtype"] == "|u1"


@pytest.mark.corpus
def test_ngff05_arrays_name_dimensions_and_use_blosc_zstd(converted):
    """Default compression: zstd through blosc at level 1 behind a bit shuffle, whatever the pixel size."""
    target = converted("lif/testdata_2channel_xz.lif", "ngff05")
    array = json.loads((target / "2" / "0" / "zarr.json").read_text())
    assert array["dimension_names"] == ["t", "c", "z", "y", "x"]
    assert array["chunk_grid"]["configuration"]["chunk_shape"] == [1, 1, 1, 512, 512]
    blosc = [codec for codec in array["codecs"] if codec["name"] == "blosc"]
    assert [b["configuration"] for b in blosc] == [
        {"typesize": 1, "cname": "zstd", "clevel": 1, "shuffle": "bitshuffle", "blocksize": 0}
    ]
    sixteen_bit = json.loads((converted("czi/CD_s_1_t_3_c_2_z_5.czi", "ngff05") / "0" / "0" / "zarr.json").read_text())
    blosc = [codec for codec in sixteen_bit["codecs"] if codec["name"] == "blosc"]
    assert [b["configuration"] for b in blosc] == [
        {"typesize": 2, "cname": "zstd", "clevel": 1, "shuffle": "bitshuffle", "blocksize": 0}
    ]


@pytest.mark.corpus
@pytest.mark.parametrize("kind", ["ngff05", "ngff04"])
def test_metadata_ome_xml_describes_the_zarr(kind, converted):
    lif = ome_types.from_xml((converted("lif/testdata_2channel_xz.lif", kind) / "OME" / "METADATA.ome.xml").read_text())
    assert [image.name for image in lif.images] == [
        s["name"] for s in EXPECTED["lif/testdata_2channel_xz.lif"]["series"]
    ]
    for image in lif.images:
        assert image.pixels.metadata_only is not None and image.pixels.tiff_data_blocks == []
        assert [c.name for c in image.pixels.channels] == ["Leica/FITC", "Leica/TRITC"]
    svs = ome_types.from_xml((converted("svs/CMU-1-Small-Region.svs", kind) / "OME" / "METADATA.ome.xml").read_text())
    pixels = svs.images[0].pixels
    assert pixels.size_c == 3 and [c.samples_per_pixel for c in pixels.channels] == [1, 1, 1]
    root = zarr.open_group(converted("svs/CMU-1-Small-Region.svs", kind), mode="r")
    names = [ome_attributes(root[str(i)], kind)["multiscales"][0]["name"] for i in range(3)]
    assert names == ["series 0", "label image", "macro image"]  # the image name, or its position when unnamed


# ---------------------------------------------------------------------------- OME-TIFF metadata


@pytest.mark.corpus
def test_ometiff_xml_points_at_each_series_planes(converted):
    target = converted("lif/testdata_2channel_xz.lif", "ometiff")
    with tifffile.TiffFile(target) as tiff:
        ome = ome_types.from_xml(tiff.ome_metadata)
        assert not tiff.is_bigtiff and len(tiff.pages) == 40 + 46 + 2
    assert [image.pixels.tiff_data_blocks[0].ifd for image in ome.images] == [0, 40, 86]
    assert [image.pixels.tiff_data_blocks[0].plane_count for image in ome.images] == [40, 46, 2]
    assert {image.pixels.dimension_order.value for image in ome.images} == {"XYZCT"}
    assert ome.creator.startswith("bfbridge ")
    assert ome.instruments  # the source's instrument metadata is kept


@pytest.mark.corpus
def test_ometiff_rgb_pages_and_subifd_pyramid(converted):
    with tifffile.TiffFile(converted("svs/CMU-1-Small-Region.svs", "ometiff")) as tiff:
        page = tiff.series[0].pages[0]
        assert page.photometric == tifffile.PHOTOMETRIC.RGB and page.shape == (2967, 2220, 3)
        assert len(page.subifds) == 2
        assert [level.pages[0].subfiletype for level in tiff.series[0].levels] == [0, 1, 1]
        ome = ome_types.from_xml(tiff.ome_metadata)
    channel = ome.images[0].pixels.channels[0]
    assert ome.images[0].pixels.size_c == 3 and channel.samples_per_pixel == 3


# ---------------------------------------------------------------------------- options


@pytest.fixture(scope="module")
def stack_tiff(tmp_path_factory):
    """A 2 Z x 300 x 501 uint16 OME-TIFF of random values (odd width: edge windows are partial)."""
    path = tmp_path_factory.mktemp("source") / "stack.ome.tif"
    data = np.random.default_rng(5).integers(0, 65535, size=(2, 300, 501), dtype=np.uint16)
    tifffile.imwrite(path, data, ome=True, metadata={"axes": "ZYX"})
    return path, data.reshape(1, 1, 2, 300, 501)


@pytest.mark.parametrize("method", ["mean", "nearest", "max", "min"])
def test_levels_and_downsample_methods_are_exact(method, stack_tiff, tmp_path):
    source, data = stack_tiff
    target = bfbridge.convert(source, tmp_path / "out.ome.zarr", levels=3, downsample_method=method, chunks=(128, 128))
    group = zarr.open_group(target, mode="r")["0"]
    multiscale = ome_attributes(group, "ngff05")["multiscales"][0]
    assert multiscale["type"] == method and len(multiscale["datasets"]) == 3
    expected = data
    for number in range(3):
        level = group[str(number)]
        assert level.chunks == (1, 1, 1, min(128, expected.shape[3]), min(128, expected.shape[4]))
        np.testing.assert_array_equal(level[...], expected)
        expected = halved(expected, method)
    assert [group[str(n)].shape[3:] for n in range(3)] == [(300, 501), (150, 251), (75, 126)]


def test_levels_one_writes_full_resolution_only(stack_tiff, tmp_path):
    target = bfbridge.convert(stack_tiff[0], tmp_path / "out.ome.tif", levels=1, chunks=(64, 64))
    with tifffile.TiffFile(target) as tiff:
        page = tiff.series[0].pages[0]
        assert len(tiff.series[0].levels) == 1 and (page.tilelength, page.tilewidth) == (64, 64)
        np.testing.assert_array_equal(tiff.series[0].asarray(), stack_tiff[1][0, 0])


@pytest.mark.parametrize(
    ("version", "compression", "codec"),
    [
        ("0.5", "blosc-lz4", {"name": "blosc", "cname": "lz4"}),
        ("0.5", "zstd", {"name": "zstd"}),
        ("0.5", "gzip", {"name": "gzip"}),
        ("0.5", "none", None),
        ("0.4", "blosc-lz4", {"id": "blosc", "cname": "lz4"}),
        ("0.4", "zstd", {"id": "zstd"}),
        ("0.4", "gzip", {"id": "gzip"}),
        ("0.4", "none", None),
    ],
)
def test_zarr_compression_options(version, compression, codec, stack_tiff, tmp_path):
    target = bfbridge.convert(stack_tiff[0], tmp_path / "out.ome.zarr", ngff_version=version, compression=compression)
    if version == "0.5":
        metadata = json.loads((target / "0" / "0" / "zarr.json").read_text())
        found = [{"name": c["name"], **c.get("configuration", {})} for c in metadata["codecs"] if c["name"] != "bytes"]
    else:
        compressor = json.loads((target / "0" / "0" / ".zarray").read_text())["compressor"]
        found = [compressor] if compressor else []
    if codec is None:
        assert found == []
    else:
        assert len(found) == 1 and codec.items() <= found[0].items()
    np.testing.assert_array_equal(zarr.open_group(target, mode="r")["0/0"][...], stack_tiff[1])


def test_compression_level_reaches_the_codec(stack_tiff, tmp_path):
    target = bfbridge.convert(stack_tiff[0], tmp_path / "out.ome.zarr", compression_level=9)
    blosc = json.loads((target / "0" / "0" / "zarr.json").read_text())["codecs"][1]
    assert blosc["name"] == "blosc" and blosc["configuration"]["clevel"] == 9


@pytest.mark.parametrize(
    ("compression", "tag"),
    [
        ("zstd", tifffile.COMPRESSION.ZSTD),
        ("lzw", tifffile.COMPRESSION.LZW),
        ("none", tifffile.COMPRESSION.NONE),
    ],
)
def test_tiff_compression_options_read_back_in_bioformats(compression, tag, stack_tiff, tmp_path):
    target = bfbridge.convert(stack_tiff[0], tmp_path / "out.ome.tiff", compression=compression)
    with tifffile.TiffFile(target) as tiff:
        assert tiff.series[0].pages[0].compression == tag
    with bfbridge.open(target) as image:
        np.testing.assert_array_equal(image.series[0].to_numpy(), stack_tiff[1])


@pytest.mark.parametrize("pixel_type", ["int16", "int32", "uint32", "double"])
def test_pixel_types_round_trip(pixel_type, tmp_path):
    fake = f"types&sizeX=70&sizeY=50&sizeC=2&sizeT=2&pixelType={pixel_type}.fake"
    expected = bfbridge.imread(fake)
    zarr_target = bfbridge.convert(fake, tmp_path / "out.ome.zarr")
    np.testing.assert_array_equal(zarr.open_group(zarr_target, mode="r")["0/0"][...], expected)
    with bfbridge.open(bfbridge.convert(fake, tmp_path / "out.ome.tif")) as image:
        data = image.series[0].to_numpy()
    assert data.dtype == expected.dtype
    np.testing.assert_array_equal(data, expected)


@pytest.mark.parametrize(
    ("target", "options", "message"),
    [
        ("out.png", {}, "cannot tell the output format from 'out.png'"),
        ("out.ome.zarr", {"ngff_version": "0.3"}, "ngff_version must be one of 0.5, 0.4, got '0.3'"),
        ("out.ome.zarr", {"compression": "lzw"}, "compression for zarr output must be one of blosc-zstd"),
        ("out.ome.tif", {"compression": "blosc-zstd"}, "compression for tiff output must be one of zlib, zstd"),
        ("out.ome.tif", {"chunks": (100, 100)}, "OME-TIFF tiles are one plane high and wide multiples of 16"),
        ("out.ome.zarr", {"chunks": (1, 2, 3)}, "chunks must be 2 (Y, X) or 5 (T, C, Z, Y, X) positive sizes"),
        ("out.ome.zarr", {"levels": 0}, "levels must be at least 1"),
        ("out.ome.zarr", {"downsample_method": "bicubic"}, "downsample_method must be one of mean, nearest"),
        ("out.ome.zarr", {"series": 3}, "has 1 series (0 to 0); there is no series 3"),
    ],
)
def test_bad_options_fail_before_writing(target, options, message, tmp_path):
    with pytest.raises(ValueError) as error:
        bfbridge.convert("small&sizeX=32&sizeY=32.fake", tmp_path / target, **options)
    assert message in str(error.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.corpus
def test_series_option_picks_and_orders_series(corpus, tmp_path):
    sample = corpus / "lif/testdata_2channel_xz.lif"
    target = bfbridge.convert(sample, tmp_path / "out.ome.zarr", series=[2, 0])
    root = zarr.open_group(target, mode="r")
    assert ome_attributes(root["OME"], "ngff05")["series"] == ["0", "1"] and "2" not in root
    with bfbridge.open(sample) as image:
        np.testing.assert_array_equal(root["0/0"][...], image.series[2].to_numpy())
        np.testing.assert_array_equal(root["1/0"][...], image.series[0].to_numpy())
    ome = ome_types.from_xml((target / "OME" / "METADATA.ome.xml").read_text())
    assert [image.name for image in ome.images] == ["xz", "xzt"]


# ---------------------------------------------------------------------------- sources


@pytest.mark.corpus
def test_open_image_file_as_source_stays_open(corpus, tmp_path):
    sample = corpus / "tiff/multipage_rgb.tif"
    with bfbridge.open(sample, fold_rgb=True) as image:
        target = bfbridge.convert(image, tmp_path / "out.ome.tif")
        assert image.series[0].shape == (2, 3, 1, 10, 10)  # still open and usable
    with bfbridge.open(target) as converted_image:
        data = converted_image.series[0].to_numpy()
    assert hashlib.sha256(data.tobytes()).hexdigest() == EXPECTED["tiff/multipage_rgb.tif"]["series"][0]["sha256"]


@pytest.mark.corpus
def test_palette_image_converts_to_colours(corpus, tmp_path):
    sample = corpus / "gif/newtonscradle.gif"
    colours = bfbridge.imread(sample)  # (36, 1, 1, 150, 200, 3): palette applied
    root = zarr.open_group(bfbridge.convert(sample, tmp_path / "out.ome.zarr"), mode="r")
    np.testing.assert_array_equal(root["0/0"][...], folded(colours))
    with bfbridge.open(bfbridge.convert(sample, tmp_path / "out.ome.tif")) as image:
        np.testing.assert_array_equal(image.series[0].to_numpy(), colours)


def test_missing_and_unsupported_sources_leave_nothing(tmp_path):
    with pytest.raises(FileNotFoundError):
        bfbridge.convert(tmp_path / "absent.czi", tmp_path / "out.ome.zarr")
    notes = tmp_path / "notes.xyz"
    notes.write_text("not an image")
    with pytest.raises(bfbridge.UnsupportedFormatError):
        bfbridge.convert(notes, tmp_path / "out.ome.zarr")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.xyz"]


def test_bigtiff_when_the_data_needs_it(stack_tiff, tmp_path, monkeypatch):
    from bfbridge.convert import ometiff

    monkeypatch.setattr(ometiff, "_CLASSIC_TIFF_LIMIT", stack_tiff[1].nbytes - 1)
    target = bfbridge.convert(stack_tiff[0], tmp_path / "out.ome.tif")
    with tifffile.TiffFile(target) as tiff:
        assert tiff.is_bigtiff
    with bfbridge.open(target) as image:
        np.testing.assert_array_equal(image.series[0].to_numpy(), stack_tiff[1])


@pytest.mark.parametrize("name", ["out.ome.zarr", "out.ome.tif"])
def test_small_block_budget_splits_wide_planes(name, stack_tiff, tmp_path, monkeypatch):
    """Blocks stay near the byte budget even when one row of tiles exceeds it; output is unchanged."""
    from bfbridge.convert import ometiff, store

    budget = 2 * 64 * 64 * 2  # two 64 x 64 uint16 tiles
    monkeypatch.setattr(ometiff, "CHUNK_TARGET_BYTES", budget)
    monkeypatch.setattr(store, "CHUNK_TARGET_BYTES", budget)
    sizes = []
    target = bfbridge.convert(
        stack_tiff[0], tmp_path / name, chunks=(64, 64), levels=1, progress=lambda done, _: sizes.append(done)
    )
    blocks = np.diff([0, *sizes])
    assert blocks.max() <= budget and len(blocks) == 2 * 5 * 4  # 2 planes x 5 tile rows x 4 runs of tiles
    with bfbridge.open(target) if name.endswith(".tif") else contextlib.nullcontext() as image:
        data = image.series[0].to_numpy() if image else zarr.open_group(target, mode="r")["0/0"][...]
    np.testing.assert_array_equal(data, stack_tiff[1])


# ---------------------------------------------------------------------------- safe writes


def test_existing_output_is_refused_unless_overwrite(stack_tiff, tmp_path):
    target = tmp_path / "out.ome.tif"
    target.write_bytes(b"precious")
    with pytest.raises(FileExistsError, match=r"exists; pass overwrite=True \(bfbridge convert --overwrite\)"):
        bfbridge.convert(stack_tiff[0], target)
    assert target.read_bytes() == b"precious"
    bfbridge.convert(stack_tiff[0], target, overwrite=True)
    with tifffile.TiffFile(target) as tiff:
        np.testing.assert_array_equal(tiff.series[0].asarray(), stack_tiff[1][0, 0])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.ome.tif"]


def test_overwrite_replaces_a_whole_zarr_folder(stack_tiff, tmp_path):
    target = tmp_path / "out.ome.zarr"
    target.mkdir()
    (target / "stale.txt").write_text("from an older run")
    with pytest.raises(FileExistsError):
        bfbridge.convert(stack_tiff[0], target)
    bfbridge.convert(stack_tiff[0], target, overwrite=True)
    assert not (target / "stale.txt").exists() and (target / "OME" / "METADATA.ome.xml").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.ome.zarr"]


@pytest.mark.parametrize("name", ["out.ome.zarr", "out.ome.tif"])
def test_output_appears_only_when_complete(name, stack_tiff, tmp_path):
    """While writing, only a hidden sibling exists; the target appears by rename at the end."""
    seen = []

    def watch(done: int, total: int) -> None:
        seen.append((done, total, (tmp_path / name).exists(), sorted(p.name for p in tmp_path.iterdir())))

    bfbridge.convert(stack_tiff[0], tmp_path / name, progress=watch, chunks=(64, 64))
    assert seen and not any(exists for _, _, exists, _ in seen)
    assert all(n.startswith(f".{name}.") for *_, names in seen for n in names)  # partial output, scratch
    assert any(n.startswith(f".{name}.partial-") for n in seen[-1][3])
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


@pytest.mark.parametrize("name", ["out.ome.zarr", "out.ome.tif"])
def test_progress_reports_every_byte_written(name, tmp_path):
    fake = "progress&sizeX=300&sizeY=200&sizeZ=3&pixelType=uint16.fake"
    calls = []
    bfbridge.convert(fake, tmp_path / name, levels=2, chunks=(64, 64), progress=lambda *a: calls.append(a))
    level0, level1 = 3 * 200 * 300 * 2, 3 * 100 * 150 * 2
    done = [level0, level0 + level1]  # small planes: each level is one block of whole chunks
    if name.endswith(".tif"):  # built in scratch first, then copied into the TIFF one plane at a time
        planes = [level0 // 3] * 3 + [level1 // 3] * 3
        done += list(done[-1] + np.cumsum(planes))
    assert calls == [(value, done[-1]) for value in done]  # the total is known from the start


def snapshot(path):
    """Every byte of a file, or of every file in a folder."""
    if path.is_file():
        return path.read_bytes()
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("name", ["out.ome.zarr", "out.ome.tif"])
def test_failure_removes_partial_output_and_keeps_the_old_one(name, stack_tiff, tmp_path):
    target = tmp_path / name
    bfbridge.convert("old&sizeX=16&sizeY=16.fake", target)
    before = snapshot(target)

    def fail(done: int, total: int) -> None:
        raise RuntimeError("disk full (simulated by the progress callback)")

    with pytest.raises(RuntimeError, match="disk full"):
        bfbridge.convert(stack_tiff[0], target, overwrite=True, progress=fail, chunks=(64, 64))
    assert snapshot(target) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_source_is_never_the_target(stack_tiff, tmp_path):
    copy = tmp_path / "stack.ome.tif"
    copy.write_bytes(stack_tiff[0].read_bytes())
    with pytest.raises(ValueError, match="is the file being converted"):
        bfbridge.convert(copy, copy, overwrite=True)
    assert copy.read_bytes() == stack_tiff[0].read_bytes()


@pytest.mark.corpus
def test_scratch_pyramid_for_tiff_is_removed(corpus, tmp_path):
    """SVS series 0 has no pyramid: the TIFF's levels are built in a scratch Zarr, then deleted."""
    bfbridge.convert(corpus / "svs/CMU-1-Small-Region.svs", tmp_path / "out.ome.tif", series=0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.ome.tif"]


@pytest.mark.parametrize(
    ("name", "signal_number", "code", "message"),
    [
        ("big.ome.zarr", signal.SIGINT, 130, "bfbridge: interrupted"),
        ("big.ome.tif", signal.SIGINT, 130, "bfbridge: interrupted"),
        # what a batch scheduler sends at wall time: 128 + SIGTERM
        ("big.ome.zarr", signal.SIGTERM, 143, "bfbridge: terminated (SIGTERM)"),
    ],
)
def test_interrupting_the_cli_removes_the_partial_output(name, signal_number, code, message, tmp_path):
    """Ctrl-C or SIGTERM mid-way through a CLI conversion: its exit code, nothing left behind."""
    big = "big&sizeX=2048&sizeY=2048&sizeZ=200&pixelType=uint16.fake"  # 1.6 GB: takes a while
    process = subprocess.Popen(
        [sys.executable, "-m", "bfbridge", "convert", big, str(tmp_path / name), "--no-progress"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not any(tmp_path.rglob("c")) and process.poll() is None:  # a zarr chunk folder: writing
            assert time.monotonic() < deadline, "no chunk was written within 120 s"
            time.sleep(0.1)
        assert process.poll() is None, f"finished before it could be interrupted: {process.communicate()}"
        process.send_signal(signal_number)
        _, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == code, err
    assert message in err
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------- CLI


def bfbridge_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bfbridge", *args], capture_output=True, text=True, timeout=300)


def test_cli_convert_with_progress_bar(stack_tiff, tmp_path):
    target = tmp_path / "out.ome.zarr"
    result = bfbridge_cli("convert", str(stack_tiff[0]), str(target))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"wrote {target}"
    assert "stack.ome.tif -> out.ome.zarr" in result.stderr and "100%" in result.stderr  # the tqdm bar
    np.testing.assert_array_equal(zarr.open_group(target, mode="r")["0/0"][...], stack_tiff[1])


def test_cli_flags_map_to_options(stack_tiff, tmp_path):
    target = tmp_path / "out.ome.zarr"
    result = bfbridge_cli(
        "convert", str(stack_tiff[0]), str(target), "--ngff-version", "0.4", "--compression", "gzip",
        "--compression-level", "2", "--chunks", "64,96", "--levels", "2", "--downsample-method", "max",
        "--series", "0", "--no-progress", "--max-workers", "1", "--no-group-files",
    )  # fmt: skip
    assert result.returncode == 0 and result.stderr == ""
    array = json.loads((target / "0" / "1" / ".zarray").read_text())
    assert array["zarr_format"] == 2 and array["chunks"] == [1, 1, 1, 64, 96]
    assert array["compressor"] == {"id": "gzip", "level": 2} and array["shape"] == [1, 1, 2, 150, 251]
    multiscale = json.loads((target / "0" / ".zattrs").read_text())["multiscales"][0]
    assert multiscale["type"] == "max" and len(multiscale["datasets"]) == 2


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--ngff-version", "0.3"], 2, "invalid choice: '0.3'"),
        (["--compression", "lzw"], 2, "bfbridge convert: error: compression for zarr output must be one of"),
        (["--chunks", "1,2,3"], 2, "bfbridge convert: error: chunks must be 2 (Y, X) or 5"),
        (["--chunks", "a,b"], 2, "expected comma-separated integers"),
    ],
)
def test_cli_usage_and_option_errors(args, code, message, tmp_path):
    result = bfbridge_cli("convert", "e&sizeX=8&sizeY=8.fake", str(tmp_path / "out.ome.zarr"), *args)
    assert result.returncode == code and message in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_cli_refuses_existing_output(tmp_path):
    target = tmp_path / "out.ome.tif"
    target.write_bytes(b"keep")
    result = bfbridge_cli("convert", "e&sizeX=8&sizeY=8.fake", str(target))
    assert result.returncode == 1
    assert result.stderr.startswith("bfbridge: error: ") and "--overwrite" in result.stderr
    assert target.read_bytes() == b"keep"


def test_demo_ends_with_a_valid_conversion(tmp_path):
    import yaozarrs

    result = bfbridge_cli("demo", "--output", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert f"Converted to OME-Zarr         -> {tmp_path / 'demo.ome.zarr'}" in result.stdout
    yaozarrs.validate_zarr_store(str(tmp_path / "demo.ome.zarr"))
    multiscale = ome_attributes(zarr.open_group(tmp_path / "demo.ome.zarr", mode="r")["0"], "ngff05")["multiscales"]
    scales = [d["coordinateTransformations"][0]["scale"] for d in multiscale[0]["datasets"]]
    assert scales == [[1.0, 1.0, 2.0, 0.5 * f, 0.5 * f] for f in (1, 2, 4)]  # the fake's own 3 levels


# ---------------------------------------------------------------------------- dask.distributed


@pytest.mark.corpus
@pytest.mark.slow
def test_converts_on_a_distributed_cluster(corpus, canonical, tmp_path):
    """Worker processes reopen the source by unpickling, read and write the blocks."""
    from distributed import Client, LocalCluster

    svs, lif = "svs/CMU-1-Small-Region.svs", "lif/testdata_2channel_xz.lif"
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        zarr_target = bfbridge.convert(corpus / svs, tmp_path / "svs.ome.zarr")
        tiff_target = bfbridge.convert(corpus / lif, tmp_path / "lif.ome.tif")
        started = client.run(lambda: __import__("bfbridge").jvm.is_started())
    assert list(started.values()) == [True, True]  # both workers ran Bio-Formats
    root = zarr.open_group(zarr_target, mode="r")
    np.testing.assert_array_equal(root["0/0"][...], folded(canonical(svs, 0)))
    np.testing.assert_array_equal(root["0/1"][...], halved(folded(canonical(svs, 0))))
    with bfbridge.open(tiff_target) as image:
        for index, series in enumerate(image.series):
            np.testing.assert_array_equal(series.to_numpy(), canonical(lif, index))


@pytest.mark.parametrize("zarr_format", [2, 3])
@pytest.mark.parametrize("compression", ["blosc-zstd", "blosc-lz4", "zstd", "gzip", "none"])
@pytest.mark.parametrize("dtype", ["uint8", "int16", "float64"])
def test_chunk_writer_matches_zarr(tmp_path, zarr_format, compression, dtype):
    """Chunks written directly read back through zarr exactly; all-fill chunks are left out, as zarr does."""
    from bfbridge.convert import options as convert_options
    from bfbridge.convert import pyramid, store

    chosen = convert_options.resolve(
        tmp_path / "x.ome.zarr", ngff_version="0.5" if zarr_format == 3 else "0.4", compression=compression,
        compression_level=None, chunks=(4, 5), levels=None, downsample_method="mean", series=None, max_workers=None,
    )  # fmt: skip
    group = zarr.open_group(tmp_path / "g.zarr", mode="w", zarr_format=zarr_format)
    level = pyramid.Level(index=0, shape=(1, 2, 1, 11, 13), factor=(1.0, 1.0), source_level=0)
    (array,) = store.create_levels(group, (level,), np.dtype(dtype), chosen)
    data = (np.arange(2 * 11 * 13).reshape(1, 2, 1, 11, 13) % 97 - 40).astype(dtype)
    data[0, 1, 0, :4, :5] = 0  # one whole chunk equal to the fill value
    writer = store.ChunkWriter(array)
    assert writer.direct
    writer.write(tuple(slice(0, n) for n in data.shape), data)
    np.testing.assert_array_equal(zarr.open_array(tmp_path / "g.zarr" / "0")[...], data)
    written = {p.relative_to(tmp_path / "g.zarr" / "0").as_posix() for p in (tmp_path / "g.zarr" / "0").rglob("*")}
    empty = "c/0/1/0/0/0" if zarr_format == 3 else "0/1/0/0/0"
    assert empty not in written and empty.replace("/0/0/0", "/0/0/1") in written
