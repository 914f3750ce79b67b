"""The bioio reader plugin: bioio's own BioImage and bioio-base's reader checks on real files.

Every scene of the shared corpus must give expected.json's pixels through ``BioImage``,
``.fake`` ids cover scenes, RGB and pyramids, and URLs are read through fsspec.
"""

from __future__ import annotations

import hashlib
import pickle
import uuid

import dask.array as da
import numpy as np
import pytest
import tifffile
import xarray as xr

bioio = pytest.importorskip("bioio")
from bioio import BioImage  # noqa: E402
from bioio_base import exceptions, test_utilities  # noqa: E402
from bioio_base.dimensions import DEFAULT_DIMENSION_ORDER, DEFAULT_DIMENSION_ORDER_WITH_SAMPLES  # noqa: E402
from bioio_base.standard_metadata import StandardMetadata  # noqa: E402
from bioio_base.types import ureg  # noqa: E402
from ome_types import OME  # noqa: E402

import bfbridge  # noqa: E402
from bfbridge.bioio import Reader, ReaderMetadata, reader_metadata  # noqa: E402
from bfbridge.reader import opening  # noqa: E402
from conftest import EXPECTED, ROOT  # noqa: E402
from tests.http_server import serve_directory  # noqa: E402

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib

CASES = [(path, index) for path, entry in EXPECTED.items() for index in range(entry["series_count"])]
LIF = "lif/testdata_2channel_xz.lif"
PYRAMID = "ome-tiff/synthetic/dim5_pyramid.ome.tif"
MULTI = (
    "multi&sizeZ=3&sizeC=2&sizeT=2&series=3&pixelType=uint16&physicalSizeX=0.5&physicalSizeY=0.25&physicalSizeZ=2.fake"
)
RGB = "rgb&sizeC=3&rgb=3&sizeX=64&sizeY=32.fake"
PYRAMID_FAKE = "pyr&sizeX=1024&sizeY=512&resolutions=3&physicalSizeX=1&physicalSizeY=1.fake"


def sha256(array) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def close_unpickled_copy(reader: Reader) -> None:
    """bioio-base's serialisation check unpickles the Reader in this process, which reopens the
    file once per process (bfbridge shares that copy, as dask workers do); close it too."""
    pickle.loads(pickle.dumps(reader.image_file)).close()


@pytest.fixture
def count_opens(monkeypatch):
    """How many Bio-Formats ``setId`` calls bfbridge makes from now on (it still makes them)."""
    calls = []
    real = opening.open_reader

    def counted(*args, **kwargs):
        calls.append(args[0].path)
        return real(*args, **kwargs)

    monkeypatch.setattr(opening, "open_reader", counted)
    return calls


# ---------------------------------------------------------------------- packaging and discovery


def test_import_bfbridge_imports_no_bioio_and_discovery_starts_no_jvm(python):
    result = python(
        """
        import sys
        import bfbridge
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("bioio", "bioio_base")))
        from bioio.plugins import get_plugins
        plugins = get_plugins(use_cache=False)
        import jpype
        print([p.entrypoint.name for p in plugins[".vsi"]], jpype.isJVMStarted())
        """
    )
    assert result.stdout.splitlines() == ["[]", "['bfbridge'] False"]


def test_entry_point_and_extras_are_declared_as_bioio_needs():
    from importlib.metadata import entry_points, requires

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["entry-points"]["bioio.readers"] == {"bfbridge": "bfbridge.bioio"}
    extras = pyproject["project"]["optional-dependencies"]
    assert extras["bioio"] == ["bioio>=3.6", "bioio-base>=3.5"]
    assert "bioio>=3.6" in extras["test"]
    (entry,) = [ep for ep in entry_points(group="bioio.readers") if ep.name == "bfbridge"]
    assert entry.load() is bfbridge.bioio and ReaderMetadata.get_reader() is Reader
    # bioio looks the entry point's name up as a distribution and wants exactly one bioio-base requirement
    assert len([r for r in requires("bfbridge") if r.startswith("bioio-base")]) == 1
    assert bioio.plugins.get_dependency_version_range_for_distribution("bfbridge", "bioio-base") == (None, None)


def test_suffixes_are_every_bioformats_suffix():
    committed = reader_metadata.SUFFIXES_MODULE.read_text(encoding="utf-8")
    assert committed == reader_metadata.suffixes_module_text(), "run: python -m bfbridge.bioio.reader_metadata"
    suffixes = {suffix for entry in bfbridge.reader.supported_formats() for suffix in entry["suffixes"]}
    extensions = ReaderMetadata.get_supported_extensions()
    assert extensions == sorted(f".{suffix}" for suffix in suffixes)
    assert {".czi", ".nd2", ".lif", ".vsi", ".ome.tiff", ".tif", ".fake", ".companion.ome"} <= set(extensions)


DEDICATED_PLUGIN = '''
from bioio_base.reader_metadata import ReaderMetadata as Base
from bfbridge.bioio import Reader


class TiffOnlyReader(Reader):
    """Stands for a dedicated TIFF plugin (bioio-tifffile, say): a reader of its own class."""


class ReaderMetadata(Base):
    @staticmethod
    def get_supported_extensions():
        return [".tif", ".tiff"]

    @staticmethod
    def get_reader():
        return TiffOnlyReader
'''


def test_a_dedicated_plugin_ranks_first_for_its_suffixes_and_bfbridge_for_the_rest(tmp_path, python):
    """bioio tries plugins with fewer suffix families first, so bfbridge (217 suffixes) serves what none other reads."""
    (tmp_path / "tiffonly_plugin.py").write_text(DEDICATED_PLUGIN)
    info = tmp_path / "tiffonly_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: tiffonly-plugin\nVersion: 1.0\nRequires-Dist: bioio-base\n"
    )
    (info / "entry_points.txt").write_text("[bioio.readers]\ntiffonly-plugin = tiffonly_plugin\n")
    tifffile.imwrite(tmp_path / "cells.tif", np.arange(600, dtype=np.uint16).reshape(20, 30))
    result = python(
        f"""
        from bioio import BioImage
        from bioio.plugins import get_plugins
        import bfbridge.bioio
        plugins = get_plugins(use_cache=False)
        for suffix in (".tif", ".ome.tif", ".vsi"):
            print(suffix, [p.entrypoint.name for p in plugins[suffix]])
        path = {str(tmp_path / "cells.tif")!r}
        print(type(BioImage(path).reader).__name__)
        print(type(BioImage(path, reader=bfbridge.bioio.Reader).reader).__name__)
        print(type(BioImage("cells&sizeC=2.fake").reader).__name__)
        """,
        env={"PYTHONPATH": str(tmp_path)},
    )
    assert result.stdout.splitlines() == [
        ".tif ['tiffonly-plugin', 'bfbridge']",
        ".ome.tif ['bfbridge']",
        ".vsi ['bfbridge']",
        "TiffOnlyReader",
        "Reader",
        "Reader",
    ]


# ---------------------------------------------------------------------- the shared corpus


@pytest.mark.corpus
@pytest.mark.skipif(not CASES, reason="sample corpus not found")
@pytest.mark.parametrize("path", sorted(EXPECTED), ids=sorted(EXPECTED))
def test_every_scene_through_bioimage_matches_expected(corpus, path):
    entry = EXPECTED[path]
    options = {"group_files": entry["group_files"], "apply_lut": False}  # expected.json hashes raw values
    image = BioImage(corpus / path, **options)
    assert type(image.reader) is Reader  # chosen by bioio itself: no other plugin is installed
    assert len(image.scenes) == entry["series_count"] and len(set(image.scenes)) == len(image.scenes)
    for index, expected in enumerate(entry["series"]):
        image.set_scene(image.scenes[index])
        assert image.current_scene_index == index
        assert image.dims.order == expected["dims"] and list(image.shape) == expected["shape"]
        assert image.dtype.name == expected["dtype"]
        assert image.resolution_levels == tuple(range(len(expected["resolution_levels_yx"])))
        delayed = image.dask_data
        assert isinstance(delayed, da.Array) and sha256(delayed.compute()) == expected["sha256"]
        assert sha256(image.data) == expected["sha256"]
        channels = image.ome_metadata.images[index].pixels.channels  # unnamed channels go by their OME ID
        assert image.channel_names == [name or channels[c].id for c, name in enumerate(expected["channel_names"])]
        for axis in "zyx":
            reference = expected[f"physical_size_{axis}"]
            size = getattr(image.physical_pixel_sizes, axis.upper())
            assert (size is None) == (reference is None)
            if reference:
                micrometres = ureg.Quantity(*reference).to("micrometer").magnitude  # bioio's unit
                assert size == pytest.approx(micrometres)
    assert isinstance(image.ome_metadata, OME) and len(image.ome_metadata.images) == entry["series_count"]
    image.reader.close()


@pytest.mark.corpus
@pytest.mark.skipif(not CASES, reason="sample corpus not found")
@pytest.mark.parametrize(("path", "index"), CASES, ids=[f"{p}#{i}" for p, i in CASES])
def test_explicit_reader_gives_expected_pixels(corpus, path, index):
    entry = EXPECTED[path]
    image = BioImage(corpus / path, reader=Reader, group_files=entry["group_files"], apply_lut=False)
    image.set_scene(index)
    assert sha256(image.data) == entry["series"][index]["sha256"]
    image.reader.close()


def test_bioio_views_of_a_multichannel_stack(corpus):
    image = BioImage(corpus / "nd2/cluster.nd2")  # T=3, C=2, Z=10
    data = image.data
    np.testing.assert_array_equal(image.get_image_data("ZYX", T=0, C=1), data[0, 1])
    fresh = BioImage(corpus / "nd2/cluster.nd2")  # nothing read yet: only those planes are read
    np.testing.assert_array_equal(fresh.get_image_data("ZYX", T=0, C=1), data[0, 1])
    picked = fresh.get_image_data("CZYX", T=2, Z=[7, 2, 2])  # outer indexing, as bioio's dask path gives
    np.testing.assert_array_equal(picked, data[2][:, [7, 2, 2]])
    np.testing.assert_array_equal(picked, fresh.get_image_dask_data("CZYX", T=2, Z=[7, 2, 2]).compute())
    np.testing.assert_array_equal(
        fresh.get_image_data("ZCYX", C=[1, 0], Z=[9, 0], T=1), data[1][[1, 0]][:, [9, 0]].swapaxes(0, 1)
    )
    np.testing.assert_array_equal(fresh.get_image_data("YX", T=-1, C=0, Z=-2), data[2, 0, 8])
    np.testing.assert_array_equal(fresh.get_image_dask_data("TYX", C=1, Z=4).compute(), data[:, 1, 4])
    with pytest.raises(IndexError, match="index 3 is out of bounds for axis T with size 3"):
        fresh.get_image_data("ZYX", T=3, C=0)
    lazy, eager = fresh.xarray_dask_data, image.xarray_data
    assert isinstance(lazy.data, da.Array) and isinstance(eager.data, np.ndarray)
    assert lazy.dims == eager.dims == tuple("TCZYX")
    xr.testing.assert_equal(lazy.compute(), eager)
    assert list(eager.coords["C"].values) == ["5-FAM/pH 9.0", "FM 4-64/2% CHAPS"]
    assert eager.attrs["processed"] is image.ome_metadata and eager.attrs["unprocessed"] == image.reader.ome_xml
    assert image.metadata is image.ome_metadata
    assert fresh.reader.series.to_numpy().shape == (3, 2, 10, 31, 38)  # the bfbridge Series behind the scene


def test_standard_metadata_and_units(corpus):
    image = BioImage(corpus / "nd2/cluster.nd2")
    metadata = image.standard_metadata
    assert isinstance(metadata, StandardMetadata)
    assert (metadata.dimensions_present, metadata.image_size_t, metadata.image_size_c) == ("TCZYX", 3, 2)
    assert (metadata.image_size_z, metadata.image_size_y, metadata.image_size_x) == (10, 31, 38)
    assert metadata.timelapse is True
    assert metadata.pixel_size_x == pytest.approx(EXPECTED["nd2/cluster.nd2"]["series"][0]["physical_size_x"][0])
    properties = image.dimension_properties
    assert str(properties.X.unit) == str(properties.Z.unit) == "micrometer" and properties.X.type == "space"
    assert properties.T.unit is None and image.time_interval is None  # the file records no TimeIncrement


def test_resolution_levels_of_a_pyramid(corpus):
    levels = EXPECTED[PYRAMID]["series"][0]["resolution_levels_yx"]
    image = BioImage(corpus / PYRAMID)
    assert image.resolution_levels == (0, 1, 2)
    assert image.resolution_level_dims == {n: (1, 1, 6, *yx) for n, yx in enumerate(levels)}
    image.set_resolution_level(2)
    assert image.shape == (1, 1, 6, *levels[2]) and image.current_resolution_level == 2
    with bfbridge.open(corpus / PYRAMID) as reference:
        np.testing.assert_array_equal(image.data, reference.series[0].level(2).to_numpy())
    with pytest.raises(IndexError):
        image.set_resolution_level(3)


@pytest.mark.corpus
def test_a_level_the_next_scene_lacks_falls_back_to_full_resolution(corpus):
    image = BioImage(corpus / "ome-tiff/rand_uint16.ome.tiff")  # a 3-level image and a 1-level thumbnail
    image.set_resolution_level(2)
    assert image.shape == (1, 1, 1, 128, 32, 3)
    assert image.time_interval.total_seconds() == pytest.approx(0.1)  # its OME TimeIncrement
    assert image.scale[0] == pytest.approx(0.1) and str(image.dimension_properties.T.unit) == "second"  # T
    image.set_scene("thumbnail")
    assert image.current_resolution_level == 0 and image.resolution_levels == (0,)
    assert image.shape == (1, 3, 1, 64, 16) and image.time_interval is None
    image.set_scene(0)
    assert image.current_resolution_level == 0 and image.shape == (1, 1, 1, 512, 128, 3)


def test_original_metadata_as_ome_annotations(corpus):
    with (
        Reader(corpus / "nd2/cluster.nd2", original_meta=True) as reader,
        bfbridge.open(corpus / "nd2/cluster.nd2") as f,
    ):
        annotations = reader.ome_metadata.structured_annotations.xml_annotations
        original = {**f.original_metadata["global"], **f.original_metadata["series"][0]}
        assert all(a.namespace == "openmicroscopy.org/OriginalMetadata" for a in annotations)
        pairs = {}
        for annotation in annotations:
            (element,) = annotation.value.any_elements
            key, value = element.children
            pairs[key.text] = value.text
        assert pairs == {str(k): str(v) for k, v in original.items()} and len(pairs) > 10
        assert "openmicroscopy.org/OriginalMetadata" in reader.ome_xml and "&#13;" in reader.ome_xml
        assert f.ome.structured_annotations is None or not f.ome.structured_annotations.xml_annotations  # a copy


# ---------------------------------------------------------------------- bioio-base's own checks


def expected(scenes, scene, shape, dtype, channels, sizes, level=0, levels=(0,)) -> dict:
    """bioio-base's expected-value keywords for one scene (and resolution level) of a file."""
    return {
        "set_scene": scene,
        "expected_scenes": scenes,
        "expected_current_scene": scene,
        "expected_shape": shape,
        "expected_dtype": np.dtype(dtype),
        "expected_dims_order": DEFAULT_DIMENSION_ORDER_WITH_SAMPLES if len(shape) == 6 else DEFAULT_DIMENSION_ORDER,
        "expected_channel_names": channels,
        "expected_physical_pixel_sizes": sizes,
        "expected_metadata_type": OME,
        "set_resolution_level": level,
        "expected_current_resolution_level": level,
        "expected_resolution_levels": levels,
    }


FAKE_CHECKS = {
    "multi-scene": (
        MULTI,
        expected(
            ("multi", "multi 2", "multi 3"), "multi 2", (2, 2, 3, 512, 512), np.uint16,
            ["Channel:1:0", "Channel:1:1"], (2.0, 0.25, 0.5),
        ),
    ),
    "rgb": (RGB, expected(("rgb",), "rgb", (1, 1, 1, 32, 64, 3), np.uint8, ["Channel:0:0"], (None, None, None))),
    "pyramid": (
        PYRAMID_FAKE,
        expected(("pyr",), "pyr", (1, 1, 1, 128, 256), np.uint8, ["Channel:0:0"], (None, 4.0, 4.0), 2, (0, 1, 2)),
    ),
}  # fmt: skip


@pytest.mark.parametrize(("image", "checks"), FAKE_CHECKS.values(), ids=FAKE_CHECKS)
def test_bioio_base_image_file_checks_on_fake_ids(image, checks):
    """bioio-base's whole suite, open-file check included: a ``.fake`` id holds no file handle."""
    test_utilities.run_image_file_checks(ImageContainer=Reader, image=image, **checks)


def test_bioio_base_multi_scene_checks_on_a_fake_id():
    uint16 = np.dtype(np.uint16)
    common = {"ImageContainer": Reader, "image": MULTI, "first_scene_id": "multi", "allow_same_scene_data": False}
    common |= {"first_scene_dtype": uint16, "second_scene_dtype": uint16}
    shape = (2, 2, 3, 512, 512)
    test_utilities.run_multi_scene_image_read_checks(
        **common, first_scene_shape=shape, second_scene_id=2, second_scene_shape=shape
    )
    test_utilities.run_no_scene_name_image_read_checks(**common, second_scene_id="multi 2")


@pytest.mark.corpus
def test_bioio_base_container_checks_on_a_file(corpus):
    """The same suite on a real file, but for its open-file check: see the next test."""
    xzy = EXPECTED[LIF]["series"][1]
    sizes = tuple(xzy[f"physical_size_{axis}"][0] for axis in "zyx")
    checks = expected(("xzt", "xzy", "xz"), "xzy", tuple(xzy["shape"]), np.uint8, xzy["channel_names"], sizes)
    with Reader(corpus / LIF) as reader:
        test_utilities.run_image_container_checks(image_container=reader, **checks)
        close_unpickled_copy(reader)


@pytest.mark.corpus
def test_the_file_stays_open_until_the_reader_closes(corpus):
    """Not reopening per scene means Bio-Formats holds the file while the Reader lives, which
    bioio-base's open-file check rejects; after ``close()`` it passes."""
    reader = Reader(corpus / LIF)
    assert sha256(reader.data) == EXPECTED[LIF]["series"][0]["sha256"]
    with pytest.raises(AssertionError):
        test_utilities.check_local_file_not_open(reader)
    reader.close()
    test_utilities.check_local_file_not_open(reader)
    assert sha256(reader.data) == EXPECTED[LIF]["series"][0]["sha256"]  # what was read stays
    reader.set_scene(1)
    with pytest.raises(bfbridge.FileClosedError, match="is closed; open it again"):
        reader.get_image_data("ZYX", T=0, C=0)


# ---------------------------------------------------------------------- no reopening


def test_switching_scenes_never_reopens_the_file(count_opens):
    """bioio #192: a 384-scene file took 200 s because each scene reopened it."""
    image = BioImage("plate&series=200&sizeX=8&sizeY=8.fake", max_workers=1)
    file = image.reader.image_file
    pixels = []
    for scene in image.scenes:
        image.set_scene(scene)
        pixels.append(int(image.get_image_data("YX", T=0, C=0, Z=0)[3, 5]))
        assert image.dims.order == "TCZYX" and image.reader.image_file is file
    assert len(image.scenes) == 200 and len(count_opens) == 1
    assert file.readers_open == 1
    assert image.reader.image_file.series[199].to_numpy()[0, 0, 0, 3, 5] == pixels[199]
    image.reader.close()


@pytest.mark.corpus
def test_scenes_levels_and_metadata_of_a_file_reuse_one_open(corpus, count_opens):
    image = BioImage(corpus / LIF, max_workers=1)
    for index in range(3):
        image.set_scene(index)
        image.get_image_data("YX", T=0, C=1, Z=0)
        assert image.reader.ome_metadata is image.ome_metadata and image.channel_names
    image.set_scene(0)
    assert sha256(image.data) == EXPECTED[LIF]["series"][0]["sha256"]
    assert count_opens == [str(corpus / LIF)]
    image.reader.close()


# ---------------------------------------------------------------------- fsspec URLs


@pytest.fixture
def memory_tiff():
    """A 3-page TIFF in fsspec's in-process memory filesystem."""
    import fsspec

    fs = fsspec.filesystem("memory")
    data = np.arange(3 * 20 * 30, dtype=np.uint16).reshape(3, 20, 30)
    path = f"/bfbridge-bioio-{uuid.uuid4().hex[:8]}/stack.tif"
    with fs.open(path, "wb") as handle:
        tifffile.imwrite(handle, data, photometric="minisblack")
    yield f"memory://{path}", data
    fs.rm(path)


def test_memory_url_through_bioimage_and_bioio_base_checks(memory_tiff):
    url, data = memory_tiff
    image = BioImage(url)
    assert type(image.reader) is Reader and image.reader.image_file.path == url
    assert image.dims.order == "TCZYX" and image.shape == (3, 1, 1, 20, 30)  # tifffile's pages are T
    np.testing.assert_array_equal(image.data[:, 0, 0], data)
    np.testing.assert_array_equal(image.get_image_dask_data("YX", T=2).compute(), data[2])
    checks = expected(image.scenes, image.scenes[0], (3, 1, 1, 20, 30), np.uint16, ["Channel:0:0"], (None, 1.0, 1.0))
    checked = test_utilities.run_image_file_checks(Reader, url, **checks)  # tifffile writes 1 pixel per µm
    close_unpickled_copy(checked)
    checked.close()
    image.reader.close()


@pytest.mark.corpus
def test_http_url_with_fs_kwargs_passed_to_fsspec(corpus):
    token = {"Authorization": "Bearer bioio-test"}
    with serve_directory(corpus, required_headers=token) as (base, served):
        url = f"{base}/{LIF}"
        with pytest.raises(FileNotFoundError):  # the server refuses requests without the token
            BioImage(url)
        image = BioImage(url, fs_kwargs={"headers": token})
        assert type(image.reader) is Reader and image.scenes == ("xzt", "xzy", "xz")
        for index, expected in enumerate(EXPECTED[LIF]["series"]):
            image.set_scene(index)
            assert sha256(image.data) == expected["sha256"]
        assert served.total > 0 and all(method in ("GET", "HEAD") for method, _, _ in served.requests)
        image.reader.close()


# ---------------------------------------------------------------------- errors


def test_files_bioformats_cannot_read(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello world\n")
    with pytest.raises(exceptions.UnsupportedFileFormatError, match="No Bio-Formats reader claims it"):
        Reader.is_supported_image(text)
    with pytest.raises(exceptions.UnsupportedFileFormatError, match="BioImage does not support the image"):
        BioImage(text)
    broken = tmp_path / "broken.czi"
    broken.write_bytes(b"ZISRAWFILE" + bytes(100))
    assert Reader.is_supported_image(broken)  # .czi is one reader's suffix: claimed by name
    with pytest.raises(exceptions.UnsupportedFileFormatError, match=r"broken\.czi") as caught:
        BioImage(broken)
    assert isinstance(caught.value.__cause__, bfbridge.FormatError)
    assert caught.value.__cause__.path == str(broken)
    with pytest.raises(FileNotFoundError):
        BioImage(tmp_path / "missing.czi")
    with pytest.raises(FileNotFoundError):
        Reader(tmp_path / "missing.czi")
    folder = tmp_path / "folder.tif"
    folder.mkdir()
    with pytest.raises(exceptions.UnsupportedFileFormatError):
        Reader.is_supported_image(folder)
    with pytest.raises(exceptions.UnsupportedFileFormatError, match="bfbridge reads files and URLs"):
        Reader.is_supported_image(np.zeros((4, 4)))


def test_bad_options_and_scenes():
    with pytest.raises(ValueError, match=r"tile_size must be two positive ints \(Y, X\), got \(0, 8\)"):
        Reader(RGB, tile_size=(0, 8))
    with pytest.raises(TypeError, match="options"):
        Reader(RGB, options={"nativend2.chunkmap": False})  # a bioio-bioformats option bfbridge has not
    reader = Reader(MULTI)
    with pytest.raises(IndexError, match="Scene id: 'nope' is not present"):
        reader.set_scene("nope")
    with pytest.raises(IndexError, match="Scene index: 3 is greater"):
        reader.set_scene(3)


# ---------------------------------------------------------------------- bfbridge's options


def test_bfbridge_options_pass_through():
    folded = Reader(RGB, fold_rgb=True)
    assert folded.dims.order == "TCZYX" and folded.shape == (1, 3, 1, 32, 64)
    np.testing.assert_array_equal(folded.data, np.moveaxis(Reader(RGB).data[:, 0], -1, 1))
    tiled = Reader(PYRAMID_FAKE, dask_tiles=True, tile_size=(100, 200))
    assert tiled.dask_data.chunks[3:] == ((100,) * 5 + (12,), (200,) * 5 + (24,))
    np.testing.assert_array_equal(tiled.dask_data.compute(), Reader(PYRAMID_FAKE).data)
    assert Reader(PYRAMID_FAKE).dask_data.chunks[3:] == ((512,), (1024,))  # one plane a chunk by default


@pytest.mark.corpus
def test_palette_applied_by_default_and_raw_on_request(corpus):
    gif = corpus / "gif/newtonscradle.gif"
    assert BioImage(gif).dims.order == "TCZYXS"
    raw = BioImage(gif, apply_lut=False)
    assert raw.dims.order == "TCZYX" and sha256(raw.data) == EXPECTED["gif/newtonscradle.gif"]["series"][0]["sha256"]


@pytest.mark.corpus
def test_scene_ids_are_names_or_image_ids(corpus):
    assert BioImage(corpus / "svs/CMU-1-Small-Region.svs").scenes == ("Image:0", "label image", "macro image")
    assert BioImage(corpus / "czi/RGB-8bit.czi").scenes == ("Image:0",)  # the CZI names no scene
    plate = "ome-xml/one-screen-one-plate-four-wells.ome.xml"  # eleven distinct names
    assert BioImage(corpus / plate).scenes == tuple(series["name"] for series in EXPECTED[plate]["series"])


@pytest.mark.corpus
def test_memoize_zero_is_off_as_in_bioio_bioformats(corpus):
    with Reader(corpus / LIF, memoize=0) as reader:
        assert reader.image_file.memo is None
    with Reader(corpus / LIF, memoize=1) as first:
        assert first.image_file.memo in ("saved", "loaded")
    with Reader(corpus / LIF, memoize=1) as second:
        assert second.image_file.memo == "loaded"
        assert sha256(second.data) == EXPECTED[LIF]["series"][0]["sha256"]
