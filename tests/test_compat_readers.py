"""bfbridge.compat.bioformats' raw Bio-Formats reader classes, FormatTools, get_omexml_metadata with original
metadata, ImageReader.metadata, the OMERO helpers and the module constants, compared with bfbridge's Series reads
and with Bio-Formats driven directly.
"""

from __future__ import annotations

import errno

import jpype
import numpy as np
import pytest

import bfbridge
import bfbridge.compat.bioformats as bioformats
from bfbridge.compat.bioformats import formatreader, metadatatools
from bfbridge.compat.bioformats._omero import OmeroUnavailableError
from tests.test_compat import CZI, GIF, LIF, ND2, canonical, fake

TYPES = ["int8", "uint8", "int16", "uint16", "int32", "uint32", "float", "double"]


@pytest.mark.parametrize("pixel_type", TYPES)
def test_open_bytes_is_a_flat_uint8_array_as_javabridge_gave(pixel_type):
    name = fake(sizeX=9, sizeY=5, sizeZ=2, sizeC=3, sizeT=2, pixelType=pixel_type, series=2)
    with bfbridge.open(name) as image:
        expected = image.series[1].to_numpy()
    rdr = formatreader.make_image_reader_class()()
    rdr.setId(name)
    try:
        assert (rdr.getSeriesCount(), rdr.getImageCount(), rdr.getDimensionOrder()) == (2, 12, "XYZCT")
        rdr.setSeries(1)
        dtype = np.dtype(
            pixel_type if pixel_type not in ("float", "double") else {"float": "f4", "double": "f8"}[pixel_type]
        )
        dtype = dtype.newbyteorder("<" if rdr.isLittleEndian() else ">")
        for z, c, t in np.ndindex(2, 3, 2):
            raw = rdr.openBytes(rdr.getIndex(z, c, t))
            assert raw.dtype == np.uint8 and raw.shape == (5 * 9 * dtype.itemsize,)
            np.testing.assert_array_equal(raw.view(dtype).reshape(5, 9), expected[t, c, z])
        region = rdr.openBytesXYWH(rdr.getIndex(1, 2, 1), 2, 1, 4, 3)
        np.testing.assert_array_equal(region.view(dtype).reshape(3, 4), expected[1, 2, 1, 1:4, 2:6])
    finally:
        rdr.close()


def test_image_reader_class_on_a_corpus_file(corpus):
    data = canonical(corpus, ND2)
    ImageReader = bioformats.formatreader.make_image_reader_class()
    with ImageReader() as rdr, bfbridge.open(corpus / ND2) as image:
        rdr.allowOpenToCheckType(True)
        assert rdr.isThisTypeS(str(corpus / ND2)) is True and rdr.isThisTypeSZ(str(corpus / LIF), False) is True
        rdr.setId(corpus / ND2)
        assert rdr.getFormat() == "Nikon ND2" and rdr.get_class_name() == "loci.formats.ImageReader"
        assert rdr.getMetadata() == image.original_metadata["global"] == rdr.getGlobalMetadata()
        assert rdr.getSeriesMetadata() == image.original_metadata["series"][0]
        assert (rdr.getSizeX(), rdr.getSizeY(), rdr.getSizeZ(), rdr.getSizeC(), rdr.getSizeT()) == (38, 31, 10, 2, 3)
        np.testing.assert_array_equal(rdr.openBytes(rdr.getIndex(4, 1, 2)).view("<u2").reshape(31, 38), data[2, 1, 4])
        inner = formatreader.make_iformat_reader_class().wrap(rdr.getReader())
        assert inner.get_class_name() == "loci.formats.in.ND2Reader"
        assert (inner.suffixNecessary, inner.suffixSufficient) == (True, False)
        assert (rdr.suffixNecessary, rdr.suffixSufficient) == (None, None)  # ImageReader has no such flags
        assert inner.getSizeZ() == 10
    classes = [str(k.getName()) for k in formatreader.get_class_list().get_classes()]
    assert classes[-2:] == ["loci.formats.in.BDReader", "loci.formats.in.MRCReader"] and len(classes) > 150


def test_channel_separator_splits_rgb(corpus):
    data = canonical(corpus, CZI)
    with bioformats.ChannelSeparator(formatreader.make_image_reader_class()()) as separator:
        separator.setId(corpus / CZI)
        assert (separator.getImageCount(), separator.isRGB(), separator.getRGBChannelCount()) == (3, False, 1)
        for sample in range(3):
            plane = separator.openBytes(separator.getIndex(0, sample, 0)).reshape(624, 924)
            np.testing.assert_array_equal(plane, data[0, 0, 0, :, :, sample])
    wrapper = formatreader.make_reader_wrapper_class("loci.formats.DimensionSwapper")
    assert wrapper.__name__ == "DimensionSwapper" and wrapper.class_name == "loci.formats.DimensionSwapper"


def test_lookup_tables_come_back_as_arrays(corpus):
    rdr = formatreader.make_image_reader_class()()
    rdr.setId(corpus / GIF)
    with bfbridge.open(corpus / GIF, apply_lut=False) as image:
        table = image.series[0].lookup_table
    try:
        rdr.openBytes(0)
        got = rdr.get8BitLookupTable()
        assert got.dtype == np.uint8 and got.shape == (3, 256) and rdr.isIndexed() is True
        np.testing.assert_array_equal(got, table)
        assert rdr.get16BitLookupTable() is None
    finally:
        rdr.close()


def test_raw_readers_raise_python_errors(tmp_path):
    rdr = formatreader.make_image_reader_class()()
    missing = tmp_path / "missing.tif"
    with pytest.raises(FileNotFoundError) as raised:
        rdr.setId(missing)
    assert raised.value.errno == errno.ENOENT and raised.value.filename == str(missing)
    unknown = tmp_path / "notes.unknownsuffix"
    unknown.write_text("not an image\n")
    with pytest.raises(OSError, match="no Bio-Formats reader recognises") as raised:
        rdr.setId(unknown)
    assert isinstance(raised.value, bioformats.UnsupportedFormatError) and raised.value.errno == errno.EINVAL
    with pytest.raises(AttributeError, match=r"loci\.formats\.ImageReader has no method 'readEverything'"):
        rdr.readEverything()
    with pytest.raises(AttributeError, match="IFormatReader has no attribute 'getSizeX'"):
        formatreader.make_iformat_reader_class()().getSizeX()  # an empty wrapper, before its o is set


def test_format_tools_constants_are_bioformats():
    FormatTools = formatreader.make_format_tools_class()
    java = jpype.JClass("loci.formats.FormatTools")
    for name in ("INT8", "UINT8", "INT16", "UINT16", "INT32", "UINT32", "FLOAT", "DOUBLE", "BIT", "CAN_GROUP",
                 "CANNOT_GROUP", "MUST_GROUP"):  # fmt: skip
        assert getattr(FormatTools, name) == int(getattr(java, name))
    assert FormatTools.getPixelTypeString(FormatTools.UINT16) == "uint16"
    assert FormatTools.pixelTypeFromString("float") == FormatTools.FLOAT and FormatTools.getBytesPerPixel(6) == 4


def python_bioformats_omexml(path) -> str:
    """python-bioformats' get_omexml_metadata recipe, on Bio-Formats directly."""
    reader = jpype.JClass("loci.formats.ImageReader")()
    store = jpype.JClass("loci.formats.MetadataTools").createOMEXMLMetadata()
    reader.setGroupFiles(False)
    reader.setOriginalMetadataPopulated(True)
    reader.setMetadataStore(store)
    level = jpype.JClass("loci.formats.in.MetadataLevel").ALL
    reader.setMetadataOptions(jpype.JClass("loci.formats.in.DefaultMetadataOptions")(level))
    reader.setId(str(path))
    try:
        return str(jpype.JClass("loci.formats.services.OMEXMLServiceImpl")().getOMEXML(store))
    finally:
        reader.close()


@pytest.mark.parametrize("name", [LIF, ND2, CZI])
def test_get_omexml_metadata_is_what_python_bioformats_asked_bioformats_for(corpus, name):
    ours = bioformats.get_omexml_metadata(corpus / name)
    assert ours == python_bioformats_omexml(corpus / name)
    assert ours == bioformats.get_omexml_metadata(url=(corpus / name).as_uri())
    with bfbridge.open(corpus / name) as image:  # series keys follow the image name, as Bio-Formats writes them
        prefixes = tuple({f"{series.name or f'Series {series.index}'} " for series in image.series})
        has_series_keys = any(series.original_metadata for series in image.series)  # the CZI has none
    original = bioformats.OMEXML(ours).structured_annotations.OriginalMetadata
    assert len(original) > 30 and any(key.startswith(prefixes) for key in original) == has_series_keys


def test_original_metadata_from_bfbridge_readers_is_the_unfiltered_superset(corpus):
    direct = dict(bioformats.OMEXML(python_bioformats_omexml(corpus / LIF)).structured_annotations.OriginalMetadata)
    with bioformats.ImageReader(corpus / LIF) as reader:
        xml = reader.ome_xml_with_original_metadata()
    ours = dict(bioformats.OMEXML(xml).structured_annotations.OriginalMetadata)
    assert direct.items() <= ours.items()
    extra = {key: ours[key] for key in ours.keys() - direct.keys()}
    assert len(extra) == 36 and set(extra.values()) == {""}  # Bio-Formats drops empty values when it annotates


def test_image_reader_metadata_is_a_bioformats_store(corpus):
    with bioformats.ImageReader(corpus / LIF) as reader, bfbridge.open(corpus / LIF) as image:
        metadata = metadatatools.wrap_imetadata_object(reader.metadata)
        assert metadata.getImageCount() == 3 and reader.metadata is reader.metadata  # made once
        for index, series in enumerate(image.series):
            assert metadata.getImageName(index) == series.name
            assert metadata.getPixelsSizeX(index, 0) == series.shape[-1]
            assert metadata.getPixelsSizeZ(index, 0) == series.shape[2]
        assert metadata.getChannelName(0, 1) == image.series[0].channel_names[1]


def test_omero_helpers_keep_credentials_and_say_what_is_missing():
    assert bioformats.has_omero_packages() is False
    with pytest.raises(OmeroUnavailableError, match=r"OMERO's Java client \(blitz, common, ice jars\) is not on"):
        bioformats.set_omero_credentials("omero.example.org", 4064, "user", "secret")
    credentials = {formatreader.K_OMERO_SERVER: "omero.example.org", formatreader.K_OMERO_PORT: 4064,
                   formatreader.K_OMERO_USER: "user", formatreader.K_OMERO_SESSION_ID: "session-1"}  # fmt: skip
    try:
        bioformats.use_omero_credentials(credentials)
        assert bioformats.get_omero_credentials() == credentials
        bioformats.omero_logout()
        with pytest.raises(OmeroUnavailableError, match="no OMERO credentials: call set_omero_credentials"):
            bioformats.get_omero_credentials()
        logins = []
        bioformats.set_omero_login_hook(lambda: logins.append("asked") or bioformats.use_omero_credentials(credentials))
        assert bioformats.get_omero_credentials() == credentials and logins == ["asked"]
        with pytest.raises(OmeroUnavailableError, match="OMERO's Java client"):
            formatreader.get_omero_reader()
    finally:
        bioformats.use_omero_credentials({})
        bioformats.set_omero_login_hook(None)
    with pytest.raises(OSError, match=r"bfbridge\.compat does not read OMERO URLs") as raised:
        bioformats.ImageReader(url="omero:iid=42")
    assert isinstance(raised.value, bioformats.UnsupportedFormatError)


def test_module_constants_come_from_the_loaded_bioformats():
    assert bioformats.JAR_VERSION == "7.3.1" == str(jpype.JClass("loci.formats.FormatTools").VERSION)
    assert {"czi", "nd2", "lif", "ome.tiff", "tif", "png"} <= set(bioformats.READABLE_FORMATS)
    assert {"ome.tif", "ome.tiff", "tif", "tiff", "png", "jpg", "avi"} <= set(bioformats.WRITABLE_FORMATS)
    assert tuple(sorted(bioformats.READABLE_FORMATS)) == bioformats.READABLE_FORMATS
    with pytest.raises(AttributeError, match="has no attribute 'NO_SUCH_THING'"):
        _ = bioformats.NO_SUCH_THING
