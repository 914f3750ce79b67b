"""python-bioformats' ``bioformats.metadatatools``: Bio-Formats metadata objects for readers and writers.

``createOMEXMLMetadata()`` is Bio-Formats' OME-XML metadata store (a Java
``IMetadata``), to give a reader (``setMetadataStore``) or a writer
(``setMetadataRetrieve``). ``wrap_imetadata_object`` wraps it with python-bioformats'
setter and getter names, which take plain Python values: python-bioformats passed
Bio-Formats 4's signatures (an unused ``binDataIndex``, Integer sizes), which are
mapped here onto Bio-Formats 7's (``PositiveInteger``, ``PixelType``, ...).
"""

from __future__ import annotations

from typing import Any

from ._errors import java_call
from ._java import JavaObject, java_class, omexml_service, to_python

MINIMUM = "MINIMUM"
NO_OVERLAYS = "NO_OVERLAYS"
ALL = "ALL"

#: python-bioformats' names for the two complex pixel types, which Bio-Formats 7 calls COMPLEXFLOAT and COMPLEXDOUBLE.
_PIXEL_TYPE_ALIASES = {"COMPLEX": "COMPLEXFLOAT", "DOUBLECOMPLEX": "COMPLEXDOUBLE"}


def createOMEXMLMetadata(xml: str | None = None) -> Any:
    """A new Bio-Formats OME-XML metadata store (``IMetadata``), empty or holding ``xml`` (text or ``OMEXML``)."""
    tools = java_class("loci.formats.MetadataTools")
    with java_call(action="creating OME-XML metadata for"):
        return tools.createOMEXMLMetadata() if xml is None else omexml_service().createOMEXMLMetadata(str(xml))


def PositiveInteger(some_number: int) -> Any:
    """Bio-Formats' ``ome.xml.model.primitives.PositiveInteger`` (sizes and samples per pixel)."""
    with java_call(action="making a PositiveInteger for"):
        return java_class("ome.xml.model.primitives.PositiveInteger")(java_class("java.lang.Integer")(int(some_number)))


def get_metadata_options(level: str) -> Any:
    """Bio-Formats' ``DefaultMetadataOptions`` at ``level`` (:data:`MINIMUM`, :data:`NO_OVERLAYS` or :data:`ALL`)."""
    levels = java_class("loci.formats.in.MetadataLevel")
    if level not in (MINIMUM, NO_OVERLAYS, ALL):
        raise ValueError(f"the metadata level is MINIMUM, NO_OVERLAYS or ALL, not {level!r}")
    return java_class("loci.formats.in.DefaultMetadataOptions")(getattr(levels, level))


def _enum(class_name: str, text: str) -> Any:
    with java_call(action=f"reading {text!r} as a {class_name} for"):
        return java_class(f"ome.xml.model.enums.{class_name}").fromString(str(text))


class _Wrapper(JavaObject):
    """A wrapper made around an existing Java object, as python-bioformats' ``MetadataStore(o)``."""

    def __init__(self, o: Any) -> None:
        self.o = o


class MetadataStore(_Wrapper):
    """``loci.formats.meta.MetadataStore`` setters on ``o``, under python-bioformats' names and arguments."""

    def setPixelsBigEndian(self, bigEndian: bool, imageIndex: int, binDataIndex: int = 0) -> None:
        self.o.setPixelsBigEndian(java_class("java.lang.Boolean")(bool(bigEndian)), imageIndex)

    def setPixelsDimensionOrder(self, dimension_order: str, imageIndex: int, binDataIndex: int = 0) -> None:
        self.o.setPixelsDimensionOrder(_enum("DimensionOrder", dimension_order), imageIndex)

    def setPixelsPixelType(self, pixel_type: str, imageIndex: int, binDataIndex: int = 0) -> None:
        """Set the pixel type from its text (``"uint8"``)."""
        self.o.setPixelsType(_enum("PixelType", pixel_type), imageIndex)

    def setPixelsType(self, pixel_type: Any, imageIndex: int) -> None:
        """Set the pixel type from a ``PixelType`` enum value (see :func:`make_pixel_type_class`) or its text."""
        self.o.setPixelsType(
            pixel_type if not isinstance(pixel_type, str) else _enum("PixelType", pixel_type), imageIndex
        )

    def _size(self, axis: str, value: int, imageIndex: int) -> None:
        getattr(self.o, f"setPixelsSize{axis}")(PositiveInteger(value), imageIndex)

    def setPixelsSizeX(self, x: int, imageIndex: int, binDataIndex: int = 0) -> None:
        self._size("X", x, imageIndex)

    def setPixelsSizeY(self, y: int, imageIndex: int, binDataIndex: int = 0) -> None:
        self._size("Y", y, imageIndex)

    def setPixelsSizeZ(self, z: int, imageIndex: int, binDataIndex: int = 0) -> None:
        self._size("Z", z, imageIndex)

    def setPixelsSizeC(self, c: int, imageIndex: int, binDataIndex: int = 0) -> None:
        self._size("C", c, imageIndex)

    def setPixelsSizeT(self, t: int, imageIndex: int, binDataIndex: int = 0) -> None:
        self._size("T", t, imageIndex)

    def setLogicalChannelSamplesPerPixel(self, samplesPerPixel: int, imageIndex: int, channelIndex: int) -> None:
        self.o.setChannelSamplesPerPixel(PositiveInteger(samplesPerPixel), imageIndex, channelIndex)


class MetadataRetrieve(_Wrapper):
    """``loci.formats.meta.MetadataRetrieve`` getters on ``o``, returning plain Python values."""

    def _get(self, name: str, *indices: int) -> Any:
        with java_call(action=f"calling {name} on"):
            return to_python(getattr(self.o, name)(*indices))

    def getPixelsBigEndian(self, imageIndex: int, binDataIndex: int = 0) -> bool | None:
        return self._get("getPixelsBigEndian", imageIndex)

    def getPixelsDimensionOrder(self, imageIndex: int, binDataIndex: int = 0) -> str | None:
        return self._get("getPixelsDimensionOrder", imageIndex)

    def getPixelsPixelType(self, imageIndex: int, binDataIndex: int = 0) -> str | None:
        return self._get("getPixelsType", imageIndex)

    def getPixelsSizeX(self, imageIndex: int, binDataIndex: int = 0) -> int | None:
        return self._get("getPixelsSizeX", imageIndex)

    def getPixelsSizeY(self, imageIndex: int, binDataIndex: int = 0) -> int | None:
        return self._get("getPixelsSizeY", imageIndex)

    def getPixelsSizeZ(self, imageIndex: int, binDataIndex: int = 0) -> int | None:
        return self._get("getPixelsSizeZ", imageIndex)

    def getPixelsSizeC(self, imageIndex: int, binDataIndex: int = 0) -> int | None:
        return self._get("getPixelsSizeC", imageIndex)

    def getPixelsSizeT(self, imageIndex: int, binDataIndex: int = 0) -> int | None:
        return self._get("getPixelsSizeT", imageIndex)

    def getLogicalChannelSamplesPerPixel(self, imageIndex: int, channelIndex: int) -> int | None:
        return self._get("getChannelSamplesPerPixel", imageIndex, channelIndex)

    def getChannelName(self, imageIndex: int, channelIndex: int) -> str | None:
        return self._get("getChannelName", imageIndex, channelIndex)

    def getChannelID(self, imageIndex: int, channelIndex: int) -> str | None:
        return self._get("getChannelID", imageIndex, channelIndex)


class IMetadata(MetadataStore, MetadataRetrieve):
    """Both halves of a Bio-Formats ``IMetadata``: python-bioformats' setters and getters, and every Java method."""


def wrap_imetadata_object(o: Any) -> IMetadata:
    """Wrap an ``IMetadata`` (such as :func:`createOMEXMLMetadata` returns) with python-bioformats' methods."""
    return IMetadata(o)


def make_pixel_type_class() -> type:
    """The class whose instances hold Bio-Formats' ``PixelType`` enum values (``PixelType().UINT8``, ...)."""

    class PixelType:
        """Bio-Formats' ``ome.xml.model.enums.PixelType`` values, for ``setPixelsType``."""

        def __init__(self) -> None:
            for value in java_class("ome.xml.model.enums.PixelType").values():
                setattr(self, str(value.name()), value)
            for alias, name in _PIXEL_TYPE_ALIASES.items():
                setattr(self, alias, getattr(self, name))

    return PixelType
