"""bfbridge.compat.bioformats behaves like python-bioformats 4.x, on corpus files and .fake ids.

Expected planes come from bfbridge's canonical arrays, whose sha256 is checked against
expected.json first, and from python-bioformats' documented shape and scale rules.
"""

from __future__ import annotations

import errno
import hashlib

import imagecodecs
import numpy as np
import ome_types
import pytest
import tifffile

import bfbridge
import bfbridge.compat.bioformats as bioformats
from conftest import EXPECTED

ND2 = "nd2/cluster.nd2"  # T=3 C=2 Z=10, 31×38 uint16, XYCZT, named channels
LIF = "lif/testdata_2channel_xz.lif"  # 3 series, uint8, series 0 is XYCTZ
CZI = "czi/RGB-8bit.czi"  # one interleaved RGB plane, 624×924
TIFF = "tiff/5channel.tif"  # C=5, 64×64 uint8, unnamed channels
GIF = "gif/newtonscradle.gif"  # a true palette image, T=36

#: python-bioformats' rescaling divisor for each pixel type that .fake ids can make.
SCALE_BY_TYPE = [
    ("int8", 255),
    ("uint8", 255),
    ("int16", 65535),
    ("uint16", 65535),
    ("int32", 2**32 - 1),
    ("uint32", 2**32),
    ("float", 1),
    ("double", 1),
    ("bit", 1),
]


def fake(**keys) -> str:
    return "img&" + "&".join(f"{k}={v}" for k, v in keys.items()) + ".fake"


def canonical(corpus, path: str, series: int = 0) -> np.ndarray:
    """The raw TCZYX[S] array of a corpus series, verified against expected.json."""
    entry = EXPECTED[path]
    with bfbridge.open(corpus / path, group_files=entry["group_files"], apply_lut=False) as image:
        data = image.series[series].to_numpy()
    assert hashlib.sha256(data.tobytes()).hexdigest() == entry["series"][series]["sha256"]
    return data


def rescaled(raw: np.ndarray, scale: int) -> np.ndarray:
    """python-bioformats' rescaling: float32 divided by the scale."""
    return raw.astype(np.float32) / float(scale)


def hwc(planes: np.ndarray) -> np.ndarray:
    """C×H×W channel planes as python-bioformats' H×W×C stack."""
    return np.ascontiguousarray(np.moveaxis(planes, 0, -1))


# ---------------------------------------------------------------------- shapes


def test_several_channels_stack_as_hwc_named_by_id_when_unnamed(corpus):
    data = canonical(corpus, TIFF)
    names = ["kept"]
    image, scale = bioformats.load_image(corpus / TIFF, wants_max_intensity=True, channel_names=names)
    assert scale == 255 and image.dtype == np.float32 and image.shape == (64, 64, 5)
    np.testing.assert_array_equal(image, rescaled(hwc(data[0, :, 0]), 255))
    assert names == ["kept", "Channel:0:0", "Channel:0:1", "Channel:0:2", "Channel:0:3", "Channel:0:4"]
    raw = bioformats.load_image(corpus / TIFF, rescale=False)
    assert raw.dtype == np.uint8 and raw.flags.c_contiguous
    np.testing.assert_array_equal(raw, hwc(data[0, :, 0]))


def test_a_given_channel_is_one_plane(corpus):
    data = canonical(corpus, TIFF)
    names = []
    image = bioformats.load_image(corpus / TIFF, c=3, channel_names=names)
    assert image.shape == (64, 64) and image.dtype == np.float32
    np.testing.assert_array_equal(image, rescaled(data[0, 3, 0], 255))
    assert names == []  # python-bioformats only names channels when it stacks them


def test_channels_at_z_and_t_with_their_names(corpus):
    data = canonical(corpus, ND2)
    names = []
    image, scale = bioformats.load_image(corpus / ND2, z=4, t=2, wants_max_intensity=True, channel_names=names)
    assert scale == 65535 and image.shape == (31, 38, 2)
    np.testing.assert_array_equal(image, rescaled(hwc(data[2, :, 4]), 65535))
    assert names == ["5-FAM/pH 9.0", "FM 4-64/2% CHAPS"]
    plane = bioformats.load_image(corpus / ND2, c=1, z=9, t=1, rescale=False)
    assert plane.dtype == np.uint16
    np.testing.assert_array_equal(plane, data[1, 1, 9])


def test_index_reads_raw_planes_in_the_file_dimension_order(corpus):
    data = canonical(corpus, ND2)  # XYCZT: index = c + 2 * (z + 10 * t)
    with bioformats.ImageReader(corpus / ND2) as reader:
        for index in range(60):
            c, z, t = index % 2, index // 2 % 10, index // 20
            np.testing.assert_array_equal(reader.read(index=index, rescale=False), data[t, c, z])
        np.testing.assert_array_equal(reader.read(index=25), rescaled(data[1, 1, 2], 65535))
    series0 = canonical(corpus, LIF)  # XYCTZ: index = c + 2 * t
    np.testing.assert_array_equal(bioformats.load_image(corpus / LIF, index=39, rescale=False), series0[19, 1, 0])


def test_xywh_reads_a_region(corpus):
    data = canonical(corpus, ND2)
    region = bioformats.load_image(corpus / ND2, c=1, z=3, XYWH=(5, 7, 20, 10), rescale=False)
    np.testing.assert_array_equal(region, data[0, 1, 3, 7:17, 5:25])
    with bioformats.ImageReader(corpus / ND2) as reader:
        stack = reader.read(t=2, XYWH=(0, 30, 38, 1))
        np.testing.assert_array_equal(stack, rescaled(hwc(data[2, :, 0, 30:31, :]), 65535))
        by_index = reader.read(index=3, XYWH=(37, 0, 1, 31), rescale=False)
        np.testing.assert_array_equal(by_index, data[0, 1, 1, :, 37:38])


def test_rgb_gives_hw3_and_ignores_c(corpus):
    data = canonical(corpus, CZI)
    image = bioformats.load_image(corpus / CZI)
    assert image.shape == (624, 924, 3)
    np.testing.assert_array_equal(image, rescaled(data[0, 0, 0], 255))
    np.testing.assert_array_equal(bioformats.load_image(corpus / CZI, c=2), image)
    np.testing.assert_array_equal(bioformats.load_image(corpus / CZI, index=0, rescale=False), data[0, 0, 0])


@pytest.mark.parametrize(
    ("keys", "samples"),
    [
        ({"rgb": 3, "sizeC": 3, "interleaved": "false"}, [0, 1, 2]),
        ({"rgb": 4, "sizeC": 4, "interleaved": "true"}, [0, 1, 2]),  # alpha dropped
        ({"rgb": 2, "sizeC": 2, "interleaved": "false"}, [0, 1, None]),  # a zero third sample
    ],
    ids=["planar", "rgba", "two-samples"],
)
def test_rgb_sample_counts(keys, samples):
    path = fake(sizeX=20, sizeY=10, sizeZ=2, pixelType="uint16", **keys)
    data = bfbridge.imread(path)
    image = bioformats.load_image(path, z=1, rescale=False)
    assert image.shape == (10, 20, 3) and image.dtype == np.uint16
    for position, sample in enumerate(samples):
        expected = np.zeros((10, 20), np.uint16) if sample is None else data[0, 0, 1, ..., sample]
        np.testing.assert_array_equal(image[..., position], expected)


def test_true_palette_gives_colours_and_index_gives_raw_indices(corpus):
    indices = canonical(corpus, GIF)
    colours = bfbridge.imread(corpus / GIF)  # palette applied per plane
    image = bioformats.load_image(corpus / GIF, t=5, rescale=False)
    assert image.shape == (150, 200, 3) and image.dtype == np.uint8
    np.testing.assert_array_equal(image, colours[5, 0, 0])
    np.testing.assert_array_equal(bioformats.load_image(corpus / GIF, index=5, rescale=False), indices[5, 0, 0])
    np.testing.assert_array_equal(bioformats.load_image(corpus / GIF, c=0, t=5, rescale=False), indices[5, 0, 0])


def test_false_colour_tables_are_not_applied():
    path = fake(sizeX=16, sizeY=8, indexed="true", falseColor="true")
    image = bioformats.load_image(path, rescale=False)
    assert image.shape == (8, 16)
    np.testing.assert_array_equal(image, bfbridge.imread(path, apply_lut=False)[0, 0, 0])
    palette = fake(sizeX=16, sizeY=8, indexed="true", falseColor="false")
    np.testing.assert_array_equal(bioformats.load_image(palette, rescale=False), bfbridge.imread(palette)[0, 0, 0])


def test_identity_palette_gives_its_indices(tmp_path):
    indices = (np.arange(12 * 20).reshape(12, 20) * 3 % 256).astype(np.uint8)
    grey = np.repeat(np.arange(256, dtype=np.uint8)[:, None], 3, axis=1)
    path = tmp_path / "grey.gif"
    path.write_bytes(imagecodecs.gif_encode(indices, colormap=grey))
    assert bfbridge.imread(path).shape == (1, 1, 1, 12, 20, 3)  # a true palette: bfbridge applies it
    image = bioformats.load_image(path, rescale=False)  # python-bioformats skips identity tables
    assert image.shape == (12, 20)
    np.testing.assert_array_equal(image, indices)


# ---------------------------------------------------------------------- rescaling


@pytest.mark.parametrize(("pixel_type", "scale"), SCALE_BY_TYPE)
def test_rescale_divides_by_the_pixel_type_scale(pixel_type, scale):
    path = fake(sizeX=24, sizeY=6, pixelType=pixel_type)
    raw = bfbridge.imread(path)[0, 0, 0]
    image, reported = bioformats.load_image(path, wants_max_intensity=True)
    assert reported == scale and type(reported) is int
    assert image.dtype == np.float32
    np.testing.assert_array_equal(image, rescaled(raw, scale))
    unscaled, reported = bioformats.load_image(path, rescale=False, wants_max_intensity=True)
    assert reported == scale and unscaled.dtype == raw.dtype
    np.testing.assert_array_equal(unscaled, raw)


def test_max_sample_value_overrides_the_scale(tmp_path):
    stack = np.arange(3 * 8 * 10, dtype=np.uint16).reshape(3, 8, 10) * 13
    stated, plain = tmp_path / "twelve_bit.tif", tmp_path / "plain.tif"
    tifffile.imwrite(stated, stack, photometric="minisblack", extratags=[(281, "H", 1, 4095, True)])
    tifffile.imwrite(plain, stack, photometric="minisblack")
    image, scale = bioformats.load_image(stated, t=2, wants_max_intensity=True)
    assert scale == 4095
    np.testing.assert_array_equal(image, rescaled(stack[2], 4095))
    assert bioformats.load_image(plain, t=2, wants_max_intensity=True)[1] == 65535


@pytest.mark.parametrize(("stated", "scale"), [("1000", 1000), ("n/a", 65535)])
def test_max_sample_value_as_text(tmp_path, caplog, stated, scale):
    ini = tmp_path / "stated.fake.ini"  # FakeReader stores [GlobalMetadata] values as strings
    ini.write_text(f"sizeX=8\nsizeY=4\npixelType=uint16\n[GlobalMetadata]\nMaxSampleValue={stated}\n")
    image, reported = bioformats.load_image(ini, wants_max_intensity=True)
    assert reported == scale
    np.testing.assert_array_equal(image, rescaled(bfbridge.imread(ini)[0, 0, 0], scale))
    warned = [r.getMessage() for r in caplog.records if r.name == "bfbridge.compat"]
    assert warned == (
        [] if scale == 1000 else [f"{ini}: ignoring MaxSampleValue 'n/a'; intensities are scaled by 65535"]
    )


def test_max_sample_value_in_series_metadata_wins(tmp_path):
    """Aperio SVS descriptions go to the series metadata; the TIFF tag goes to the global metadata."""
    plane = np.arange(32 * 48, dtype=np.uint16).reshape(32, 48) * 3
    svs = tmp_path / "twelve_bit.svs"
    description = "Aperio Image Library v12.0.0\n48x32 (16x16) 12-bit|AppMag = 20|MaxSampleValue = 1000"
    tags = [(281, "H", 1, 4095, True)]
    tifffile.imwrite(svs, plane, tile=(16, 16), description=description, extratags=tags, metadata=None)
    with bioformats.ImageReader(svs) as reader:
        assert reader.rdr.getFormat() == "Aperio SVS"
        assert reader.rdr.getSeriesMetadataValue("MaxSampleValue") == "1000"
        assert reader.rdr.getMetadataValue("MaxSampleValue") == 4095
        image, scale = reader.read(wants_max_intensity=True)
    assert scale == 1000
    np.testing.assert_array_equal(image, rescaled(plane, 1000))


# ---------------------------------------------------------------------- ImageReader


def test_series_sticks_between_reads(corpus):
    series1, series2 = canonical(corpus, LIF, 1), canonical(corpus, LIF, 2)
    with bioformats.ImageReader(corpus / LIF) as reader:
        assert reader.rdr.getSeries() == 0
        np.testing.assert_array_equal(reader.read(series=2, rescale=False), hwc(series2[0, :, 0]))
        np.testing.assert_array_equal(reader.read(rescale=False), hwc(series2[0, :, 0]))
        assert reader.rdr.getSeries() == 2 and reader.rdr.getSizeX() == 512
        np.testing.assert_array_equal(reader.read(series=1, c=1, z=22, rescale=False), series1[0, 1, 22])
        reader.rdr.setSeries(0)
        assert reader.read().shape == (128, 128, 2)


def test_rdr_accessors_come_from_bioformats(corpus):
    data = canonical(corpus, ND2)
    with bioformats.ImageReader(corpus / ND2) as reader, bfbridge.open(corpus / ND2) as image:
        rdr = reader.rdr
        assert rdr.getSeriesCount() == 1
        assert (rdr.getSizeX(), rdr.getSizeY(), rdr.getSizeZ(), rdr.getSizeC(), rdr.getSizeT()) == (38, 31, 10, 2, 3)
        assert rdr.getImageCount() == 60 and rdr.getRGBChannelCount() == 1
        assert rdr.isRGB() is False and rdr.isInterleaved() is False and rdr.isLittleEndian() is True
        assert rdr.getPixelType() == 3 and rdr.getDimensionOrder() == "XYCZT"
        assert rdr.getFormat() == "Nikon ND2"
        assert rdr.getIndex(4, 1, 2) == 1 + 2 * (4 + 10 * 2)
        assert rdr.getSeriesMetadata() == image.original_metadata["series"][0]
        assert rdr.getGlobalMetadata() == image.original_metadata["global"] == rdr.getMetadata()
        assert rdr.getUsedFiles() == [str(corpus / ND2)]
        raw = rdr.openBytes(rdr.getIndex(3, 1, 2))
        assert raw.dtype == np.uint8 and raw.size == 31 * 38 * 2
        np.testing.assert_array_equal(raw.view("<u2").reshape(31, 38), data[2, 1, 3])
        np.testing.assert_array_equal(
            rdr.openBytesXYWH(0, 2, 3, 4, 5).view("<u2").reshape(5, 4), data[0, 0, 0, 3:8, 2:6]
        )
    rgb = bioformats.ImageReader(corpus / CZI).rdr
    assert rgb.isRGB() is True and rgb.isInterleaved() is True
    assert (rgb.getRGBChannelCount(), rgb.getSizeC(), rgb.getImageCount()) == (3, 3, 1)
    rgb.close()
    with pytest.raises(bfbridge.FileClosedError):
        rgb.getSizeX()


def test_deferred_init_and_file_urls(corpus):
    data = canonical(corpus, ND2)
    with bioformats.ImageReader(corpus / ND2, perform_init=False) as reader:
        reader.init_reader()
        np.testing.assert_array_equal(reader.read(c=0, rescale=False), data[0, 0, 0])
    url = (corpus / ND2).as_uri()
    with bioformats.ImageReader(url=url, perform_init=False) as reader:
        assert reader.path == str(corpus / ND2)
        np.testing.assert_array_equal(reader.read(c=1, t=1, rescale=False), data[1, 1, 0])
    np.testing.assert_array_equal(bioformats.load_image_url(url, c=0, z=2, rescale=False), data[0, 0, 2])


def test_bad_arguments_and_files_raise_clear_errors(corpus, tmp_path):
    missing = tmp_path / "missing.nd2"
    with pytest.raises(FileNotFoundError) as raised:
        bioformats.load_image(missing)
    assert raised.value.errno == errno.ENOENT and raised.value.filename == str(missing)
    with pytest.raises(FileNotFoundError):
        bioformats.ImageReader(missing, perform_init=False)
    with pytest.raises(TypeError, match="needs a path or a url"):
        bioformats.ImageReader()
    with bioformats.ImageReader(corpus / ND2) as reader:
        with pytest.raises(IndexError, match=r"series 1 is out of range: .* has 1 series"):
            reader.read(series=1)
        with pytest.raises(IndexError, match="plane index 60 is out of range: series 0 has 60 planes"):
            reader.read(index=60)
        with pytest.raises(IndexError, match="out of bounds for axis C"):
            reader.read(c=2)
        with pytest.raises(ValueError, match=r"XYWH \(30, 0, 10, 5\) is not inside the 38×31 plane"):
            reader.read(XYWH=(30, 0, 10, 5))
        with pytest.raises(ValueError, match="XYWH must be"):
            reader.read(XYWH=(0, 0, 5))
        with pytest.raises(bioformats.ReaderStateError, match=r"rdr.setGroupFiles\(\) is not available"):
            reader.rdr.setGroupFiles(True)
        assert isinstance(bioformats.ReaderStateError("x"), bfbridge.BioFormatsError)
        assert reader.read(c=0).shape == (31, 38)  # still usable after the errors
    with pytest.raises(bfbridge.FileClosedError):
        reader.read()


def test_unreadable_files_raise_oserror_as_in_python_bioformats(tmp_path):
    unknown = tmp_path / "notes.unknownsuffix"
    unknown.write_text("not an image\n")
    no_ifds = tmp_path / "no_ifds.tif"
    no_ifds.write_bytes(b"II*\x00\x08\x00\x00\x00" + b"\xff" * 20)
    cases = [
        (unknown, bfbridge.UnsupportedFormatError, "no Bio-Formats reader recognises"),
        (tmp_path, bfbridge.UnsupportedFormatError, "is a directory"),
        (no_ifds, bfbridge.FormatError, "No IFDs found"),
    ]
    for path, kind, message in cases:
        for call in (bioformats.load_image, bioformats.get_omexml_metadata, bioformats.ImageReader):
            with pytest.raises(IOError, match=message) as raised:
                call(path)
            assert isinstance(raised.value, kind) and raised.value.errno == errno.EINVAL
            assert type(raised.value.__cause__) is kind and raised.value.path == str(path)


def test_damaged_pixels_raise_oserror_on_read(tmp_path):
    path = tmp_path / "zeroed_strip.tif"
    tifffile.imwrite(path, np.ones((32, 32), np.uint16), photometric="minisblack", compression="zlib", metadata=None)
    with tifffile.TiffFile(path) as tiff:
        offset, count = tiff.pages[0].dataoffsets[0], tiff.pages[0].databytecounts[0]
    with open(path, "r+b") as file:
        file.seek(offset)
        file.write(bytes(count))
    with bioformats.ImageReader(path) as reader:  # the header is intact, so it opens
        for read in (reader.read, lambda: reader.rdr.openBytes(0)):
            with pytest.raises(OSError) as raised:
                read()
            assert isinstance(raised.value, bfbridge.FormatError) and raised.value.errno == errno.EINVAL


# ---------------------------------------------------------------------- reader cache


def test_reader_cache_counts_references(corpus):
    nd2, czi = str(corpus / ND2), str(corpus / CZI)
    try:
        first = bioformats.get_image_reader("a", path=nd2)
        assert bioformats.get_image_reader("a", path=nd2) is first
        assert bioformats.get_image_reader("b", path=nd2) is first  # two keys share one reader
        bioformats.release_image_reader("a")
        assert first.read(c=0).shape == (31, 38)  # "b" still holds it
        bioformats.release_image_reader("b")
        with pytest.raises(bfbridge.FileClosedError):
            first.read()
        again = bioformats.get_image_reader("a", path=nd2)
        assert again is not first
        other = bioformats.get_image_reader("a", path=czi)  # same key, other file: the old one is released
        with pytest.raises(bfbridge.FileClosedError):
            again.read()
        kept = bioformats.get_image_reader("c", path=nd2)
        by_url = bioformats.get_image_reader("d", url=(corpus / ND2).as_uri())  # cached by (path, url)
        assert by_url is not kept and by_url.read(c=0).shape == (31, 38)
        bioformats.clear_image_reader_cache()
        for reader in (other, kept, by_url):
            with pytest.raises(bfbridge.FileClosedError):
                reader.read()
        bioformats.release_image_reader("a")  # forgotten keys are ignored, as in python-bioformats
    finally:
        bioformats.clear_image_reader_cache()


# ---------------------------------------------------------------------- metadata


def test_omexml_metadata_and_accessors(corpus):
    xml = bioformats.get_omexml_metadata(corpus / ND2)
    assert isinstance(xml, str) and xml.lstrip().startswith("<?xml")
    with bfbridge.open(corpus / ND2) as image:  # the same images, with the original metadata as annotations
        parsed, theirs = ome_types.from_xml(xml), image.ome
        assert parsed.images[0].pixels.channels == theirs.images[0].pixels.channels
        assert parsed.images[0].pixels.planes == theirs.images[0].pixels.planes
        assert len(parsed.structured_annotations.xml_annotations) > 100
    metadata = bioformats.OMEXML(xml)
    expected = EXPECTED[ND2]["series"][0]
    assert metadata.image_count == 1
    assert metadata.image(0).Name == expected["name"] and metadata.image().ID == "Image:0"
    pixels = metadata.image().Pixels
    assert (pixels.SizeX, pixels.SizeY, pixels.SizeZ, pixels.SizeC, pixels.SizeT) == (38, 31, 10, 2, 3)
    assert pixels.PixelType == bioformats.PT_UINT16 and pixels.DimensionOrder == bioformats.omexml.DO_XYCZT
    assert (pixels.PhysicalSizeX, pixels.PhysicalSizeXUnit) == tuple(expected["physical_size_x"])
    assert (pixels.PhysicalSizeZ, pixels.PhysicalSizeZUnit) == tuple(expected["physical_size_z"])
    assert pixels.channel_count == 2
    assert [pixels.Channel(c).Name for c in range(2)] == expected["channel_names"]
    assert pixels.channel(1).Color == 0xFE0100FF - 2**32 and pixels.Channel(0).ID == "Channel:0:0"
    assert pixels.plane_count == 60
    planes = [pixels.Plane(i) for i in range(60)]
    assert [(p.TheZ, p.TheC, p.TheT) for p in planes] == [(i // 2 % 10, i % 2, i // 20) for i in range(60)]
    assert pixels.Plane(5).PositionXUnit == "µm" and isinstance(pixels.Plane(5).DeltaT, float)
    with pytest.raises(AttributeError, match="Pixels has no attribute 'SizeQ'"):
        _ = pixels.SizeQ
    lif = bioformats.OMEXML(bioformats.get_omexml_metadata(url=(corpus / LIF).as_uri()))
    assert lif.image_count == 3
    assert [lif.image(i).Name for i in range(3)] == [s["name"] for s in EXPECTED[LIF]["series"]]
    assert lif.image(0).Pixels.PhysicalSizeZ is None and lif.image(0).Pixels.PhysicalSizeZUnit is None


def test_pt_constants_are_the_pixel_types_bioformats_reports():
    constants = {name: value for name, value in vars(bioformats).items() if name.startswith("PT_")}
    assert sorted(constants.values()) == sorted(pixel_type.value for pixel_type in ome_types.model.PixelType)
    for pixel_type, _ in SCALE_BY_TYPE:
        xml = bioformats.get_omexml_metadata(fake(sizeX=8, sizeY=4, pixelType=pixel_type))
        assert bioformats.OMEXML(xml).image().Pixels.PixelType == constants[f"PT_{pixel_type.upper()}"]


def test_blank_omexml_can_be_edited():
    metadata = bioformats.OMEXML()
    pixels = metadata.image().Pixels
    assert metadata.image_count == 1 and metadata.image().Name == "default.png"
    assert (pixels.SizeX, pixels.SizeY, pixels.SizeC, pixels.PixelType) == (512, 512, 1, bioformats.PT_UINT8)
    assert pixels.Channel(0).SamplesPerPixel == 1 and pixels.plane_count == 0
    metadata.image().Name = "edited"
    pixels.SizeX = 10
    pixels.PixelType = bioformats.PT_UINT16
    again = bioformats.OMEXML(str(metadata))
    assert again.image().Name == "edited"
    assert (again.image().Pixels.SizeX, again.image().Pixels.PixelType) == (10, "uint16")


# ---------------------------------------------------------------------- the JVM


def test_start_vm_sets_the_heap_and_kill_vm_is_harmless(python):
    result = python(
        """
        import warnings
        import bfbridge
        import bfbridge.compat.bioformats as bioformats

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            bioformats.start_vm(class_path=["/elsewhere/loci_tools.jar"], max_heap_size="512m")
        print(caught[0].category.__name__, caught[0].message)
        print(bfbridge.jvm_info()["max_heap"], bfbridge.jvm_info()["max_heap_bytes"] <= 512 * 2**20)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            bioformats.start_vm(class_path=bioformats.JARS, max_heap_size="512m")
            bioformats.start_vm()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            bioformats.start_vm(max_heap_size="1g")
        print(caught[0].category.__name__, caught[0].message)
        reader = bioformats.get_image_reader("key", path="img&sizeX=8&sizeY=4.fake")
        bioformats.kill_vm()
        bioformats.kill_vm()
        try:
            reader.read()
        except bfbridge.FileClosedError:
            print("cached readers closed")
        bioformats.start_vm(max_heap_size="512m")
        print(bioformats.load_image("img&sizeX=8&sizeY=4.fake", rescale=False).shape)
        """
    )
    lines = result.stdout.splitlines()
    assert lines[0].startswith("RuntimeWarning start_vm(class_path=...) is ignored")
    assert lines[1] == "512m True"
    assert lines[2].startswith(
        "RuntimeWarning start_vm(): the JVM already runs and keeps its settings: "
        "cannot change max_heap after the JVM started; settings in force: max_heap='512m'"
    )
    assert lines[3:] == ["cached readers closed", "(4, 8)"]


def test_submodules_and_log4j_as_in_python_bioformats(python):
    result = python(
        """
        import logging, sys
        logging.basicConfig(level=logging.DEBUG, stream=sys.stdout, format="%(levelname)s %(name)s %(message)s")
        import jpype
        import bfbridge.compat.bioformats as bioformats

        print(
            "attributes:",
            bioformats.formatreader.ImageReader is bioformats.ImageReader,
            bioformats.omexml.OMEXML is bioformats.OMEXML,
            bioformats.log4j.basic_config is bioformats.init_logger,
        )
        import bfbridge.compat.bioformats.formatreader as formatreader
        from bfbridge.compat.bioformats import log4j
        from bfbridge.compat.bioformats.omexml import PT_UINT16

        print(
            "modules:",
            formatreader.load_using_bioformats is bioformats.load_image,
            formatreader.load_using_bioformats_url is bioformats.load_image_url,
            formatreader.get_image_reader is bioformats.get_image_reader,
            formatreader.get_omexml_metadata is bioformats.get_omexml_metadata,
            PT_UINT16 == bioformats.PT_UINT16,
        )
        import bfbridge.compat.bioformats.formatwriter as formatwriter
        import bfbridge.compat.bioformats.metadatatools as metadatatools

        print(
            "4.x modules:",
            formatwriter.write_image is bioformats.write_image,
            metadatatools.createOMEXMLMetadata is bioformats.create_ome_xml_metadata,
            bioformats.logback.basic_config is log4j.basic_config,
            bioformats.OMETiffWriter.class_name,
            bioformats.ChannelSeparator.class_name,
        )
        log4j.basic_config()
        bioformats.init_logger()
        bioformats.logback.basic_config()
        edited = bioformats.OMEXML()  # OME-XML needs no JVM
        edited.image().Pixels.channel_count = 3
        print("JVM started:", jpype.isJVMStarted(), edited.image().Pixels.Channel(2).ID)
        """
    )
    lines = result.stdout.splitlines()
    assert "attributes: True True True" in lines and "modules: True True True True True" in lines
    no_op = "DEBUG bfbridge.compat log4j.basic_config() does nothing: Java logs go through Python logging"
    assert "4.x modules: True True True loci.formats.out.OMETiffWriter loci.formats.ChannelSeparator" in lines
    assert [line for line in lines if "bfbridge.compat log4j" in line] == [no_op, no_op, no_op]
    assert lines[-1] == "JVM started: False Channel:0:2"
