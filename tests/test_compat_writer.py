"""bfbridge.compat.bioformats writing: ``write_image`` plane by plane through Bio-Formats' writers, read back
with bfbridge and tifffile; the writer classes and ``metadatatools`` driven by hand.
"""

from __future__ import annotations

import jpype
import numpy as np
import ome_types
import pytest
import tifffile

import bfbridge
import bfbridge.compat.bioformats as bioformats
from bfbridge.compat.bioformats import formatwriter, metadatatools

SIZES = {"size_c": 2, "size_z": 3, "size_t": 2}
NAMES = ["DNA", "actin"]


def stack(dtype=np.uint16, shape=(2, 2, 3, 5, 7)) -> np.ndarray:
    """A T×C×Z×Y×X stack whose every pixel differs from the others."""
    values = np.arange(np.prod(shape), dtype=np.int64).reshape(shape)
    return (values * 37 % np.iinfo(dtype).max).astype(dtype) if dtype != np.float32 else values.astype(dtype) / 7


def write_stack(path, data: np.ndarray, order=None) -> None:
    """One write_image call per plane, in python-bioformats' (c fastest, then z, then t) order unless given."""
    size_t, size_c, size_z = data.shape[:3]
    planes = [(c, z, t) for t in range(size_t) for z in range(size_z) for c in range(size_c)]
    for c, z, t in order(planes) if order else planes:
        bioformats.write_image(
            path, data[t, c, z], str(bioformats.PT_UINT16), c=c, z=z, t=t, channel_names=NAMES, **SIZES
        )


@pytest.mark.parametrize(
    ("pixel_type", "dtype"),
    [("uint8", np.uint8), ("int8", np.int8), ("uint16", np.uint16), ("int16", np.int16), ("uint32", np.uint32),
     ("int32", np.int32), ("float", np.float32), ("double", np.float64)],
)  # fmt: skip
@pytest.mark.parametrize("suffix", ["tif", "ome.tif"])
def test_one_plane_of_each_pixel_type(tmp_path, pixel_type, dtype, suffix):
    rng = np.random.default_rng(101)
    if np.dtype(dtype).kind == "f":
        plane = rng.normal(0, 1000, (11, 33)).astype(dtype)
    else:
        plane = rng.integers(np.iinfo(dtype).min, np.iinfo(dtype).max, (11, 33), dtype=dtype, endpoint=True)
    path = tmp_path / f"plane.{suffix}"
    bioformats.write_image(path, plane, pixel_type)
    read = bioformats.load_image(path, rescale=False)
    assert read.dtype == dtype and read.shape == (11, 33)
    np.testing.assert_array_equal(read, plane)
    np.testing.assert_array_equal(tifffile.imread(path), plane)
    with bfbridge.open(path) as image:
        assert image.series[0].pixel_type == pixel_type
        np.testing.assert_array_equal(image.series[0][0, 0, 0], plane)


def test_values_are_cast_to_the_pixel_type_as_python_bioformats_did(tmp_path):
    path = tmp_path / "cast.tif"
    bioformats.write_image(path, np.array([[1.9, 300.0], [-1.0, 7.2]]), "uint16")
    np.testing.assert_array_equal(tifffile.imread(path), np.array([[1.9, 300.0], [-1.0, 7.2]]).astype("<u2"))
    with pytest.raises(NotImplementedError, match="Unsupported pixel type: 'complex'"):
        bioformats.write_image(tmp_path / "complex.tif", np.zeros((2, 2)), "complex")
    with pytest.raises(ValueError, match=r"Bio-Formats' Tagged Image File Format writer cannot store bit pixels"):
        bioformats.write_image(tmp_path / "mask.tif", np.zeros((2, 2), bool), bioformats.PT_BIT)
    assert not (tmp_path / "mask.tif").exists()
    with pytest.raises(ValueError, match=r"Bio-Formats' Animated PNG writer cannot store uint32 pixels"):
        bioformats.write_image(tmp_path / "deep.png", np.zeros((2, 2)), bioformats.omexml.PT_UINT32)
    with pytest.raises(IndexError, match="z=3 is outside a stack of size_z=3"):
        bioformats.write_image(tmp_path / "z.tif", np.zeros((2, 2)), "uint8", z=3, size_z=3)
    with pytest.raises(ValueError, match=r"pixels must be H×W or H×W×samples, got shape \(4,\)"):
        bioformats.write_image(tmp_path / "line.tif", np.zeros(4), "uint8")


@pytest.mark.parametrize("suffix", ["ome.tif", "tif"])
def test_stacks_written_plane_by_plane_read_back_alike(tmp_path, suffix):
    data = stack()
    path = tmp_path / f"stack.{suffix}"
    write_stack(path, data)
    with bfbridge.open(path) as image:
        series = image.series[0]
        assert series.shape == (2, 2, 3, 5, 7) and series.dtype == np.uint16
        np.testing.assert_array_equal(series.to_numpy(), data)
        ome = image.ome
    with tifffile.TiffFile(path) as tiff:
        in_file_order = data.transpose(0, 2, 1, 3, 4).reshape(12, 5, 7)  # C fastest, then Z, then T
        np.testing.assert_array_equal(np.stack([page.asarray() for page in tiff.pages]), in_file_order)
        written = ome_types.from_xml(tiff.ome_metadata, validate=True) if suffix == "ome.tif" else None
    for t, c, z in np.ndindex(2, 2, 3):
        np.testing.assert_array_equal(bioformats.load_image(path, c=c, z=z, t=t, rescale=False), data[t, c, z])
    if written is not None:  # the OME-XML in the file is what Bio-Formats reports, and what was asked for
        for pixels in (written.images[0].pixels, ome.images[0].pixels):
            assert (pixels.size_x, pixels.size_y, pixels.size_c, pixels.size_z, pixels.size_t) == (7, 5, 2, 3, 2)
            assert (pixels.type.value, pixels.dimension_order.value) == ("uint16", "XYCZT")
            assert [channel.name for channel in pixels.channels] == NAMES
            assert sorted((b.first_t, b.first_c, b.first_z) for b in pixels.tiff_data_blocks) == sorted(
                np.ndindex(2, 2, 3)
            )
        assert written.images[0].name == ome.images[0].name == "stack.ome.tif"


def test_ome_tiff_planes_in_any_order(tmp_path):
    data = stack()
    path = tmp_path / "reversed.ome.tif"
    write_stack(path, data, order=lambda planes: planes[::-1])
    with bfbridge.open(path) as image:
        np.testing.assert_array_equal(image.series[0].to_numpy(), data)


def test_ome_tiff_read_in_between_or_left_unfinished_gets_the_later_planes(tmp_path):
    data = stack()
    path = tmp_path / "interrupted.ome.tif"
    write_stack(path, data, order=lambda planes: planes[:5])
    # a compat reader finishes the stack so that it can read it; the next plane starts a new writer
    np.testing.assert_array_equal(bioformats.load_image(path, c=0, z=1, t=0, rescale=False), data[0, 0, 1])
    write_stack(path, data, order=lambda planes: planes[5:9])
    formatwriter.finish_ome_tiff(path)  # as a script that stops half-way, or Python's exit, would leave it
    with bfbridge.open(path) as image:  # the 3 planes never written are zeros: an OME-TIFF holds all its planes
        expected = data.copy()
        expected[1, :, 1:] = 0  # planes 9, 10, 11 in write order are (t=1, z=1, c=1), (t=1, z=2, c=0), (1, 2, 1)
        expected[1, 0, 1] = data[1, 0, 1]
        np.testing.assert_array_equal(image.series[0].to_numpy(), expected)
    write_stack(path, data, order=lambda planes: planes[9:])
    with bfbridge.open(path) as image:
        np.testing.assert_array_equal(image.series[0].to_numpy(), data)
    with tifffile.TiffFile(path) as tiff:
        assert len(tiff.pages) == 12


def test_plain_tiff_takes_planes_in_file_order(tmp_path):
    path = tmp_path / "ordered.tif"
    data = stack()
    write_stack(path, data, order=lambda planes: planes[:3])
    with pytest.raises(ValueError, match="already holds 3 planes, so the next plane written to it is plane 3, not 5"):
        bioformats.write_image(path, data[0, 1, 2], "uint16", c=1, z=2, **SIZES)
    with pytest.raises(ValueError, match="already holds 3 planes, so the next plane written to it is plane 3, not 0"):
        bioformats.write_image(path, data[0, 0, 0], "uint16", **SIZES)
    assert len(tifffile.TiffFile(path).pages) == 3


def test_png_frames_plane_by_plane(tmp_path):
    data = stack(np.uint8, (6, 1, 1, 4, 9))
    path = tmp_path / "movie.png"
    for t in range(6):
        bioformats.write_image(path, data[t, 0, 0], bioformats.PT_UINT8, t=t, size_t=6)
    with bfbridge.open(path) as image:
        assert image.format == "Animated PNG" and image.series[0].shape == (6, 1, 1, 4, 9)
        np.testing.assert_array_equal(image.series[0].to_numpy(), data)
    np.testing.assert_array_equal(bioformats.load_image(path, index=4, rescale=False), data[4, 0, 0])


@pytest.mark.parametrize("suffix", ["tif", "ome.tif", "png"])
def test_colour_images(tmp_path, suffix):
    rng = np.random.default_rng(103)
    image = rng.integers(0, 256, (9, 11, 3))
    path = tmp_path / f"colour.{suffix}"
    bioformats.write_image(path, image, bioformats.PT_UINT8)
    read = bioformats.load_image(path, rescale=False)
    assert read.shape == (9, 11, 3) and read.dtype == np.uint8
    np.testing.assert_array_equal(read, image)
    with bfbridge.open(path) as opened:
        assert opened.series[0].is_rgb and opened.series[0].shape == (1, 1, 1, 9, 11, 3)
    if suffix != "png":
        np.testing.assert_array_equal(tifffile.imread(path), image)
    if suffix == "ome.tif":
        written = bioformats.OMEXML(tifffile.TiffFile(path).ome_metadata)
        assert written.image().Pixels.SizeC == 3 and written.image().Pixels.Channel(0).SamplesPerPixel == 3


# ---------------------------------------------------------------------- writers and metadata by hand


def by_hand_metadata(size_t: int, big_endian: bool):
    """A Bio-Formats metadata store filled through python-bioformats' setter names."""
    metadata = metadatatools.wrap_imetadata_object(bioformats.create_ome_xml_metadata())
    metadata.createRoot()
    metadata.setImageID("Image:0", 0)
    metadata.setPixelsID("Pixels:0", 0)
    metadata.setPixelsBigEndian(big_endian, 0, 0)
    metadata.setPixelsDimensionOrder(bioformats.omexml.DO_XYCZT, 0, 0)
    metadata.setPixelsPixelType(bioformats.PT_UINT16, 0, 0)
    for axis, size in zip("XYZCT", (6, 4, 1, 1, size_t), strict=True):
        getattr(metadata, f"setPixelsSize{axis}")(size, 0, 0)
    metadata.setChannelID("Channel:0:0", 0, 0)
    metadata.setLogicalChannelSamplesPerPixel(1, 0, 0)
    return metadata


def test_metadata_store_setters_and_getters_by_python_bioformats_names():
    metadata = by_hand_metadata(size_t=3, big_endian=True)
    assert metadata.getPixelsBigEndian(0, 0) is True and metadata.getPixelsDimensionOrder(0, 0) == "XYCZT"
    assert metadata.getPixelsPixelType(0, 0) == "uint16"
    assert [metadata.getPixelsSizeX(0, 0), metadata.getPixelsSizeY(0, 0), metadata.getPixelsSizeT(0, 0)] == [6, 4, 3]
    assert (metadata.getPixelsSizeZ(0, 0), metadata.getPixelsSizeC(0, 0)) == (1, 1)
    assert metadata.getLogicalChannelSamplesPerPixel(0, 0) == 1 and metadata.getChannelID(0, 0) == "Channel:0:0"
    assert metadata.getChannelName(0, 0) is None
    metadata.setChannelName("DAPI", 0, 0)  # any Java method, by its Java name
    assert metadata.getChannelName(0, 0) == "DAPI" and metadata.getImageCount() == 1
    metadata.setPixelsType(bioformats.PixelType().UINT8, 0)
    assert metadata.getPixelsType(0) == "uint8"
    document = bioformats.OMEXML()
    document.image().Name = "from OMEXML"
    assert metadatatools.createOMEXMLMetadata(document).getImageName(0) == "from OMEXML"
    assert metadatatools.PositiveInteger(5).getValue() == 5
    options = bioformats.get_metadata_options(metadatatools.ALL)
    assert str(options.getMetadataLevel()) == "ALL"
    with pytest.raises(ValueError, match="the metadata level is MINIMUM, NO_OVERLAYS or ALL, not 'SOME'"):
        metadatatools.get_metadata_options("SOME")
    pixel_type = bioformats.PixelType()
    names = ("INT8", "UINT16", "COMPLEX", "DOUBLECOMPLEX", "COMPLEXDOUBLE", "BIT")
    assert [str(getattr(pixel_type, name).getValue()) for name in names] == [
        "int8", "uint16", "complex", "double-complex", "double-complex", "bit",
    ]  # fmt: skip


@pytest.mark.parametrize("big_endian", [True, False])
def test_image_writer_class_driven_by_hand(tmp_path, big_endian):
    data = stack(np.uint16, (3, 1, 1, 4, 6))
    path = tmp_path / "by_hand.ome.tif"
    ImageWriter = formatwriter.make_image_writer_class()
    writer = ImageWriter()
    writer.setMetadataRetrieve(by_hand_metadata(size_t=3, big_endian=big_endian))
    writer.setId(path)
    assert writer.getFormat() == "OME-TIFF" and writer.canDoStacks() is True
    assert writer.isSupportedType(bioformats.formatreader.make_format_tools_class().UINT16) is True
    byte_order = ">u2" if big_endian else "<u2"
    writer.saveBytesIB(0, data[0, 0, 0].astype(byte_order))
    writer.saveBytes(1, data[1, 0, 0].astype(byte_order).tobytes())
    writer.saveBytes(2, data[2, 0, 0].astype(byte_order))
    writer.close()
    with tifffile.TiffFile(path) as tiff:
        assert tiff.byteorder == (">" if big_endian else "<")
        np.testing.assert_array_equal(tiff.asarray(), data[:, 0, 0])
    with bfbridge.open(path) as image:
        np.testing.assert_array_equal(image.series[0].to_numpy(), data)


def test_format_writer_classes_and_the_old_save_bytes_form(tmp_path):
    data = stack(np.uint16, (3, 1, 1, 4, 6))
    TiffWriter = formatwriter.make_format_writer_class("loci/formats/out/TiffWriter")
    assert TiffWriter.__name__ == "TiffWriter"
    with TiffWriter() as writer:
        writer.setMetadataRetrieve(by_hand_metadata(size_t=3, big_endian=False))
        writer.setId(tmp_path / "old.tif")
        assert "LZW" in writer.getCompressionTypes()
        writer.setCompression("LZW")
        assert writer.getCompression() == "LZW"
        for t in range(3):
            writer.saveBytes(data[t, 0, 0], t == 2)  # python-bioformats 1.x: (buffer, last plane?)
    with tifffile.TiffFile(tmp_path / "old.tif") as tiff:
        assert tiff.pages[0].compression == tifffile.COMPRESSION.LZW
        np.testing.assert_array_equal(tiff.asarray(), data[:, 0, 0])
    with bioformats.OMETiffWriter() as ome_writer:
        assert ome_writer.get_class_name() == "loci.formats.out.OMETiffWriter"
        assert formatwriter.make_ome_tiff_writer_class() is bioformats.OMETiffWriter
    wrapper = formatwriter.make_writer_wrapper_class("loci/formats/out/TiffWriter")
    assert wrapper.class_name == "loci.formats.out.TiffWriter"
    with pytest.raises(AttributeError, match=r"loci\.formats\.out\.TiffWriter has no method 'saveTheWorld'"):
        TiffWriter().saveTheWorld()


def test_colour_models_for_set_color_model():
    rgb = formatwriter.getColorModel(formatwriter.getRGBColorSpace(), has_alpha=True)
    assert rgb.getNumComponents() == 4 and rgb.hasAlpha()
    grey = formatwriter.getColorModel(formatwriter.getGrayColorSpace(), transfer_type=formatwriter.TYPE_USHORT)
    assert grey.getNumComponents() == 1
    assert grey.getTransferType() == jpype.JClass("java.awt.image.DataBuffer").TYPE_USHORT


def test_an_ome_tiff_left_unfinished_is_closed_when_python_exits(tmp_path, python):
    path = tmp_path / "exit.ome.tif"
    python(
        f"""
        import numpy as np
        import bfbridge.compat.bioformats as bioformats

        for t in (0, 2):  # planes 1 and 3 of the four are never written
            bioformats.write_image({str(path)!r}, np.full((3, 4), t + 1, np.uint8), "uint8", t=t, size_t=4)
        """
    )
    with tifffile.TiffFile(path) as tiff:
        assert (
            len(tiff.pages) == 4 and len(ome_types.from_xml(tiff.ome_metadata).images[0].pixels.tiff_data_blocks) == 4
        )
    with bfbridge.open(path) as image:
        np.testing.assert_array_equal(image.series[0].to_numpy()[:, 0, 0, 0, 0], [1, 0, 3, 0])
