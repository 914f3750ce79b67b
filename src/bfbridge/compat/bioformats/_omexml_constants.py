"""The constants of python-bioformats' ``omexml`` module: pixel types, dimension orders, namespaces, metadata keys."""

from __future__ import annotations

#: OME-XML pixel types (``Pixels.PixelType`` values).
PT_INT8 = "int8"
PT_INT16 = "int16"
PT_INT32 = "int32"
PT_UINT8 = "uint8"
PT_UINT16 = "uint16"
PT_UINT32 = "uint32"
PT_FLOAT = "float"
PT_BIT = "bit"
PT_DOUBLE = "double"
PT_COMPLEX = "complex"
PT_DOUBLECOMPLEX = "double-complex"

#: Dimension orders (``Pixels.DimensionOrder`` values), fastest-varying axis first.
DO_XYZCT = "XYZCT"
DO_XYZTC = "XYZTC"
DO_XYCTZ = "XYCTZ"
DO_XYCZT = "XYCZT"
DO_XYTCZ = "XYTCZ"
DO_XYTZC = "XYTZC"

#: The namespace of OME-XML 2016-06, the schema Bio-Formats writes. Since 2016-06 the
#: plate (SPW), annotation (SA) and ROI elements live in it too.
NS_OME = "http://www.openmicroscopy.org/Schemas/OME/2016-06"
NS_BINARY_FILE = NS_OME
NS_DEFAULT = "http://www.openmicroscopy.org/Schemas/{ns_key}/2016-06"
NS_RE = r"http://www.openmicroscopy.org/Schemas/(?P<ns_key>.*)/[0-9/-]"

#: Well row/column naming conventions.
NC_LETTER = "letter"
NC_NUMBER = "number"

# Original-metadata keys that Bio-Formats' TIFF readers give the TIFF tags (254 NewSubfileType to 33432 Copyright).
OM_NEW_SUBFILE_TYPE = "NewSubfileType"
OM_IMAGE_WIDTH = "ImageWidth"
OM_IMAGE_LENGTH = "ImageLength"
OM_BITS_PER_SAMPLE = "BitsPerSample"
OM_PHOTOMETRIC_INTERPRETATION = "PhotometricInterpretation"
OM_METADATA_PHOTOMETRIC_INTERPRETATION = "MetaDataPhotometricInterpretation"
OM_THRESHHOLDING = "Threshholding"
OM_CELL_WIDTH = "CellWidth"
OM_CELL_LENGTH = "CellLength"
OM_FILL_ORDER = "FillOrder"
OM_DOCUMENT_NAME = "Document Name"
OM_MAKE = "Make"
OM_MODEL = "Model"
OM_ORIENTATION = "Orientation"
OM_SAMPLES_PER_PIXEL = "SamplesPerPixel"
OM_MIN_SAMPLE_VALUE = "MinSampleValue"
OM_MAX_SAMPLE_VALUE = "MaxSampleValue"
OM_X_RESOLUTION = "XResolution"
OM_Y_RESOLUTION = "YResolution"
OM_PLANAR_CONFIGURATION = "PlanarConfiguration"
OM_X_POSITION = "XPosition"
OM_Y_POSITION = "YPosition"
OM_FREE_OFFSETS = "FreeOffsets"
OM_FREE_BYTECOUNTS = "FreeByteCounts"
OM_GRAY_RESPONSE_UNIT = "GrayResponseUnit"
OM_GRAY_RESPONSE_CURVE = "GrayResponseCurve"
OM_T4_OPTIONS = "T4Options"
OM_T6_OPTIONS = "T6Options"
OM_RESOLUTION_UNIT = "ResolutionUnit"
OM_PAGE_NUMBER = "PageNumber"
OM_TRANSFER_FUNCTION = "TransferFunction"
OM_SOFTWARE = "Software"
OM_DATE_TIME = "DateTime"
OM_ARTIST = "Artist"
OM_HOST_COMPUTER = "HostComputer"
OM_PREDICTOR = "Predictor"
OM_WHITE_POINT = "WhitePoint"
OM_TILE_WIDTH = "TileWidth"
OM_TILE_LENGTH = "TileLength"
OM_TILE_OFFSETS = "TileOffsets"
OM_TILE_BYTE_COUNT = "TileByteCount"
OM_INK_SET = "InkSet"
OM_COPYRIGHT = "Copyright"

# PhotometricInterpretation values.
PI_WHITE_IS_ZERO = "WhiteIsZero"
PI_BLACK_IS_ZERO = "BlackIsZero"
PI_RGB = "RGB"
PI_RGB_PALETTE = "Palette"
PI_TRANSPARENCY_MASK = "Transparency Mask"
PI_CMYK = "CMYK"
PI_Y_CB_CR = "YCbCr"
PI_CIE_LAB = "CIELAB"
PI_CFA_ARRAY = "Color Filter Array"

# MetaDataPhotometricInterpretation values.
MPI_RGB = "RGB"
MPI_MONOCHROME = "Monochrome"
MPI_CMYK = "CMYK"

# PlanarConfiguration values.
PC_CHUNKY = "Chunky"
PC_PLANAR = "Planar"


def page_name_original_metadata(index: int) -> str:
    """The original-metadata key of a TIFF page's name (tag 285), for the 0-based page ``index``."""
    return f"PageName #{index}"
