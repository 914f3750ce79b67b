"""python-bioformats' ``bioformats.metadatatools``: Bio-Formats metadata objects for readers and writers.

``createOMEXMLMetadata()`` is Bio-Formats' OME-XML metadata store (a Java
``IMetadata``), to give a reader (``setMetadataStore``) or a writer
(``setMetadataRetrieve``). ``wrap_imetadata_object`` wraps it with python-bioformats'
setter and getter names, which take plain Python values: python-bioformats passed
Bio-Formats 4's signatures (an unused ``binDataIndex``, Integer sizes), which are
mapped here onto Bio-Formats 7's (``PositiveInteger``, ``PixelType``, ...).
"""

from __future__ import annotations

from collections.abc import Callable
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


def _pixels_setter(java_name: str, convert: Callable[[Any], Any]):
    """python-bioformats' ``setPixels...(value, imageIndex, binDataIndex)`` as Bio-Formats 7's ``(value, image)``."""

    def setter(self: MetadataStore, value: Any, imageIndex: int, binDataIndex: int = 0) -> None:
        with java_call(action=f"calling {java_name} on"):
            getattr(self.o, java_name)(convert(value), imageIndex)

    setter.__doc__ = f"``{java_name}`` of image ``imageIndex`` (``binDataIndex`` is Bio-Formats 4's and unused)."
    return setter


def _getter(java_name: str, per_channel: bool = False):
    """python-bioformats' ``get...(imageIndex, binDataIndex or channelIndex)`` returning a Python value."""

    def getter(self: MetadataRetrieve, imageIndex: int, second: int = 0) -> Any:
        with java_call(action=f"calling {java_name} on"):
            return to_python(getattr(self.o, java_name)(imageIndex, *((second,) if per_channel else ())))

    getter.__doc__ = f"``{java_name}`` of image ``imageIndex``" + (", channel ``second``." if per_channel else ".")
    return getter


class MetadataStore(_Wrapper):
    """``loci.formats.meta.MetadataStore`` setters on ``o``, under python-bioformats' names and arguments."""

    setPixelsBigEndian = _pixels_setter(
        "setPixelsBigEndian", lambda value: java_class("java.lang.Boolean")(bool(value))
    )
    setPixelsDimensionOrder = _pixels_setter("setPixelsDimensionOrder", lambda text: _enum("DimensionOrder", text))
    setPixelsPixelType = _pixels_setter("setPixelsType", lambda text: _enum("PixelType", text))
    setPixelsSizeX = _pixels_setter("setPixelsSizeX", PositiveInteger)
    setPixelsSizeY = _pixels_setter("setPixelsSizeY", PositiveInteger)
    setPixelsSizeZ = _pixels_setter("setPixelsSizeZ", PositiveInteger)
    setPixelsSizeC = _pixels_setter("setPixelsSizeC", PositiveInteger)
    setPixelsSizeT = _pixels_setter("setPixelsSizeT", PositiveInteger)

    def setPixelsType(self, pixel_type: Any, imageIndex: int) -> None:
        """Set the pixel type from a ``PixelType`` enum value (see :func:`make_pixel_type_class`) or its text."""
        value = _enum("PixelType", pixel_type) if isinstance(pixel_type, str) else pixel_type
        self.o.setPixelsType(value, imageIndex)

    def setLogicalChannelSamplesPerPixel(self, samplesPerPixel: int, imageIndex: int, channelIndex: int) -> None:
        self.o.setChannelSamplesPerPixel(PositiveInteger(samplesPerPixel), imageIndex, channelIndex)


class MetadataRetrieve(_Wrapper):
    """``loci.formats.meta.MetadataRetrieve`` getters on ``o``, returning plain Python values."""

    getPixelsBigEndian = _getter("getPixelsBigEndian")
    getPixelsDimensionOrder = _getter("getPixelsDimensionOrder")
    getPixelsPixelType = _getter("getPixelsType")
    getPixelsSizeX = _getter("getPixelsSizeX")
    getPixelsSizeY = _getter("getPixelsSizeY")
    getPixelsSizeZ = _getter("getPixelsSizeZ")
    getPixelsSizeC = _getter("getPixelsSizeC")
    getPixelsSizeT = _getter("getPixelsSizeT")
    getLogicalChannelSamplesPerPixel = _getter("getChannelSamplesPerPixel", per_channel=True)
    getChannelName = _getter("getChannelName", per_channel=True)
    getChannelID = _getter("getChannelID", per_channel=True)


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
