"""``OME/Image`` and what it holds: ``Pixels``, ``Channel``, ``Plane``, ``TiffData`` and ``ROIRef``.

Counts are settable as in python-bioformats (``pixels.channel_count = 3``). New
elements get schema-valid IDs (``Channel:0:2``) and, for planes, the Z/C/T of their
index in the dimension order, so the document stays readable by Bio-Formats at
every step.
"""

from __future__ import annotations

import datetime

from ome_types import model

from . import _xml
from ._xml import (
    Attribute,
    Boolean,
    ChildText,
    Choice,
    Color,
    Count,
    Integer,
    Integers,
    Measured,
    Node,
    Text,
    Texts,
    Timestamp,
    item,
)


def prefixed_roi_id(value: object) -> str:
    """python-bioformats writes ROI and ROIRef IDs as ``ROI:<value>``; an ID already so prefixed is kept."""
    text = str(value)
    return text if text.startswith("ROI:") else f"ROI:{text}"


def RoiID() -> Attribute:
    """The ``ID`` of an ROI or ROIRef: assigning ``3`` writes ``ROI:3``."""
    return Attribute("ID", str, prefixed_roi_id)


class Channel(Node):
    """``OME/Image/Pixels/Channel``."""

    ID, Name, Fluor = Texts(3)
    SamplesPerPixel = Integer(minimum=1)
    Color = Color()
    ExcitationWavelength, ExcitationWavelengthUnit = Measured(model.UnitsLength)
    EmissionWavelength, EmissionWavelengthUnit = Measured(model.UnitsLength)
    IlluminationType = Choice(model.Channel_IlluminationType)


class Plane(Node):
    """``OME/Image/Pixels/Plane``: one 2-D plane's Z, C and T, its time, exposure and stage position."""

    TheZ, TheC, TheT = Integers(3, minimum=0)
    DeltaT, DeltaTUnit = Measured(model.UnitsTime)
    ExposureTime, ExposureTimeUnit = Measured(model.UnitsTime)
    PositionX, PositionXUnit = Measured(model.UnitsLength)
    PositionY, PositionYUnit = Measured(model.UnitsLength)
    PositionZ, PositionZUnit = Measured(model.UnitsLength)


class TiffData(Node):
    """``OME/Image/Pixels/TiffData``: which IFD of a TIFF holds which planes (``UUID``/``FileName``: which TIFF)."""

    FirstZ, FirstC, FirstT, IFD = Integers(4, minimum=0)
    plane_count = Integer("PlaneCount", minimum=0)
    PlaneCount = plane_count

    def _uuid(self):
        return _xml.child_or_new(self.node, "UUID")

    @property
    def UUID(self) -> str | None:
        """The ``urn:uuid:`` of the file holding these planes (a multi-file OME-TIFF's link)."""
        return self._uuid().text if _xml.children(self.node, "UUID") else None

    @UUID.setter
    def UUID(self, value: str) -> None:
        self._uuid().text = str(value)

    @property
    def FileName(self) -> str | None:
        """The name of the file holding these planes (an attribute of the ``UUID`` element)."""
        return self._uuid().get("FileName") if _xml.children(self.node, "UUID") else None

    @FileName.setter
    def FileName(self, value: str) -> None:
        self._uuid().set("FileName", str(value))


def _new_channel(pixels: Pixels, index: int) -> None:
    channel = Channel(_xml.add_child(pixels.node, "Channel"))
    channel.ID = _xml.unique_id(pixels.node, "Channel", _xml.id_suffix(pixels.ID), index)
    channel.Name = channel.ID
    channel.SamplesPerPixel = 1


def _new_plane(pixels: Pixels, index: int) -> None:
    plane = Plane(_xml.add_child(pixels.node, "Plane"))
    plane.TheZ, plane.TheC, plane.TheT = pixels.plane_zct(index)


class _TiffDataCount(Count):
    """``tiffdata_count``, which also keeps the schema's one of BinData, TiffData or MetadataOnly."""

    def __set__(self, instance: Pixels, value: int) -> None:
        super().__set__(instance, value)
        instance.keep_pixel_data_choice()


class Pixels(Node):
    """``OME/Image/Pixels``: sizes, pixel type, dimension order, physical sizes, channels, planes, TiffData.

    ``channel_count`` adds channels ``Channel:<image>:<c>``; ``plane_count`` adds planes
    with the Z, C, T of their index in ``DimensionOrder``; ``tiffdata_count`` adds bare
    ``TiffData`` (``MetadataOnly`` stands in for them when there are none).
    """

    ID = Text()
    DimensionOrder = Choice(model.Pixels_DimensionOrder)
    PixelType = Choice(model.PixelType, "Type")
    SizeX, SizeY, SizeZ, SizeC, SizeT = Integers(5, minimum=1)
    PhysicalSizeX, PhysicalSizeXUnit = Measured(model.UnitsLength)
    PhysicalSizeY, PhysicalSizeYUnit = Measured(model.UnitsLength)
    PhysicalSizeZ, PhysicalSizeZUnit = Measured(model.UnitsLength)
    TimeIncrement, TimeIncrementUnit = Measured(model.UnitsTime)
    SignificantBits = Integer(minimum=1)
    Interleaved, BigEndian = Boolean(), Boolean()

    channel_count = Count("Channel", _new_channel, minimum=1)
    Channel = channel = item("Channel", Channel)
    plane_count = Count("Plane", _new_plane)
    Plane = plane = item("Plane", Plane)
    tiffdata_count = _TiffDataCount("TiffData")
    TiffData = tiffdata = item("TiffData", TiffData)

    def plane_zct(self, index: int) -> tuple[int, int, int]:
        """The (Z, C, T) of plane ``index`` in this image's dimension order (C counts RGB samples as one)."""
        channels = _xml.children(self.node, "Channel")
        samples = (Channel(channels[0]).SamplesPerPixel or 1) if channels else 1
        sizes = {"Z": self.SizeZ or 1, "C": max(1, (self.SizeC or 1) // samples), "T": self.SizeT or 1}
        position = {}
        for axis in (self.DimensionOrder or "XYCZT")[2:]:
            position[axis] = index % sizes[axis]
            index //= sizes[axis]
        return position["Z"], position["C"], position["T"]

    def keep_pixel_data_choice(self) -> None:
        """The schema wants exactly one of BinData, TiffData or MetadataOnly in a Pixels element."""
        has_data = bool(_xml.children(self.node, "TiffData") or _xml.children(self.node, "BinData"))
        _xml.remove_after(self.node, "MetadataOnly", 0 if has_data else 1)
        if not has_data and not _xml.children(self.node, "MetadataOnly"):
            _xml.add_child(self.node, "MetadataOnly")


class ROIRef(Node):
    """``OME/Image/ROIRef``: a link from an image to one ``OME/ROI``."""

    ID = RoiID()


class Image(Node):
    """``OME/Image``: one Bio-Formats series. ``AcquisitionDate`` is ISO 8601 text (a datetime may be assigned)."""

    ID, Name = Texts(2)
    AcquisitionDate = ChildText(Timestamp().write)
    Description = ChildText()
    roiref_count = Count(
        "ROIRef", lambda image, index: setattr(ROIRef(_xml.add_child(image.node, "ROIRef")), "ID", index)
    )
    roiref = item("ROIRef", ROIRef)

    @property
    def Pixels(self) -> Pixels:
        return Pixels(self.node.find(_xml.qn(self.ns["ome"], "Pixels")))


def new_image(root, index: int) -> Image:
    """python-bioformats' new image: ``default.png``, 512×512 uint8, one channel, acquired now."""
    image = Image(_xml.add_child(root, "Image"))
    image.ID = _xml.unique_id(root, "Image", index)
    image.Name = "default.png"
    image.AcquisitionDate = datetime.datetime.now()
    pixels = Pixels(_xml.add_child(image.node, "Pixels"))
    pixels.ID = _xml.unique_id(root, "Pixels", index)
    pixels.DimensionOrder = "XYCTZ"
    pixels.PixelType = "uint8"
    pixels.SizeC = pixels.SizeT = pixels.SizeZ = 1
    pixels.SizeX = pixels.SizeY = 512
    pixels.channel_count = 1
    pixels.keep_pixel_data_choice()
    return image
