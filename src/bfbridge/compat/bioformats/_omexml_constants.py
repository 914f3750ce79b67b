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

# Original-metadata keys that Bio-Formats' TIFF readers use for the TIFF tags (tag number in the comment).
OM_NEW_SUBFILE_TYPE = "NewSubfileType"  # 254
OM_IMAGE_WIDTH = "ImageWidth"  # 256
OM_IMAGE_LENGTH = "ImageLength"  # 257
OM_BITS_PER_SAMPLE = "BitsPerSample"  # 258
OM_PHOTOMETRIC_INTERPRETATION = "PhotometricInterpretation"  # 262
OM_METADATA_PHOTOMETRIC_INTERPRETATION = "MetaDataPhotometricInterpretation"
OM_THRESHHOLDING = "Threshholding"  # 263, spelt as Bio-Formats spells it
OM_CELL_WIDTH = "CellWidth"  # 264
OM_CELL_LENGTH = "CellLength"  # 265
OM_FILL_ORDER = "FillOrder"  # 266
OM_DOCUMENT_NAME = "Document Name"  # 269
OM_MAKE = "Make"  # 271
OM_MODEL = "Model"  # 272
OM_ORIENTATION = "Orientation"  # 274
OM_SAMPLES_PER_PIXEL = "SamplesPerPixel"  # 277
OM_MIN_SAMPLE_VALUE = "MinSampleValue"  # 280
OM_MAX_SAMPLE_VALUE = "MaxSampleValue"  # 281
OM_X_RESOLUTION = "XResolution"  # 282
OM_Y_RESOLUTION = "YResolution"  # 283
OM_PLANAR_CONFIGURATION = "PlanarConfiguration"  # 284
OM_X_POSITION = "XPosition"  # 286
OM_Y_POSITION = "YPosition"  # 287
OM_FREE_OFFSETS = "FreeOffsets"  # 288
OM_FREE_BYTECOUNTS = "FreeByteCounts"  # 289
OM_GRAY_RESPONSE_UNIT = "GrayResponseUnit"  # 290
OM_GRAY_RESPONSE_CURVE = "GrayResponseCurve"  # 291
OM_T4_OPTIONS = "T4Options"  # 292
OM_T6_OPTIONS = "T6Options"  # 293
OM_RESOLUTION_UNIT = "ResolutionUnit"  # 296
OM_PAGE_NUMBER = "PageNumber"  # 297
OM_TRANSFER_FUNCTION = "TransferFunction"  # 301
OM_SOFTWARE = "Software"  # 305
OM_DATE_TIME = "DateTime"  # 306
OM_ARTIST = "Artist"  # 315
OM_HOST_COMPUTER = "HostComputer"  # 316
OM_PREDICTOR = "Predictor"  # 317
OM_WHITE_POINT = "WhitePoint"  # 318
OM_TILE_WIDTH = "TileWidth"  # 322
OM_TILE_LENGTH = "TileLength"  # 323
OM_TILE_OFFSETS = "TileOffsets"  # 324
OM_TILE_BYTE_COUNT = "TileByteCount"  # 325
OM_INK_SET = "InkSet"  # 332
OM_COPYRIGHT = "Copyright"  # 33432

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
