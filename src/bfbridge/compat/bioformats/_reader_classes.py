"""python-bioformats' factories of raw Bio-Formats reader classes: ``make_image_reader_class()`` and friends.

These give the caller Bio-Formats' own ``loci.formats.ImageReader`` (or a wrapper such
as ``ChannelSeparator``) to drive by hand -- ``setId``, ``setSeries``, ``openBytes`` --
exactly as python-bioformats scripts do. Such a reader belongs to its caller: it is
not pooled, not thread-safe (as in Java) and must be ``close()``d. No class is
resolved until the first instance is made, so making the classes does not start the JVM.
"""

from __future__ import annotations

import os
from typing import Any, ClassVar

import jpype

from ._errors import java_call
from ._java import JavaObject, java_class, omexml_service

#: Readers python-bioformats moves to the end of the reader list: BDReader claims every
#: .tif of an experiment folder, MRCReader claims MetaMorph .stk files.
DEMOTED_READERS = ("loci.formats.in.BDReader", "loci.formats.in.MRCReader")

_FORMAT_TOOLS_CONSTANTS = (
    "CAN_GROUP", "CANNOT_GROUP", "MUST_GROUP",
    "INT8", "UINT8", "INT16", "UINT16", "INT32", "UINT32", "FLOAT", "DOUBLE", "BIT",
)  # fmt: skip


def _protected_flag(java: Any, name: str) -> bool | None:
    """A boolean field of a Bio-Formats reader that Java keeps protected, or None if the class has none."""
    klass = java.getClass()
    while klass is not None:
        try:
            field = klass.getDeclaredField(name)
        except jpype.JException:
            klass = klass.getSuperclass()
            continue
        field.setAccessible(True)
        return bool(field.getBoolean(java))
    return None


class IFormatReader(JavaObject):
    """``loci.formats.IFormatReader`` methods on ``o`` (python-bioformats' wrapper of any reader).

    Every Java method works by its Java name; python-bioformats' own names work too:
    ``getMetadata`` (the global metadata), ``openBytesXYWH(no, x, y, w, h)``,
    ``isThisTypeS(name)``, ``isThisTypeSZ(name, open)``, ``isThisTypeStream(stream)``.
    ``openBytes`` returns a 1-D ``uint8`` array, metadata tables return dicts.
    """

    renamed: ClassVar[dict[str, str]] = {
        "getMetadata": "getGlobalMetadata",
        "openBytesXYWH": "openBytes",
        "isThisTypeS": "isThisType",
        "isThisTypeSZ": "isThisType",
        "isThisTypeStream": "isThisType",
    }

    def setId(self, path: str | os.PathLike) -> None:
        """Open ``path``: a missing file raises ``FileNotFoundError``, an unreadable one an ``OSError``."""
        path = os.fspath(path)
        with java_call(path, "opening"):
            self.o.setId(path)

    @property
    def suffixNecessary(self) -> bool | None:
        """The reader's ``suffixNecessary`` flag, or None for a reader that has none (``ImageReader``)."""
        return _protected_flag(self.o, "suffixNecessary")

    @property
    def suffixSufficient(self) -> bool | None:
        """The reader's ``suffixSufficient`` flag, or None for a reader that has none (``ImageReader``)."""
        return _protected_flag(self.o, "suffixSufficient")

    def __enter__(self) -> IFormatReader:
        return self

    def __exit__(self, *exc) -> None:
        self.o.close()


class ClassList(JavaObject):
    """``loci.formats.ClassList`` of every Bio-Formats reader, with :data:`DEMOTED_READERS` moved last."""

    renamed: ClassVar[dict[str, str]] = {
        "remove_class": "removeClass",
        "add_class": "addClass",
        "get_classes": "getClasses",
    }

    def __init__(self) -> None:
        image_reader = java_class("loci.formats.ImageReader")
        with java_call(action="listing the readers for"):
            classes = java_class("loci.formats.ClassList")(
                "readers.txt", java_class("loci.formats.IFormatReader").class_, image_reader.class_
            )
            for name in DEMOTED_READERS:
                demoted = java_class(name).class_
                classes.removeClass(demoted)
                classes.addClass(demoted)
        self.o = classes


class ImageReader(IFormatReader):
    """Bio-Formats' ``loci.formats.ImageReader``, which picks the reader for each file it opens."""

    class_name = "loci.formats.ImageReader"

    def __init__(self) -> None:
        super().__init__(get_class_list())

    def allowOpenToCheckType(self, allow: bool) -> None:
        """Let (or stop) readers open files to decide whether they claim them."""
        for name in ("allowOpenToCheckType", "setAllowOpenFiles"):
            if hasattr(self.o, name):
                getattr(self.o, name)(bool(allow))
                return


def make_iformat_reader_class() -> type[IFormatReader]:
    """The wrapper class for any ``IFormatReader``: make one empty and assign its ``o``."""
    return IFormatReader


def get_class_list() -> ClassList:
    """The reader list python-bioformats uses (:data:`DEMOTED_READERS` last)."""
    return ClassList()


def make_image_reader_class() -> type[ImageReader]:
    """The class of Bio-Formats' ``ImageReader``: ``rdr = make_image_reader_class()(); rdr.setId(path)``."""
    return ImageReader


def make_reader_wrapper_class(class_name: str) -> type[IFormatReader]:
    """A class for a Bio-Formats reader wrapper, e.g. ``"loci/formats/ChannelSeparator"``.

    Make one around a reader: ``ChannelSeparator(ImageReader())``.
    """
    dotted = class_name.replace("/", ".")
    short = dotted.rsplit(".", 1)[-1]
    doc = f"Bio-Formats' ``{dotted}`` around another reader: ``{short}(reader)``."
    return type(short, (IFormatReader,), {"class_name": dotted, "__doc__": doc, "__module__": __name__})


def make_format_tools_class() -> type:
    """``loci.formats.FormatTools``' constants (``UINT8``, ``CAN_GROUP``, ...) and pixel-type helpers."""
    tools = java_class("loci.formats.FormatTools")
    members: dict[str, Any] = {name: int(getattr(tools, name)) for name in _FORMAT_TOOLS_CONSTANTS}
    members.update(
        __doc__="Bio-Formats' loci.formats.FormatTools: pixel type and grouping constants.",
        getPixelTypeString=staticmethod(lambda pixel_type: str(tools.getPixelTypeString(pixel_type))),
        pixelTypeFromString=staticmethod(lambda name: int(tools.pixelTypeFromString(name))),
        getBytesPerPixel=staticmethod(lambda pixel_type: int(tools.getBytesPerPixel(pixel_type))),
    )
    return type("FormatTools", (), members)


def populated_omexml(path: str) -> str:
    """python-bioformats' recipe for a file's OME-XML, on a Bio-Formats reader of its own.

    Files open ungrouped, with every metadata level, and with Bio-Formats' original
    metadata added as annotations -- which also makes Bio-Formats filter that metadata
    (no empty values, no control characters) as it stores it.
    """
    from .metadatatools import ALL, createOMEXMLMetadata, get_metadata_options

    reader = ImageReader()
    try:
        store = createOMEXMLMetadata()
        reader.setGroupFiles(False)
        reader.setOriginalMetadataPopulated(True)
        reader.setMetadataStore(store)
        reader.setMetadataOptions(get_metadata_options(ALL))
        reader.setId(path)
        with java_call(path, "serialising the OME-XML of"):
            return str(omexml_service().getOMEXML(store))
    finally:
        reader.o.close()
