"""The napari reader plugin: its manifest and the layer data it returns (napari itself is not needed)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

import dask.array as da
import numpy as np
import pytest
import tifffile

import bfbridge
from bfbridge import napari_reader
from bfbridge.napari_reader import get_reader
from bfbridge.reader.detection import GENERIC_SUFFIXES
from conftest import EXPECTED, ROOT

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ND2 = "nd2/cluster.nd2"
LIF = "lif/testdata_2channel_xz.lif"
CZI = "czi/RGB-8bit.czi"
PYRAMID = "ome-tiff/synthetic/dim5_pyramid.ome.tif"
GIF = "gif/newtonscradle.gif"


def fake(**keys) -> str:
    return "img&" + "&".join(f"{k}={v}" for k, v in keys.items()) + ".fake"


def ome_colour(red: int, green: int, blue: int) -> int:
    """An opaque colour as OME stores it: RGBA in a signed 32-bit int."""
    return ((red << 24 | green << 16 | blue << 8 | 0xFF) ^ 0x80000000) - 0x80000000


def sha256(array) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def read(path) -> list:
    reader = get_reader(str(path))
    assert reader is not None
    return reader(str(path))


# ---------------------------------------------------------------------- manifest


def test_manifest_patterns_are_every_bioformats_suffix():
    committed = napari_reader.MANIFEST.read_text(encoding="utf-8")
    assert committed == napari_reader.manifest_text(), "run: python -m bfbridge.napari_reader --write-manifest"
    suffixes = {
        part.strip()
        for entry in bfbridge.reader.supported_formats()
        for suffix in entry["suffixes"]
        for part in suffix.split(",")
        if part.strip()
    }
    patterns = napari_reader.filename_patterns()
    assert patterns == sorted(f"*.{suffix}" for suffix in suffixes)
    assert {"*.czi", "*.nd2", "*.lif", "*.ome.tiff", "*.tif", "*.tiff", "*.fake"} <= set(patterns)
    assert all(", " not in pattern for pattern in patterns)


def test_manifest_is_valid_and_declared_as_the_entry_point():
    from npe2 import PluginManifest

    manifest = PluginManifest.from_file(napari_reader.MANIFEST)
    manifest.validate_imports()
    (reader,) = manifest.contributions.readers
    (command,) = manifest.contributions.commands
    assert reader.command == command.id == "bfbridge.get_reader"
    assert command.python_name == "bfbridge.napari_reader:get_reader"
    assert reader.filename_patterns == napari_reader.filename_patterns()
    assert reader.accepts_directories is False
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["entry-points"]["napari.manifest"] == {"bfbridge": "bfbridge:napari.yaml"}
    assert Path(bfbridge.__file__).with_name("napari.yaml") == napari_reader.MANIFEST


def test_npe2_validate_command_passes():
    npe2 = Path(sys.executable).with_name("npe2")
    result = subprocess.run(
        [str(npe2), "validate", str(napari_reader.MANIFEST), "--imports"], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Manifest for 'bfbridge Bio-Formats reader' valid!" in result.stdout


# ---------------------------------------------------------------------- layers


def test_multichannel_layer_with_names_colours_and_scale(corpus):
    expected = EXPECTED[ND2]["series"][0]
    ((data, kwargs, kind),) = read(corpus / ND2)
    assert kind == "image" and isinstance(data, da.Array)
    assert data.shape == (3, 2, 10, 31, 38) and data.dtype == np.uint16
    assert sha256(data.compute()) == expected["sha256"]
    size_x, size_y, size_z = (expected[f"physical_size_{axis}"][0] for axis in "xyz")
    assert kwargs == {
        "name": [f"{expected['name']}: {channel}" for channel in expected["channel_names"]],
        "scale": (1.0, size_z, size_y, size_x),
        "visible": True,
        "metadata": {"path": str(corpus / ND2), "series": 0, "format": "Nikon ND2"},
        "channel_axis": 1,
        "colormap": [
            {"name": "#78e90f", "colors": [[0.0, 0.0, 0.0, 1.0], [0x78 / 255, 0xE9 / 255, 0x0F / 255, 1.0]]},
            {"name": "#fe0100", "colors": [[0.0, 0.0, 0.0, 1.0], [0xFE / 255, 0x01 / 255, 0.0, 1.0]]},
        ],
    }


def test_every_series_is_a_layer_and_only_the_first_is_visible(corpus):
    layers = read(corpus / LIF)
    assert len(layers) == 3
    for index, (data, kwargs, kind) in enumerate(layers):
        expected = EXPECTED[LIF]["series"][index]
        assert kind == "image" and list(data.shape) == expected["shape"]
        assert sha256(data.compute()) == expected["sha256"]
        assert kwargs["visible"] is (index == 0)
        assert kwargs["name"] == [f"{expected['name']}: {channel}" for channel in expected["channel_names"]]
        assert kwargs["colormap"] == ["green", "red"]  # OME 0x00FF00FF and 0xFF0000FF
        size_z = expected["physical_size_z"][0] if expected["physical_size_z"] else 1.0
        assert kwargs["scale"] == (1.0, size_z, expected["physical_size_y"][0], expected["physical_size_x"][0])


def test_rgb_layer(corpus):
    expected = EXPECTED[CZI]["series"][0]
    ((data, kwargs, _),) = read(corpus / CZI)
    assert data.shape == (1, 1, 624, 924, 3)  # T, Z, Y, X, RGB: the single channel axis is dropped
    assert sha256(data.compute()) == expected["sha256"]
    assert kwargs["rgb"] is True and "channel_axis" not in kwargs and "colormap" not in kwargs
    assert kwargs["name"] == "RGB-8bit.czi: C1"  # the series has no name: the file name stands in
    assert kwargs["scale"] == (1.0, 1.0, expected["physical_size_y"][0], expected["physical_size_x"][0])


def test_palette_images_show_their_colours(corpus):
    ((data, kwargs, _),) = read(corpus / GIF)
    assert data.shape == (36, 1, 150, 200, 3) and kwargs["rgb"] is True
    np.testing.assert_array_equal(data.compute(), bfbridge.imread(corpus / GIF)[:, 0])


def test_pyramid_is_a_multiscale_list(corpus):
    expected = EXPECTED[PYRAMID]["series"][0]
    ((data, kwargs, _),) = read(corpus / PYRAMID)
    assert isinstance(data, list) and all(isinstance(level, da.Array) for level in data)
    assert [level.shape for level in data] == [(1, 6, y, x) for y, x in expected["resolution_levels_yx"]]
    assert kwargs["multiscale"] is True and "channel_axis" not in kwargs
    assert sha256(data[0].compute()) == expected["sha256"]
    with bfbridge.open(corpus / PYRAMID) as image:
        for n, level in enumerate(data):
            np.testing.assert_array_equal(level.compute(), image.series[0].level(n).to_numpy()[:, 0])


def test_synthetic_pyramid_with_channel_colours_and_units():
    path = fake(
        sizeX=256, sizeY=128, sizeZ=2, sizeC=3, resolutions=3, physicalSizeX="250nm", physicalSizeY=0.5,
        physicalSizeZ="2mm", color_0=ome_colour(255, 0, 0), color_1=ome_colour(0, 255, 255),
        color_2=ome_colour(128, 64, 32),
    )  # fmt: skip
    ((data, kwargs, _),) = read(path)
    assert [level.shape for level in data] == [(1, 3, 2, 128, 256), (1, 3, 2, 64, 128), (1, 3, 2, 32, 64)]
    np.testing.assert_array_equal(data[1].compute(), bfbridge.imread(path, level=1))
    assert kwargs["channel_axis"] == 1 and kwargs["multiscale"] is True
    assert kwargs["name"] == ["img: C0", "img: C1", "img: C2"]
    assert kwargs["scale"] == pytest.approx((1.0, 2000.0, 0.5, 0.25))  # micrometres
    assert kwargs["colormap"] == [
        "red",
        "cyan",
        {"name": "#804020", "colors": [[0.0, 0.0, 0.0, 1.0], [128 / 255, 64 / 255, 32 / 255, 1.0]]},
    ]


def test_partial_or_black_colours_leave_napari_defaults():
    ((_, partial, _),) = read(fake(sizeC=2, sizeX=8, sizeY=8, color_0=ome_colour(255, 0, 0)))
    assert "colormap" not in partial
    ((_, black, _),) = read(fake(sizeX=8, sizeY=8, color_0=ome_colour(0, 0, 0)))
    assert "colormap" not in black and black["name"] == "img"
    ((_, single, _),) = read(fake(sizeX=8, sizeY=8, color_0=ome_colour(0, 255, 0)))
    assert single["colormap"] == "green" and "channel_axis" not in single


def test_get_reader_declines_directories_and_reads_lists(corpus, tmp_path):
    assert get_reader(str(tmp_path)) is None
    assert get_reader([]) is None
    paths = [str(corpus / ND2), str(corpus / CZI)]
    layers = get_reader(paths)(paths)
    assert [kwargs["metadata"]["path"] for _, kwargs, _ in layers] == paths


# ---------------------------------------------------------------------- which files get_reader takes


def written(folder: Path, name: str, content: bytes = b"time,intensity\n0,12\n1,15\n") -> str:
    """A file in a folder of its own: some Bio-Formats readers judge a file by its neighbours."""
    folder.mkdir()
    (folder / name).write_bytes(content)
    return str(folder / name)


def zipped(folder: Path, member: Path) -> str:
    archive = folder / "archive.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.write(member, member.name)
    return str(archive)


def stack_tif(folder: Path) -> tuple[Path, np.ndarray]:
    """A 4-page uint16 TIFF written by tifffile."""
    data = np.arange(4 * 20 * 30, dtype=np.uint16).reshape(4, 20, 30)
    folder.mkdir(exist_ok=True)
    tifffile.imwrite(folder / "cells.tif", data, photometric="minisblack")
    return folder / "cells.tif", data


@pytest.mark.parametrize(
    "name, content",
    [
        ("table.csv", b"time,intensity\n0,12\n1,15\n"),
        ("numbers.csv", b"1,2,3\n4,5,6\n7,8,9\n"),
        ("notes.txt", b"hello world\n"),
        ("hostname", b"example\n"),  # no suffix at all, like /etc/hostname
        ("settings.xml", b'<?xml version="1.0"?><settings/>'),
        ("run.log", b"started\n"),
        ("page.html", b"<html><body>hi</body></html>"),
        ("setup.cfg", b"[metadata]\nname = x\n"),
        ("samples.dat", bytes(range(256)) * 4),
    ],
)
def test_get_reader_declines_files_bioformats_does_not_claim(name, content, tmp_path):
    assert get_reader(written(tmp_path / "data", name, content)) is None


@pytest.mark.parametrize("suffix", sorted(GENERIC_SUFFIXES - {"zip"}))
def test_every_generic_suffix_is_checked_by_content(suffix, tmp_path):
    assert get_reader(written(tmp_path / "data", f"notes.{suffix}")) is None


@pytest.mark.parametrize(
    ("url", "taken"),
    [
        ("https://example.org/data/cells.tif", True),  # a suffix many readers share
        ("s3://bucket/plate/A01.czi", True),
        ("https://example.org/signed/cells.ome.tiff?X-Amz-Signature=abc", True),
        ("https://example.org/data/table.csv", False),
        ("https://example.org/data/notes.txt", False),
        ("https://example.org/data/readme", False),
    ],
)
def test_urls_are_judged_by_their_suffix(url, taken):
    assert (get_reader(url) is not None) is taken


def test_get_reader_declines_zips_whose_first_member_is_no_image(tmp_path):
    text = Path(written(tmp_path / "data", "notes.txt"))
    assert get_reader(zipped(tmp_path / "data", text)) is None
    assert get_reader(written(tmp_path / "broken", "broken.zip", b"PK not really")) is None
    empty = tmp_path / "empty.zip"
    zipfile.ZipFile(empty, "w").close()
    assert get_reader(str(empty)) is None


def test_tifffile_tif_and_zipped_tif_read_correctly(tmp_path):
    path, data = stack_tif(tmp_path / "data")
    for source in (str(path), zipped(tmp_path, path)):
        ((layer, kwargs, kind),) = read(source)
        assert kind == "image" and layer.shape == (4, 1, 20, 30)  # T, Z, Y, X
        np.testing.assert_array_equal(layer.compute()[:, 0], data)
        assert kwargs["metadata"]["path"] == source


@pytest.mark.parametrize("sample", ["mrc/EMD-3001.map", "jpeg/chelsea.jpg", "tiff/5channel.tif", CZI])
def test_corpus_files_are_taken_with_their_data(sample, corpus):
    """``.map``, ``.jpg`` and ``.tif`` are checked by content (generic or shared suffixes); ``.czi`` by name."""
    layers = read(corpus / sample)
    assert len(layers) == EXPECTED[sample]["series_count"]
    assert sha256(layers[0][0].compute()) == EXPECTED[sample]["series"][0]["sha256"]  # a dropped C=1 keeps the bytes


def test_a_file_that_fails_to_read_gives_napari_none(tmp_path, caplog):
    broken = written(tmp_path / "data", "broken.czi", b"ZISRAWFILE" + bytes(100))
    reader = get_reader(broken)
    assert reader is not None  # .czi is one reader's suffix: taken by name
    with caplog.at_level("WARNING", logger="bfbridge.napari_reader"):
        assert reader(broken) is None
    assert "broken.czi" in caplog.text
    missing = str(tmp_path / "missing.czi")
    assert get_reader(missing)(missing) is None


def test_napari_protocol_through_npe2(tmp_path):
    """npe2 (napari's plugin engine) skips a declined file and reports a failed read without a traceback."""
    from npe2 import PluginManager, io_utils
    from npe2.manifest import PluginManifest

    manager = PluginManager.instance()
    if "bfbridge" not in {manifest.name for manifest in manager.iter_manifests()}:
        manager.register(PluginManifest.from_file(napari_reader.MANIFEST))
    path, data = stack_tif(tmp_path / "data")
    ((layer, _, _),) = io_utils.read([str(path)], stack=False, plugin_name="bfbridge")
    np.testing.assert_array_equal(layer.compute()[:, 0], data)
    with pytest.raises(ValueError, match="refused the file"):
        io_utils.read([written(tmp_path / "csv", "table.csv")], stack=False, plugin_name="bfbridge")
    with pytest.raises(ValueError, match="returned no data"):
        io_utils.read([written(tmp_path / "czi", "broken.czi", bytes(64))], stack=False, plugin_name="bfbridge")
