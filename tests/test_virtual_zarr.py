"""The virtual OME-Zarr store: any file as the OME-Zarr ``bf.convert`` would write, read on demand.

Level 0 of every series of every corpus file must hash to expected.json through zarr;
computed levels must equal both an independent 2 x 2 mean and what ``bf.convert`` writes;
zarr, xarray and ome-zarr-models must read it; it pickles into dask workers; writes fail.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import pickle

import numpy as np
import ome_types
import pytest
import tifffile
import zarr
from zarr.core.buffer import default_buffer_prototype

import bfbridge
from bfbridge.virtual_zarr import OmeZarrStore, ReadOnlyStoreError
from bfbridge.virtual_zarr.chunking import MAX_CHUNK_BYTES, chunk_shape
from conftest import EXPECTED
from tests.http_server import serve_directory
from tests.test_convert import expected_levels, folded, halved

PROTOTYPE = default_buffer_prototype()
SVS = "svs/CMU-1-Small-Region.svs"
CZI = "czi/CD_s_1_t_3_c_2_z_5.czi"


def unfolded(data: np.ndarray, shape: list[int]) -> np.ndarray:
    """TCZYX with channel c * S + s (what NGFF stores) -> the canonical TCZYXS of ``shape``."""
    if len(shape) == 5:
        return data
    t, c, z, y, x, s = shape
    return np.ascontiguousarray(np.moveaxis(data.reshape(t, c, s, z, y, x), 2, -1))


def ome(group: zarr.Group) -> dict:
    attributes = dict(group.attrs)
    assert list(attributes) == ["ome"] and attributes["ome"]["version"] == "0.5"
    return attributes["ome"]


def levels_of(group: zarr.Group) -> list[zarr.Array]:
    datasets = ome(group)["multiscales"][0]["datasets"]
    assert [d["path"] for d in datasets] == [str(n) for n in range(len(datasets))]
    return [group[d["path"]] for d in datasets]


def read(store: OmeZarrStore, key: str):
    return asyncio.run(store.get(key, PROTOTYPE))


# ---------------------------------------------------------------------------- the corpus


@pytest.mark.corpus
@pytest.mark.parametrize("path", sorted(EXPECTED), ids=sorted(EXPECTED))
def test_every_corpus_file_reads_exactly_through_the_store(corpus, path):
    entry = EXPECTED[path]
    with bfbridge.open(corpus / path, group_files=entry["group_files"], apply_lut=False) as image:
        root = zarr.open_group(image.to_zarr_store(), mode="r")
        assert root.metadata.zarr_format == 3
        assert ome(root) == {"version": "0.5", "bioformats2raw.layout": 3}
        assert ome(root["OME"])["series"] == [str(i) for i in range(entry["series_count"])]
        for index, expected in enumerate(entry["series"]):
            levels = levels_of(root[str(index)])
            assert [array.shape[3:] for array in levels] == expected_levels(path, index)
            data = unfolded(levels[0][...], expected["shape"])
            assert list(data.shape) == expected["shape"] and data.dtype.name == expected["dtype"]
            assert hashlib.sha256(data.tobytes()).hexdigest() == expected["sha256"], f"{path} series {index}"
            own_levels = len(expected["resolution_levels_yx"])
            previous = levels[0][...]
            for number, array in enumerate(levels[1:], start=1):
                values = array[...]
                if number < own_levels:  # the file's own level, copied
                    np.testing.assert_array_equal(values, folded(image.series[index].level(number).to_numpy()))
                else:  # computed: the 2 x 2 mean of the level above
                    np.testing.assert_array_equal(values, halved(previous))
                previous = values
        xml = ome_types.from_xml(root.store.hierarchy.get("OME/METADATA.ome.xml").decode())
        assert [i.name or "" for i in xml.images] == [s["name"] or "" for s in entry["series"]]


@pytest.fixture(scope="module")
def svs_converted(corpus, tmp_path_factory):
    """The SVS converted by bf.convert without compression (its series 0 has no pyramid: levels are computed)."""
    return bfbridge.convert(corpus / SVS, tmp_path_factory.mktemp("svs") / "svs.ome.zarr", compression="none")


#: (series, level): 5 SVS tiles of 240 x 240 (series 0), the label's and macro's whole planes, each level's edge
SVS_CHUNKS = {
    (0, 0): [1, 3, 1, 1200, 1200], (0, 1): [1, 3, 1, 1200, 1110], (0, 2): [1, 3, 1, 742, 555],
    (1, 0): [1, 3, 1, 463, 387], (2, 0): [1, 3, 1, 431, 1280], (2, 1): [1, 3, 1, 216, 640],
}  # fmt: skip


@pytest.mark.corpus
def test_store_is_what_convert_writes_but_chunked_by_the_reader(corpus, svs_converted):
    converted = zarr.open_group(svs_converted, mode="r")
    with bfbridge.open(corpus / SVS) as image:
        store = image.to_zarr_store()
        virtual = zarr.open_group(store, mode="r")
        assert dict(virtual.attrs) == dict(converted.attrs)
        assert dict(virtual["OME"].attrs) == dict(converted["OME"].attrs)
        written = (svs_converted / "OME" / "METADATA.ome.xml").read_bytes()
        assert store.hierarchy.get("OME/METADATA.ome.xml") == written
        for index in range(3):
            # single planes that fit the window sample: even the display windows are convert's
            assert dict(virtual[str(index)].attrs) == dict(converted[str(index)].attrs)
            assert ome(virtual[str(index)])["multiscales"][0].get("type") == ("mean" if index != 1 else None)
            for number, array in enumerate(levels_of(converted[str(index)])):
                ours = json.loads(store.hierarchy.get(f"{index}/{number}/zarr.json"))
                theirs = json.loads((svs_converted / str(index) / str(number) / "zarr.json").read_text())
                assert ours.pop("chunk_grid")["configuration"]["chunk_shape"] == SVS_CHUNKS[index, number]
                theirs.pop("chunk_grid")
                assert ours == theirs
                np.testing.assert_array_equal(virtual[f"{index}/{number}"][...], array[...])


@pytest.mark.corpus
def test_palette_colours_are_served_as_convert_writes_them(corpus):
    """A true palette (GIF) gives colours by default: three channels, as bf.convert writes."""
    sample = corpus / "gif/newtonscradle.gif"
    colours = bfbridge.imread(sample)  # (36, 1, 1, 150, 200, 3)
    with bfbridge.open(sample) as image:
        group = zarr.open_group(image.to_zarr_store(), mode="r")["0"]
        np.testing.assert_array_equal(group["0"][...], folded(colours))
        assert [c["label"] for c in ome(group)["omero"]["channels"]] == ["C0:R", "C0:G", "C0:B"]


@pytest.mark.corpus
def test_display_window_comes_from_the_middle_plane(corpus):
    """CZI, 3 T x 2 C x 5 Z: windows are the range of Z = 2 at T = 0, not of every plane (that needs a full read)."""
    with bfbridge.open(corpus / CZI) as image:
        channels = ome(zarr.open_group(image.to_zarr_store(), mode="r")["0"])["omero"]["channels"]
        plane = image.series[0][0, :, 2]
    assert [c["label"] for c in channels] == ["LED555", "LED470"]
    assert [c["color"] for c in channels] == ["FF7E00", "00FF33"]
    for index, channel in enumerate(channels):
        window = {"start": float(plane[index].min()), "end": float(plane[index].max()), "min": 0.0, "max": 65535.0}
        assert channel["window"] == window


# ---------------------------------------------------------------------------- synthetic files


FAKES = {
    "series": "multi&sizeX=300&sizeY=200&sizeZ=3&sizeC=2&sizeT=2&series=3&pixelType=uint16.fake",
    "pyramid": "pyr&sizeX=3000&sizeY=2048&sizeC=2&resolutions=3&pixelType=uint8.fake",
    "rgb": "rgb&sizeX=2600&sizeY=1100&sizeC=3&rgb=3&sizeT=2&pixelType=uint8.fake",
    "int8": "i8&sizeX=1300&sizeY=1030&pixelType=int8.fake",
    "int16": "i16&sizeX=70&sizeY=50&sizeC=2&pixelType=int16.fake",
    "uint32": "u32&sizeX=70&sizeY=50&sizeT=3&pixelType=uint32.fake",
    "float": "f32&sizeX=2051&sizeY=1025&pixelType=float.fake",
    "double": "f64&sizeX=70&sizeY=50&sizeZ=2&pixelType=double.fake",
}


@pytest.mark.parametrize("name", list(FAKES))
def test_fake_images_equal_to_numpy_at_every_level(name):
    fake = FAKES[name]
    with bfbridge.open(fake, fold_rgb=True) as image:
        root = zarr.open_group(image.to_zarr_store(), mode="r")
        assert ome(root["OME"])["series"] == [str(i) for i in range(len(image.series))]
        for series in image.series:
            levels = levels_of(root[str(series.index)])
            previous = None
            for number, array in enumerate(levels):
                values = array[...]
                assert values.dtype == series.dtype and array.metadata.dimension_names == tuple("tczyx")
                if number < series.resolution_count:
                    np.testing.assert_array_equal(values, series.level(number).to_numpy())
                else:
                    np.testing.assert_array_equal(values, halved(previous))
                previous = values
    expected_levels_count = {"pyramid": 3, "rgb": 3, "int8": 2, "float": 3}.get(name, 1)
    assert len(levels) == expected_levels_count


def test_rgb_samples_are_folded_into_c_and_read_together():
    fake = FAKES["rgb"]
    with bfbridge.open(fake) as image:  # S kept as an axis: the store folds it, as convert does
        assert image.series[0].dims == "TCZYXS"
        store = image.to_zarr_store()
        group = zarr.open_group(store, mode="r")["0"]
        assert group["0"].shape == (2, 3, 1, 1100, 2600) and group["0"].chunks[:3] == (1, 3, 1)
        labels = [c["label"] for c in ome(group)["omero"]["channels"]]
        assert labels == ["C0:R", "C0:G", "C0:B"]
        np.testing.assert_array_equal(group["0"][...], folded(image.series[0].to_numpy()))
        store.close()  # closes the folded view it opened, not the caller's file
        assert image.series[0][0, 0, 0, 0, 0].shape == (3,)


def test_computed_levels_equal_convert_output_with_odd_edges(tmp_path):
    """2501 x 2111: every level ends in an odd row or column, computed from chunks of the level above."""
    fake = "odd&sizeX=2501&sizeY=2111&sizeZ=2&sizeC=2&pixelType=uint16.fake"
    converted = zarr.open_group(bfbridge.convert(fake, tmp_path / "odd.ome.zarr"), mode="r")
    with bfbridge.open(fake) as image:
        virtual = zarr.open_group(image.to_zarr_store(), mode="r")
        shapes = [virtual[f"0/{n}"].shape[3:] for n in range(3)]
        assert shapes == [(2111, 2501), (1056, 1251), (528, 626)]
        for number in range(3):
            np.testing.assert_array_equal(virtual[f"0/{number}"][...], converted[f"0/{number}"][...])
        ours, theirs = ome(virtual["0"]), ome(converted["0"])
        for channel in (*ours["omero"]["channels"], *theirs["omero"]["channels"]):
            del channel["window"]  # convert's covers every pixel, the store's one plane
        assert ours == theirs


def test_series_store_is_one_image_at_the_root():
    fake = FAKES["series"]
    with bfbridge.open(fake) as image:
        store = image.series[1].to_zarr_store()
        root = zarr.open_group(store, mode="r")
        assert ome(root)["multiscales"][0]["name"] == image.series[1].name
        assert "OME" not in root and read(store, "OME/zarr.json") is None
        np.testing.assert_array_equal(root["0"][...], image.series[1].to_numpy())
        assert store != image.series[0].to_zarr_store() and store == image.series[1].to_zarr_store()


def test_edge_chunks_are_stored_full_size_and_padded_with_zeros(tmp_path):
    """1100 x 1300 in 256 x 256 tiles: 1024 x 1024 chunks, the last row and column of chunks padded."""
    data = np.random.default_rng(3).integers(1, 65535, (1100, 1300), dtype=np.uint16)
    path = tmp_path / "edge.ome.tif"
    tifffile.imwrite(path, data, ome=True, tile=(256, 256))
    with bfbridge.open(path) as image:
        store = image.to_zarr_store()
        array = zarr.open_group(store, mode="r")["0/0"]
        assert array.chunks == (1, 1, 1, 1024, 1024) and array.metadata.codecs[0].to_dict()["name"] == "bytes"
        raw = np.frombuffer(read(store, "0/0/c/0/0/0/1/1").to_bytes(), dtype="<u2").reshape(1024, 1024)
    np.testing.assert_array_equal(raw[:76, :276], data[1024:, 1024:])
    assert not raw[76:].any() and not raw[:, 276:].any()


def test_chunks_follow_the_reader_tiles(tmp_path):
    data = np.random.default_rng(1).integers(0, 65535, (2, 1500, 2600), dtype=np.uint16)
    expected = {"tile": (1, 1, 1, 1024, 1024), "rowsperstrip": (1, 1, 1, 1024, 2600)}
    for option, value in (("tile", (256, 256)), ("rowsperstrip", 64)):
        path = tmp_path / f"{option}.ome.tif"
        tifffile.imwrite(path, data, ome=True, metadata={"axes": "ZYX"}, **{option: value})
        with bfbridge.open(path) as image:
            root = zarr.open_group(image.to_zarr_store(), mode="r")
            assert root["0/0"].chunks == expected[option]
            assert root["0/1"].chunks == (1, 1, 1, 750, 1024 if option == "tile" else 1300)
            np.testing.assert_array_equal(root["0/0"][...], data[None, None])


@pytest.mark.parametrize(
    ("shape", "tile", "step", "itemsize", "chunk"),
    [
        ((1, 1, 1, 3000, 3000), (256, 256), 1, 2, (1, 1, 1, 1024, 1024)),
        ((1, 3, 1, 3000, 3000), (240, 240), 3, 1, (1, 3, 1, 1200, 1200)),  # whole SVS tiles past 1024
        ((1, 1, 1, 500, 700), (500, 700), 1, 8, (1, 1, 1, 500, 700)),  # a small plane: one chunk
        ((1, 1, 1, 50000, 40000), (1, 40000), 1, 2, (1, 1, 1, 512, 40000)),  # strips, cut to 64 MiB
        ((1, 1, 1, 8, 100000000), (8, 100000000), 1, 8, (1, 1, 1, 1, 6250000)),  # one huge row, halved
    ],
)
def test_chunk_shape_grows_whole_tiles_and_stays_bounded(shape, tile, step, itemsize, chunk):
    assert chunk_shape(shape, tile, step, itemsize) == chunk
    assert np.prod(chunk) * itemsize <= MAX_CHUNK_BYTES


@pytest.mark.parametrize("compression", ["blosc-lz4", "zstd", "gzip"])
def test_a_cheap_codec_on_request(compression):
    with bfbridge.open("codec&sizeX=300&sizeY=200&sizeC=2&pixelType=uint16.fake") as image:
        store = image.to_zarr_store(compression=compression)
        array = zarr.open_group(store, mode="r")["0/0"]
        names = [codec.to_dict()["name"] for codec in array.metadata.codecs]
        assert names == ["bytes", compression.split("-")[0]]
        np.testing.assert_array_equal(array[...], image.series[0].to_numpy())
        encoded = read(store, "0/0/c/0/1/0/0/0").to_bytes()
        assert asyncio.run(store.getsize("0/0/c/0/1/0/0/0")) == len(encoded) < 300 * 200 * 2


# ---------------------------------------------------------------------------- other readers


def test_xarray_opens_a_level_and_ome_zarr_models_the_layout():
    import xarray as xr
    from ome_zarr_models import open_ome_zarr
    from ome_zarr_models.v05.bioformats2raw import BioFormats2Raw
    from ome_zarr_models.v05.image import Image

    with bfbridge.open(FAKES["float"]) as image:
        store = image.to_zarr_store()
        dataset = xr.open_zarr(store, group="0", consolidated=False, drop_variables=["1", "2"])
        assert dataset["0"].dims == ("t", "c", "z", "y", "x")
        np.testing.assert_array_equal(dataset["0"].values, image.series[0].to_numpy())
        layout = BioFormats2Raw.from_zarr(zarr.open_group(store, mode="r"))  # open_ome_zarr 1.7 skips 0.5 layouts
        assert layout.ome_attributes.bioformats2raw_layout == 3
        model = open_ome_zarr(zarr.open_group(store, mode="r", path="0"))
        assert isinstance(model, Image) and len(model.ome_attributes.multiscales[0].datasets) == 3


# ---------------------------------------------------------------------------- store protocol


def test_listing_follows_the_layout():
    async def listed(store):
        return (
            sorted([k async for k in store.list_dir("")]),
            sorted([k async for k in store.list_dir("0/0/")]),
            sorted([k async for k in store.list_dir("0/0/c/0/1/0/")]),
            [k async for k in store.list_prefix("0/0/c/0/1")],
            [k async for k in store.list()],
            (await store.is_empty(""), await store.is_empty("0/0/c/0/1"), await store.is_empty("0/5")),
        )

    with bfbridge.open("list&sizeX=300&sizeY=200&sizeC=2.fake") as image:
        root_names, level_names, rows, prefixed, every, empty = asyncio.run(listed(image.to_zarr_store()))
    assert root_names == ["0", "OME", "zarr.json"] and level_names == ["c", "zarr.json"] and rows == ["0"]
    assert prefixed == ["0/0/c/0/1/0/0/0"]
    assert every == [
        "zarr.json", "OME/zarr.json", "OME/METADATA.ome.xml", "0/zarr.json",
        "0/0/zarr.json", "0/0/c/0/0/0/0/0", "0/0/c/0/1/0/0/0",
    ]  # fmt: skip
    assert empty == (False, False, True)


def test_missing_keys_are_absent_not_errors():
    with bfbridge.open("missing&sizeX=300&sizeY=200&sizeC=2.fake") as image:
        store = image.to_zarr_store()
        for key in ("nope", "0/0/c/0/2/0/0/0", "0/0/c/0/01/0/0/0", "0/3/zarr.json", "1/zarr.json", "0/0/c/0/0/0/0"):
            assert read(store, key) is None
            assert asyncio.run(store.exists(key)) is False
        with pytest.raises(FileNotFoundError):
            asyncio.run(store.getsize("0/0/c/9/0/0/0/0"))
        assert asyncio.run(store.exists("0/0/c/0/1/0/0/0")) is True
        assert asyncio.run(store.getsize("0/0/c/0/1/0/0/0")) == 300 * 200


def test_writes_raise_a_clear_error():
    fake = "write&sizeX=30&sizeY=20.fake"
    with bfbridge.open(fake) as image:
        store = image.to_zarr_store()
        array = zarr.open_group(store, mode="r")["0/0"]
        with pytest.raises(ReadOnlyStoreError) as error:
            array[0, 0, 0, 0, 0] = 1
        assert str(error.value) == (
            f"cannot write '0/0/c/0/0/0/0/0': the OME-Zarr store of {fake} is a read-only view of the file; "
            f"to get a writable OME-Zarr, convert it: bfbridge.convert({fake!r}, 'out.ome.zarr')"
        )
        assert isinstance(error.value, PermissionError)
        with pytest.raises(ValueError, match="Store is read-only but mode is 'w'"):
            zarr.open_group(store, mode="w")
        with pytest.raises(ReadOnlyStoreError, match="cannot clear the store"):
            asyncio.run(store.clear())
        with pytest.raises(ReadOnlyStoreError, match="cannot open it for writing"):
            store.with_read_only(False)
        assert store.read_only and not store.supports_writes and store.with_read_only(True) is store


def test_bad_options_and_unreadable_files(tmp_path):
    codecs = "compression must be one of blosc-zstd, blosc-lz4, zstd, gzip, none"
    with bfbridge.open("opts&sizeX=30&sizeY=20.fake") as image, pytest.raises(ValueError, match=codecs):
        image.to_zarr_store(compression="lzw")
    junk = tmp_path / "junk.czi"
    junk.write_bytes(b"not a CZI at all" * 10)
    with pytest.raises(bfbridge.FormatError):
        bfbridge.open(junk).to_zarr_store()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junk.czi"]


def test_pickles_small_and_reopens_lazily():
    with bfbridge.open(FAKES["rgb"]) as image:
        store = image.to_zarr_store()
        payload = pickle.dumps(store)
        assert len(payload) < 2000 and b"numpy" not in payload
        copy = pickle.loads(payload)
        assert copy == store and hash(copy) == hash(store)
        np.testing.assert_array_equal(
            zarr.open_group(copy, mode="r")["0/1"][...], zarr.open_group(store, mode="r")["0/1"][...]
        )


@pytest.mark.slow
def test_dask_workers_read_the_store():
    distributed = pytest.importorskip("distributed")
    import dask.array as da

    fake = FAKES["series"]
    with (
        distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster,
        distributed.Client(cluster) as client,
        bfbridge.open(fake) as image,
    ):
        root = zarr.open_group(image.to_zarr_store(), mode="r")
        lazy = da.from_zarr(root["2/0"])
        with distributed.get_task_stream(client) as tasks:
            data = lazy.compute()
        np.testing.assert_array_equal(data, image.series[2].to_numpy())
        assert {task["worker"] for task in tasks.data} <= set(client.scheduler_info()["workers"]) and tasks.data

        def shape_on_worker(store) -> tuple:
            return zarr.open_group(store, mode="r")["1/0"].shape

        assert client.submit(shape_on_worker, image.to_zarr_store()).result() == image.series[1].shape


# ---------------------------------------------------------------------------- remote sources


@pytest.fixture
def small_tiff(tmp_path):
    data = np.random.default_rng(7).integers(0, 65535, (3, 2, 130, 170), dtype=np.uint16)
    path = tmp_path / "remote.ome.tif"
    tifffile.imwrite(path, data, ome=True, metadata={"axes": "ZCYX"})
    return path, data


def _check_remote(url: str, data: np.ndarray) -> None:
    with bfbridge.open(url) as image:
        root = zarr.open_group(image.to_zarr_store(), mode="r")
        np.testing.assert_array_equal(root["0/0"][...], np.moveaxis(data, 0, 1)[None])


def test_memory_url_source(small_tiff):
    import fsspec

    path, data = small_tiff
    memory = fsspec.filesystem("memory")
    memory.pipe("/virtual-zarr/remote.ome.tif", path.read_bytes())
    try:
        _check_remote("memory://virtual-zarr/remote.ome.tif", data)
    finally:
        memory.rm("/virtual-zarr", recursive=True)


def test_http_url_source(small_tiff):
    path, data = small_tiff
    with serve_directory(path.parent) as (base, served):
        _check_remote(f"{base}/{path.name}", data)
        assert served.total > 0
