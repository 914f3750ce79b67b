"""Reading synthetic images (Bio-Formats .fake ids and tifffile-written OME-TIFFs) exactly."""

from __future__ import annotations

import json
import pickle
import random
import threading
from pathlib import Path

import dask
import numpy as np
import ome_types
import pytest
import tifffile
import xarray as xr

import bfbridge
from bfbridge import pixels
from bfbridge.reader import Series, serial_reads
from tests.reference import read_reference

PIXEL_TYPES = ["int8", "uint8", "int16", "uint16", "int32", "uint32", "float", "double", "bit"]
NUMPY = {"float": "float32", "double": "float64", "bit": "uint8"}


def fake(**keys) -> str:
    return "img&" + "&".join(f"{k}={v}" for k, v in keys.items()) + ".fake"


@pytest.mark.parametrize("pixel_type", PIXEL_TYPES)
def test_every_pixel_type_equals_bioformats(pixel_type):
    path = fake(sizeX=33, sizeY=17, sizeZ=2, sizeC=2, sizeT=2, pixelType=pixel_type)
    data = bfbridge.imread(path)
    assert data.dtype == np.dtype(NUMPY.get(pixel_type, pixel_type))
    assert data.shape == (2, 2, 2, 17, 33)
    assert data.flags.c_contiguous and data.flags.writeable and data.dtype.isnative
    np.testing.assert_array_equal(data, read_reference(path))


@pytest.mark.parametrize("interleaved", ["true", "false"])
def test_rgb_interleaved_and_planar(interleaved):
    path = fake(sizeX=40, sizeY=30, sizeC=6, rgb=3, sizeT=2, pixelType="uint16", interleaved=interleaved)
    with bfbridge.open(path) as image:
        series = image.series[0]
        assert series.dims == "TCZYXS" and series.shape == (2, 2, 1, 30, 40, 3)
        assert series.is_rgb and series.samples == 3
        data = series.to_numpy()
    np.testing.assert_array_equal(data, read_reference(path))


def test_fold_rgb_moves_samples_into_channels():
    path = fake(sizeX=24, sizeY=12, sizeC=6, rgb=3, interleaved="true")
    canonical = bfbridge.imread(path)
    with bfbridge.open(path, fold_rgb=True) as image:
        series = image.series[0]
        assert series.dims == "TCZYX" and series.shape == (1, 6, 1, 12, 24)
        assert series.chunks[1] == 3  # one chunk = one openBytes of all three samples
        folded = series.to_numpy()
        np.testing.assert_array_equal(series[0, 4], canonical[0, 1, ..., 1])
    np.testing.assert_array_equal(folded, np.moveaxis(canonical, -1, 2).reshape(1, 6, 1, 12, 24))


def test_fold_rgb_leaves_single_sample_series_alone():
    path = fake(sizeX=20, sizeY=10, sizeC=3, sizeZ=2)
    with bfbridge.open(path, fold_rgb=True) as image:
        series = image.series[0]
        assert series.dims == "TCZYX" and series.shape == (1, 3, 2, 10, 20) and series.chunks[1] == 1
        np.testing.assert_array_equal(series.to_numpy(), read_reference(path))


@pytest.mark.parametrize("pixel_type", ["uint16", "int32", "float", "double"])
def test_byte_order_is_native_either_way(pixel_type):
    little = bfbridge.imread(fake(sizeX=20, sizeY=10, sizeZ=3, pixelType=pixel_type, little="true"))
    big = bfbridge.imread(fake(sizeX=20, sizeY=10, sizeZ=3, pixelType=pixel_type, little="false"))
    assert big.dtype.isnative and little.dtype.isnative
    np.testing.assert_array_equal(little, big)
    np.testing.assert_array_equal(
        big, read_reference(fake(sizeX=20, sizeY=10, sizeZ=3, pixelType=pixel_type, little="false"))
    )


def test_several_series_switch_without_reopening():
    path = fake(sizeX=16, sizeY=8, sizeZ=2, series=4)
    with bfbridge.open(path) as image:
        assert len(image.series) == 4
        for series in image.series:
            np.testing.assert_array_equal(series.to_numpy(), read_reference(path, series.index))
        assert image.readers_open <= image.pool_size


def test_pyramid_levels():
    path = fake(sizeX=256, sizeY=128, sizeC=2, resolutions=3, physicalSizeX=0.5, physicalSizeY=0.5)
    with bfbridge.open(path) as image:
        series = image.series[0]
        assert series.resolution_count == 3
        assert [lvl.shape[3:] for lvl in series.levels] == [(128, 256), (64, 128), (32, 64)]
        assert series.level(-1).level_index == 2
        assert series.level(2).physical_size["X"].value == pytest.approx(2.0)
        for level in range(3):
            np.testing.assert_array_equal(series.level(level).to_numpy(), read_reference(path, 0, level))
        with pytest.raises(IndexError, match="3 resolution level"):
            series.level(3)


@pytest.mark.parametrize("order", ["XYZCT", "XYZTC", "XYCTZ", "XYTCZ", "XYTZC", "XYCZT"])
def test_dimension_orders(order):
    path = fake(sizeX=9, sizeY=7, sizeZ=3, sizeC=2, sizeT=4, dimOrder=order)
    with bfbridge.open(path) as image:
        series = image.series[0]
        assert series.dimension_order == order and series.shape == (4, 2, 3, 7, 9)
        np.testing.assert_array_equal(series.to_numpy(), read_reference(path))


def test_palette_images_give_colours_by_default():
    path = fake(sizeX=32, sizeY=16, sizeT=3, indexed="true", falseColor="false")
    raw_reference = read_reference(path)
    with bfbridge.open(path) as image:
        series = image.series[0]
        assert series.indexed and not series.false_color
        assert series.dims == "TCZYXS" and series.shape == (3, 1, 1, 16, 32, 3)
        colours = series.to_numpy()
        table = series.lookup_table
    assert table.shape[0] == 3 and table.dtype == np.uint8
    np.testing.assert_array_equal(colours, table[:3].T[raw_reference])
    with bfbridge.open(path, apply_lut=False) as image:
        np.testing.assert_array_equal(image.series[0].to_numpy(), raw_reference)


def test_sixteen_bit_palettes_give_sixteen_bit_colours():
    path = fake(sizeX=32, sizeY=16, pixelType="uint16", indexed="true", falseColor="false")
    with bfbridge.open(path) as image:
        series = image.series[0]
        assert series.dtype == np.uint16 and series.shape == (1, 1, 1, 16, 32, 3)
        table = series.lookup_table
        assert table.dtype == np.uint16
        np.testing.assert_array_equal(series.to_numpy(), table[:3].T[read_reference(path)])


@pytest.mark.parametrize("pixel_type", ["int8", "int16"])
def test_palette_without_a_colour_table_gives_indices_with_a_warning(pixel_type):
    """Bio-Formats' fake signed palettes carry no table: raw indices, not an error on every read."""
    path = fake(sizeX=32, sizeY=16, pixelType=pixel_type, indexed="true", falseColor="false")
    with pytest.warns(bfbridge.MetadataWarning, match="palette image without a colour table"):
        image = bfbridge.open(path)
    with image:
        series = image.series[0]
        assert series.indexed and series.dims == "TCZYX" and series.dtype == np.dtype(pixel_type)
        np.testing.assert_array_equal(series.to_numpy(), read_reference(path))


def test_false_colour_tables_never_change_pixels():
    path = fake(sizeX=32, sizeY=16, indexed="true", falseColor="true")
    with bfbridge.open(path) as image:
        series = image.series[0]
        assert series.dims == "TCZYX" and series.lookup_table is not None
        np.testing.assert_array_equal(series.to_numpy(), read_reference(path))


def test_region_reads_equal_slices_of_full_reads():
    with bfbridge.open(fake(sizeX=61, sizeY=37, sizeZ=3, sizeC=2, sizeT=2, pixelType="int16")) as image:
        series = image.series[0]
        full = series.to_numpy()
        rng = random.Random(4)

        def axis_key(n):
            kind = rng.randrange(4)
            if kind == 0:
                return slice(None)
            if kind == 1:
                return rng.randrange(-n, n)
            if kind == 2:
                return slice(rng.randrange(-n, n), None)
            return slice(rng.randint(-n - 2, n + 2), rng.randint(-n - 2, n + 2), rng.choice([1, 2, 5, -1, -3]))

        for _ in range(400):
            key = tuple(axis_key(n) for n in series.shape)
            np.testing.assert_array_equal(series[key], full[key], err_msg=str(key))
        np.testing.assert_array_equal(series[..., 5:9, -3:], full[..., 5:9, -3:])
        assert series[1, 0, 2, 3, 4] == full[1, 0, 2, 3, 4]
        with pytest.raises(IndexError):
            series[2]
        with pytest.raises(IndexError):
            series[0, 0, 0, 0, 0, 0]
        with pytest.raises(IndexError, match="basic indexing"):
            series[0, [0, 1]]


def test_dask_and_xarray_equal_numpy():
    path = fake(
        sizeX=48, sizeY=32, sizeZ=4, sizeC=2, sizeT=3, physicalSizeX=0.25, physicalSizeY=0.25, physicalSizeZ=1.5
    )
    with bfbridge.open(path) as image:
        series = image.series[0]
        full = series.to_numpy()
        array = series.to_dask()
        assert array.chunksize == (1, 1, 1, 32, 48) and array.npartitions == 24
        np.testing.assert_array_equal(array.compute(scheduler="threads"), full)
        np.testing.assert_array_equal(array[1:, :, ::2].compute(scheduler="synchronous"), full[1:, :, ::2])
        assert series.to_dask().name == array.name  # deterministic task names
        data = series.to_xarray()
        assert data.dims == ("T", "C", "Z", "Y", "X")
        np.testing.assert_array_equal(data.values, full)
        assert data.coords["X"].attrs["units"] == "µm"
        np.testing.assert_allclose(data.coords["Z"].values, [0, 1.5, 3.0, 4.5])
        np.testing.assert_allclose(data.coords["X"].values[:3], [0, 0.25, 0.5])
        assert isinstance(data.attrs["ome"], ome_types.OME)
        assert data.attrs["path"] == image.path
        eager = series.to_xarray(lazy=False)
        assert isinstance(eager.data, np.ndarray) and eager.identical(data.compute())


def test_to_numpy_reads_in_parallel_through_the_pool():
    path = fake(sizeX=64, sizeY=64, sizeZ=8, sleepOpenBytes=150)
    with bfbridge.open(path, max_workers=4) as image:
        series = image.series[0]
        data = series.to_numpy()
        assert image.readers_open == 4  # four readers were needed at once
        np.testing.assert_array_equal(data, read_reference(fake(sizeX=64, sizeY=64, sizeZ=8)))
    with bfbridge.open(path, max_workers=1) as image:
        image.series[0].to_numpy()
        assert image.readers_open == 1


def test_serial_reads_keep_a_multi_plane_read_on_the_calling_thread(monkeypatch):
    """The converter's block runner is the parallel layer; its blocks must not fan out again."""
    threads = set()
    real = Series._run

    def recording(self, job):
        threads.add(threading.current_thread().name)
        return real(self, job)

    monkeypatch.setattr(Series, "_run", recording)
    path = fake(sizeX=32, sizeY=16, sizeZ=8)
    with bfbridge.open(path, max_workers=2) as image:
        expected = read_reference(path)
        np.testing.assert_array_equal(image.series[0].to_numpy(), expected)
        assert threads and all(name.startswith("bfbridge-read") for name in threads)
        threads.clear()
        with serial_reads():
            np.testing.assert_array_equal(image.series[0].to_numpy(), expected)
        assert threads == {threading.current_thread().name}


def test_big_planes_are_read_in_strips(monkeypatch):
    path = fake(sizeX=1500, sizeY=1100, pixelType="uint16", rgb=3, sizeC=3)
    reference = read_reference(path)
    calls = []
    real = pixels.read_region

    def counting(*args, **kwargs):
        calls.append(args[6:8])  # width, height of each openBytes
        return real(*args, **kwargs)

    monkeypatch.setattr(pixels, "tile_budget", lambda workers: 1 << 20)  # 1 MiB per openBytes
    monkeypatch.setattr(pixels, "read_region", counting)
    data = bfbridge.imread(path)
    np.testing.assert_array_equal(data, reference)
    assert len(calls) > 1 and all(w * h * 3 * 2 <= 1 << 20 for w, h in calls)


def _count_reads(monkeypatch) -> list:
    calls = []
    real = pixels.read_region

    def counting(reader, buffers, layout, plane, x, y, width, height, out=None):
        calls.append((plane, x, y, width, height))
        return real(reader, buffers, layout, plane, x, y, width, height, out)

    monkeypatch.setattr(pixels, "read_region", counting)
    return calls


def test_slicing_reads_only_the_planes_and_rectangle_it_needs(monkeypatch):
    path = fake(sizeX=200, sizeY=150, sizeZ=4, sizeC=3, sizeT=2, dimensionOrder="XYZCT")
    reference = read_reference(path)
    calls = _count_reads(monkeypatch)
    with bfbridge.open(path) as image:
        series = image.series[0]
        np.testing.assert_array_equal(series[1, 2, 3, 100:120, 50:60], reference[1, 2, 3, 100:120, 50:60])
        assert calls == [((1 * 3 + 2) * 4 + 3, 50, 100, 10, 20)]  # one openBytes: that plane, that rectangle
        calls.clear()
        np.testing.assert_array_equal(series[-1, ::2, 1, 7, -30::3], reference[-1, ::2, 1, 7, -30::3])
        assert sorted(calls) == [((1 * 3 + c) * 4 + 1, 170, 7, 28, 1) for c in (0, 2)]


def test_one_dask_chunk_is_one_openbytes_call(monkeypatch):
    path = fake(sizeX=64, sizeY=48, sizeZ=3, sizeC=2)
    calls = _count_reads(monkeypatch)
    with bfbridge.open(path) as image:
        array = image.series[0].to_dask()
        assert array.numblocks == (1, 2, 3, 1, 1)
        np.testing.assert_array_equal(array.compute(scheduler="threads"), read_reference(path))
    assert len(calls) == 6 and {c[1:] for c in calls} == {(0, 0, 64, 48)}


def test_pickle_round_trip_reopens_lazily():
    path = fake(sizeX=20, sizeY=10, sizeZ=3, series=2)
    with bfbridge.open(path) as image:
        series = image.series[1]
        expected = series.to_numpy()
        payload = pickle.dumps(series.to_dask())
        assert len(payload) < 10_000  # no pixels, no Java objects
        clone = pickle.loads(pickle.dumps(series))
        np.testing.assert_array_equal(clone.to_numpy(), expected)
    np.testing.assert_array_equal(pickle.loads(payload).compute(), expected)


def test_closed_file_raises_a_clear_error_but_keeps_metadata():
    image = bfbridge.open(fake(sizeX=8, sizeY=8, sizeZ=2))
    series = image.series[0]
    array = series.to_dask()
    image.close()
    image.close()  # twice is fine
    assert series.shape == (1, 1, 2, 8, 8)
    with pytest.raises(bfbridge.FileClosedError, match="is closed"):
        series.to_numpy()
    with pytest.raises(bfbridge.FileClosedError):
        array.compute()
    assert image.readers_open == 0


def test_ome_and_original_metadata():
    with bfbridge.open(fake(sizeX=8, sizeY=8, sizeC=2, series=2)) as image:
        assert image.format == "Simulated data" and image.reader == "FakeReader"
        assert isinstance(image.ome, ome_types.OME) and len(image.ome.images) == 2
        assert image.ome.images[1].pixels.size_c == 2
        assert image.ome is image.ome  # parsed once
        assert "<OME" in image.ome_xml
        metadata = image.original_metadata
        assert set(metadata) == {"global", "series"} and len(metadata["series"]) == 2


def test_dask_threaded_scheduler_is_truly_parallel():
    with bfbridge.open(fake(sizeX=32, sizeY=32, sizeZ=8, sleepOpenBytes=200), max_workers=4) as image:
        with dask.config.set(scheduler="threads", num_workers=4):
            image.series[0].to_dask().sum().compute()
        assert image.readers_open == 4


# ---------------------------------------------------------------------------- OME-TIFF round trips


def test_ome_tiff_written_by_tifffile_round_trips(tmp_path):
    tifffile = pytest.importorskip("tifffile")
    rng = np.random.default_rng(1)
    data = rng.integers(0, 60000, size=(2, 3, 4, 50, 70), dtype=np.uint16)
    path = tmp_path / "stack.ome.tif"
    tifffile.imwrite(
        path,
        data,
        ome=True,
        metadata={
            "axes": "TCZYX",
            "PhysicalSizeX": 0.2,
            "PhysicalSizeY": 0.3,
            "PhysicalSizeZ": 1.0,
            "Channel": {"Name": ["DAPI", "GFP", "RFP"]},
        },
    )
    with bfbridge.open(path) as image:
        series = image.series[0]
        assert image.reader == "OMETiffReader"
        assert series.channel_names == ("DAPI", "GFP", "RFP")
        assert series.physical_size["Y"] == bfbridge.Quantity(0.3, "µm")
        np.testing.assert_array_equal(series.to_numpy(), data)
        np.testing.assert_array_equal(series[1, 2, 3, 10:20, 5:9], data[1, 2, 3, 10:20, 5:9])
        assert list(series.to_xarray().coords["C"].values) == ["DAPI", "GFP", "RFP"]


def test_modulo_annotations_are_exposed(tmp_path):
    tifffile = pytest.importorskip("tifffile")
    data = np.arange(4 * 6 * 5, dtype=np.uint8).reshape(1, 4, 1, 6, 5)
    path = tmp_path / "flim.ome.tif"
    tifffile.imwrite(path, data, ome=True, metadata={"axes": "TCZYX"})
    with tifffile.TiffFile(path) as tif:
        xml = tif.ome_metadata
    modulo = (
        '<StructuredAnnotations><XMLAnnotation ID="Annotation:Modulo:0" '
        'Namespace="openmicroscopy.org/omero/dimension/modulo"><Value>'
        '<Modulo namespace="http://www.openmicroscopy.org/Schemas/Additions/2011-09">'
        '<ModuloAlongC Type="lifetime" Unit="ps" Start="0" Step="500" End="1500"/></Modulo>'
        "</Value></XMLAnnotation></StructuredAnnotations>"
    )
    xml = xml.replace("</Image>", '<AnnotationRef ID="Annotation:Modulo:0"/></Image>', 1).replace(
        "</OME>", modulo + "</OME>"
    )
    tifffile.tiffcomment(path, xml.encode())
    with bfbridge.open(path) as image:
        modulo_c = image.series[0].modulo["C"]
    assert modulo_c["type"] == "lifetime" and modulo_c["unit"] == "ps"
    assert modulo_c["length"] == 4 and modulo_c["step"] == 500.0


# ---------------------------------------------------------------------------- errors


def test_series_out_of_range_names_the_series_count():
    with bfbridge.open(fake(sizeX=8, sizeY=8, series=2)) as image:
        with pytest.raises(IndexError, match=r"the file has 2 series \(0 to 1\); there is no series 2"):
            image.series[2]
        assert image.series[-1].index == 1


def test_group_files_false_opens_one_file_of_a_multi_file_set(tmp_path):
    """A companion OME-TIFF set: grouped, every file is used; ungrouped, only the one opened."""
    planes = np.arange(3 * 16 * 24, dtype=np.uint16).reshape(3, 16, 24)
    uuids = [f"urn:uuid:00000000-0000-4000-8000-00000000000{i}" for i in range(3)]
    tiffdata = "".join(
        f'<TiffData FirstZ="{z}" IFD="0" PlaneCount="1"><UUID FileName="part{z}.ome.tif">{uuids[z]}</UUID></TiffData>'
        for z in range(3)
    )
    for z in range(3):
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?><OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06" '
            f'UUID="{uuids[z]}"><Image ID="Image:0"><Pixels ID="Pixels:0" DimensionOrder="XYZCT" Type="uint16" '
            'SizeX="24" SizeY="16" SizeZ="3" SizeC="1" SizeT="1"><Channel ID="Channel:0:0" SamplesPerPixel="1"/>'
            f"{tiffdata}</Pixels></Image></OME>"
        )
        tifffile.imwrite(tmp_path / f"part{z}.ome.tif", planes[z], description=xml, metadata=None)
    first = tmp_path / "part0.ome.tif"
    with bfbridge.open(first) as grouped:
        assert sorted(Path(f).name for f in grouped.used_files) == ["part0.ome.tif", "part1.ome.tif", "part2.ome.tif"]
        np.testing.assert_array_equal(grouped.series[0].to_numpy()[0, 0], planes)
    with bfbridge.open(first, group_files=False) as alone:
        assert [Path(f).name for f in alone.used_files] == ["part0.ome.tif"]
        assert alone.series[0].to_numpy().reshape(-1, 16, 24)[0].tolist() == planes[0].tolist()
    (tmp_path / "part2.ome.tif").unlink()  # a missing companion is an error, never a silently partial image
    with pytest.raises(bfbridge.FormatError, match=r"part2\.ome\.tif"):
        bfbridge.open(first)


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError) as raised:
        bfbridge.open(tmp_path / "absent.czi")
    assert raised.value.filename == str(tmp_path / "absent.czi")


def test_directory_is_unsupported(tmp_path):
    folder = tmp_path / "looks_like.czi"
    folder.mkdir()
    with pytest.raises(bfbridge.UnsupportedFormatError, match="is a directory"):
        bfbridge.open(folder)


@pytest.mark.parametrize("name", ["empty.tif", "empty.czi", "empty.png"])
def test_empty_file_is_a_format_error(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"")
    with pytest.raises(bfbridge.FormatError):
        bfbridge.open(path)


@pytest.mark.parametrize("name", ["notes.tif", "notes.nd2", "notes.czi"])
def test_text_named_like_an_image_is_a_format_error(tmp_path, name):
    path = tmp_path / name
    path.write_text("This is not an image.\n" * 100)
    with pytest.raises(bfbridge.FormatError):
        bfbridge.open(path)


@pytest.mark.parametrize("keep", [10, 16])
def test_truncated_headers_are_format_errors(tmp_path, keep):
    tifffile = pytest.importorskip("tifffile")
    path = tmp_path / "cut.ome.tif"
    tifffile.imwrite(path, np.ones((5, 200, 200), np.uint16), ome=True, metadata={"axes": "ZYX"})
    path.write_bytes(path.read_bytes()[:keep])  # the IFD and its OME-XML are cut off
    with pytest.raises(bfbridge.FormatError) as raised:
        bfbridge.open(path)
    assert raised.value.path == str(path)


def test_truncated_ome_xml_is_a_format_error(tmp_path):
    path = tmp_path / "cut.ome.xml"
    xml = bfbridge.open(fake(sizeX=4, sizeY=4)).ome_xml
    path.write_text(xml[: len(xml) // 2])
    with pytest.raises(bfbridge.FormatError, match=r"cut\.ome\.xml"):
        bfbridge.open(path)


def test_xarray_is_a_dataarray():
    data = bfbridge.open(fake(sizeX=4, sizeY=4)).series[0].to_xarray()
    assert isinstance(data, xr.DataArray)


# ---------------------------------------------------------------------------- memoization and series switching


def test_memo_files_go_to_the_cache_and_make_reopening_load_them(python, corpus, tmp_path, bundle_jar):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    source = data_dir / "cells.czi"
    source.write_bytes((corpus / "czi/CD_s_1_t_3_c_2_z_5.czi").read_bytes())
    before = sorted(p.name for p in data_dir.iterdir())
    cache = tmp_path / "cache"
    code = f"""
        import json, hashlib, bfbridge
        states = []
        for _ in range(2):
            with bfbridge.open({str(source)!r}, memoize=0, max_workers=2) as image:
                data = image.series[0].to_numpy()   # two readers: the second one is made from the memo
                pool = image._state().pool
                extra = [r.java.isLoadedFromMemo() for r in pool._idle]
                states.append([image.memo, extra, hashlib.sha256(data.tobytes()).hexdigest()])
        print(json.dumps(states))
    """
    result = python(code, env={"BFBRIDGE_CACHE_DIR": str(cache), "BFBRIDGE_JARS": str(bundle_jar)})
    first, second = json.loads(result.stdout)
    assert first[0] == "saved" and second[0] == "loaded"
    assert sorted(first[1]) == [False, True]  # the first reader parsed the file, the extra one loaded the memo
    assert first[2] == second[2] == "cb16baba42c7039e96d79c6d7d4f799906a69877a115975d39d192279578f005"
    assert sorted(p.name for p in data_dir.iterdir()) == before  # nothing written beside the data
    assert list((cache / "memo").rglob("*.bfmemo"))


def test_switching_through_many_series_keeps_one_reader(tmp_path):
    tifffile = pytest.importorskip("tifffile")
    path = tmp_path / "plate.ome.tif"
    with tifffile.TiffWriter(path, ome=True) as writer:
        for index in range(60):
            writer.write(np.full((2, 8, 8), index, np.uint8), metadata={"axes": "CYX", "Name": f"well {index}"})
    with bfbridge.open(path, max_workers=1) as image:
        assert len(image.series) == 60
        values = [int(series[0, 1, 0, 3, 3]) for series in image.series]
        names = [series.name for series in image.series]
        assert image.readers_open == 1
    assert values == list(range(60))
    assert names == [f"well {i}" for i in range(60)]


def test_quick_opens_leave_no_memo_folders(python, tmp_path, bundle_jar):
    """Thousands of small files must not leave thousands of empty folders in the cache."""
    image = tmp_path / "data" / "small.tif"
    image.parent.mkdir()
    tifffile.imwrite(image, np.arange(3 * 16 * 16, dtype=np.uint16).reshape(3, 16, 16), photometric="minisblack")
    cache = tmp_path / "cache"
    code = f"""
        import json, bfbridge
        # memoize=10_000: only opens slower than 10 s are memoized, as a quick file's is not
        with bfbridge.open({str(image)!r}, max_workers=2, memoize=10_000) as f:
            data = f.series[0].to_numpy()  # with two readers: the second one has no Memoizer
            print(json.dumps([f.memo, int(data.sum())]))
    """
    result = python(code, env={"BFBRIDGE_CACHE_DIR": str(cache), "BFBRIDGE_JARS": str(bundle_jar)})
    assert json.loads(result.stdout) == [None, int(np.arange(3 * 16 * 16).sum())]
    assert [p for p in (cache / "memo").rglob("*") if "warm-up" not in p.name] == []
