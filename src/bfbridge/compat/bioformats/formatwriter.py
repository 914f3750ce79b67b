"""python-bioformats' ``bioformats.formatwriter``: ``write_image`` and Bio-Formats' writer classes.

``write_image`` writes one plane per call through Bio-Formats' own writers, chosen by
the file's suffix (``.ome.tif``, ``.tif``, ``.png``, ...). Calling it again for the
same file adds the next plane to it, as CellProfiler's SaveImages does to build
stacks and movies; for OME-TIFF, where Bio-Formats cannot do that, see
:mod:`._ometiff_append`. The writer classes (``make_image_writer_class()``, ...) give
Bio-Formats' ``IFormatWriter`` to drive by hand: ``setMetadataRetrieve``, ``setId``,
``saveBytes(index, buffer)`` for each plane, ``close``.
"""

from __future__ import annotations

import operator
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import omexml as ome
from ._errors import java_call
from ._java import JavaObject, java_bytes, java_class, omexml_service, to_java
from ._ometiff_stacks import finish, is_ome_tiff, write_plane
from ._pixel_buffer import pixel_buffer

PLAIN_TIFF_SUFFIXES = (".tif", ".tiff", ".tf2", ".tf8", ".btf")

# java.awt names for getColorModel.
BITMASK = "BITMASK"
OPAQUE = "OPAQUE"
TRANSPARENT = "TRANSPARENT"
TYPE_BYTE = "TYPE_BYTE"
TYPE_USHORT = "TYPE_USHORT"
TYPE_INT = "TYPE_INT"


def convert_pixels_to_buffer(pixels: np.ndarray, pixel_type: str) -> Any:
    """The pixels cast to ``pixel_type``, little-endian, as a Java ``byte[]`` (RGB samples interleaved)."""
    return pixel_buffer(pixels, pixel_type)


def _plane_document(
    name: str, pixels: np.ndarray, pixel_type: str, sizes: tuple[int, int, int], channel_names: Sequence[str] | None
) -> ome.OMEXML:
    """python-bioformats' OME-XML for one plane of a C×Z×T stack (XYCZT, little-endian)."""
    size_c, size_z, size_t = sizes
    document = ome.OMEXML()
    document.image().Name = name
    image = document.image().Pixels
    image.SizeY, image.SizeX = pixels.shape[:2]
    image.SizeC, image.SizeZ, image.SizeT = size_c, size_z, size_t
    image.DimensionOrder = ome.DO_XYCZT
    image.PixelType = pixel_type
    if pixels.ndim == 3:
        image.SizeC = pixels.shape[2]
        image.Channel(0).SamplesPerPixel = pixels.shape[2]
        document.structured_annotations.add_original_metadata(ome.OM_SAMPLES_PER_PIXEL, str(pixels.shape[2]))
    elif size_c > 1:
        image.channel_count = size_c
    for channel, channel_name in zip(range(image.channel_count), channel_names or (), strict=False):
        image.Channel(channel).Name = channel_name
    return document


def write_image(
    pathname: str | os.PathLike,
    pixels: np.ndarray,
    pixel_type: str,
    c: int = 0,
    z: int = 0,
    t: int = 0,
    size_c: int = 1,
    size_z: int = 1,
    size_t: int = 1,
    channel_names: Sequence[str] | None = None,
) -> None:
    """Write ``pixels`` (H×W, or H×W×S for RGB) as plane (c, z, t) of a ``size_c``×``size_z``×``size_t`` stack.

    The format follows the suffix. A file that already exists gets the plane added
    (delete it first to start afresh). ``pixel_type`` is an OME type (``PT_UINT8``,
    ``PT_UINT16``, ``PT_FLOAT``, ...); the pixels are cast to it. ``channel_names`` name
    the channels (python-bioformats accepted them but did not write them).
    """
    path = os.path.abspath(os.fspath(pathname))
    pixels = np.asarray(pixels)
    if pixels.ndim not in (2, 3):
        raise ValueError(f"pixels must be H×W or H×W×samples, got shape {pixels.shape}")
    sizes = tuple(operator.index(size) for size in (size_c, size_z, size_t))
    for axis, value, size in zip("czt", (c, z, t), sizes, strict=True):
        if not 0 <= operator.index(value) < size:
            raise IndexError(f"{axis}={value} is outside a stack of size_{axis}={size}")
    buffer = convert_pixels_to_buffer(pixels, pixel_type)
    document = _plane_document(os.path.basename(path), pixels, pixel_type, sizes, channel_names)
    index = c + size_c * z + size_c * size_z * t
    writer = java_class("loci.formats.ImageWriter")()
    with java_call(path, "writing"):
        chosen = writer.getWriter(path)
        if not chosen.isSupportedType(java_class("loci.formats.FormatTools").pixelTypeFromString(pixel_type)):
            raise ValueError(f"Bio-Formats' {chosen.getFormat()} writer cannot store {pixel_type} pixels ({path})")
    if is_ome_tiff(path):
        write_plane(path, document, index, buffer, (pixels.shape, pixel_type, sizes))
        return
    _check_plane_order(path, index)
    with java_call(path, "writing"):
        writer.setMetadataRetrieve(omexml_service().createOMEXMLMetadata(str(document)))
        writer.setId(path)
        try:
            writer.setInterleaved(True)
            writer.saveBytes(index, buffer)
        finally:
            writer.close()


def _check_plane_order(path: str, index: int) -> None:
    """A plain TIFF holds its planes in file order: plane ``index`` must be the next one.

    (Bio-Formats would silently replace an earlier plane with it.)
    """
    if not path.lower().endswith(PLAIN_TIFF_SUFFIXES) or not os.path.isfile(path):
        return
    with java_call(path, "reading"):
        parser = java_class("loci.formats.tiff.TiffParser")(path)
        try:
            count = len(parser.getIFDOffsets())
        finally:
            parser.getStream().close()
    if index != count:
        raise ValueError(
            f"{path} already holds {count} planes, so the next plane written to it is plane {count}, not {index}: "
            "a TIFF keeps planes in the order they are written (c fastest, then z, then t). Remove the file to "
            "start again, or write an .ome.tif, which takes planes in any order"
        )


def finish_ome_tiff(path: str | os.PathLike | None = None) -> None:
    """Close the OME-TIFF stacks still waiting for planes (or the one at ``path``), so that they can be read.

    A stack closes by itself when its last plane is written, when a compat reader opens
    it, and when Python exits; call this to read an unfinished stack with other tools.
    """
    finish(path)


# ---------------------------------------------------------------------- writer classes


class IFormatWriter(JavaObject):
    """``loci.formats.IFormatWriter`` methods on ``o``; every Java method works by its Java name.

    ``saveBytes(index, buffer)`` takes a numpy array (its bytes, in memory order),
    ``bytes`` or a Java ``byte[]``; python-bioformats' ``saveBytesIB(index, buffer)``,
    ``saveBytesIFD(index, buffer, ifd)`` and old ``saveBytes(buffer, last)`` work too.
    """

    def setId(self, path: str | os.PathLike) -> None:
        path = os.path.abspath(os.fspath(path))
        with java_call(path, "writing"):
            self.o.setId(path)

    def saveBytes(self, *args: Any) -> None:
        if len(args) == 2 and isinstance(args[1], bool):  # the old (buffer, last) form: planes in order
            index = self.__dict__.get("_next_plane", 0)
            self._next_plane = index + 1
            args = (index, args[0])
        index, buffer, *rest = args
        with java_call(action="saving a plane with"):
            self.o.saveBytes(operator.index(index), java_bytes(buffer), *(to_java(arg) for arg in rest))

    saveBytesIB = saveBytes
    saveBytesIFD = saveBytes

    def __enter__(self) -> IFormatWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.o.close()


def _writer_class(class_name: str, doc: str) -> type[IFormatWriter]:
    dotted = class_name.replace("/", ".")
    short = dotted.rsplit(".", 1)[-1]
    return type(short, (IFormatWriter,), {"class_name": dotted, "__doc__": doc, "__module__": __name__})


def make_iformat_writer_class(class_name: str) -> type[IFormatWriter]:
    """The wrapper class for the Java writer class ``class_name`` (``loci/formats/out/TiffWriter``)."""
    return _writer_class(class_name, f"Bio-Formats' ``{class_name}``.")


def make_image_writer_class() -> type[IFormatWriter]:
    """The class of Bio-Formats' ``ImageWriter``, which picks the format from the file suffix."""
    return ImageWriter


def make_ome_tiff_writer_class() -> type[IFormatWriter]:
    """The class of Bio-Formats' ``OMETiffWriter``."""
    return OMETiffWriter


def make_writer_wrapper_class(class_name: str) -> type[IFormatWriter]:
    """A class for a Bio-Formats writer wrapper, made around another writer: ``Wrapper(writer)``."""
    return _writer_class(class_name, f"Bio-Formats' ``{class_name}`` around another writer.")


def make_format_writer_class(class_name: str) -> type[IFormatWriter]:
    """A class for one Bio-Formats format writer, e.g. ``loci.formats.out.APNGWriter``; make it without arguments."""
    return _writer_class(class_name, f"Bio-Formats' ``{class_name}`` format writer.")


ImageWriter = _writer_class("loci.formats.ImageWriter", "Bio-Formats' ``ImageWriter``: the format follows the suffix.")
OMETiffWriter = _writer_class("loci.formats.out.OMETiffWriter", "Bio-Formats' ``OMETiffWriter``.")


# ---------------------------------------------------------------------- colour models


def _color_space(name: str) -> Any:
    space = java_class("java.awt.color.ColorSpace")
    return space.getInstance(getattr(space, name))


def getRGBColorSpace() -> Any:
    """Java's linear RGB ``ColorSpace``."""
    return _color_space("CS_LINEAR_RGB")


def getGrayColorSpace() -> Any:
    """Java's grey ``ColorSpace``."""
    return _color_space("CS_GRAY")


def getColorModel(
    color_space: Any,
    has_alpha: bool = False,
    is_alpha_premultiplied: bool = False,
    transparency: str = OPAQUE,
    transfer_type: str = TYPE_BYTE,
) -> Any:
    """A ``java.awt.image.ComponentColorModel`` for ``setColorModel``."""
    transparencies = java_class("java.awt.Transparency")
    buffers = java_class("java.awt.image.DataBuffer")
    return java_class("java.awt.image.ComponentColorModel")(
        color_space,
        has_alpha,
        is_alpha_premultiplied,
        getattr(transparencies, transparency),
        getattr(buffers, transfer_type),
    )
