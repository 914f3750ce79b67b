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
from ._xml import Boolean, ChildText, Choice, Color, Float, Integer, Node, Text, Timestamp


def prefixed_roi_id(value: object) -> str:
    """python-bioformats writes ROI and ROIRef IDs as ``ROI:<value>``; an ID already so prefixed is kept."""
    text = str(value)
    return text if text.startswith("ROI:") else f"ROI:{text}"


class Channel(Node):
    """``OME/Image/Pixels/Channel``."""

    ID = Text()
    Name = Text()
    SamplesPerPixel = Integer(minimum=1)
    Color = Color()
    Fluor = Text()
    ExcitationWavelength = Float()
    ExcitationWavelengthUnit = Choice(model.UnitsLength)
    EmissionWavelength = Float()
    EmissionWavelengthUnit = Choice(model.UnitsLength)
    IlluminationType = Choice(model.Channel_IlluminationType)


class Plane(Node):
    """``OME/Image/Pixels/Plane``: one 2-D plane's Z, C and T, its time, exposure and stage position."""

    TheZ = Integer(minimum=0)
    TheC = Integer(minimum=0)
    TheT = Integer(minimum=0)
    DeltaT = Float()
    DeltaTUnit = Choice(model.UnitsTime)
    ExposureTime = Float()
    ExposureTimeUnit = Choice(model.UnitsTime)
    PositionX = Float()
    PositionXUnit = Choice(model.UnitsLength)
    PositionY = Float()
    PositionYUnit = Choice(model.UnitsLength)
    PositionZ = Float()
    PositionZUnit = Choice(model.UnitsLength)


class TiffData(Node):
    """``OME/Image/Pixels/TiffData``: which IFD of a TIFF holds which planes."""

    FirstZ = Integer(minimum=0)
    FirstC = Integer(minimum=0)
    FirstT = Integer(minimum=0)
    IFD = Integer(minimum=0)
    plane_count = Integer("PlaneCount", minimum=0)
    PlaneCount = plane_count

    @property
    def UUID(self) -> str | None:
        """The ``urn:uuid:`` of the file holding these planes (a multi-file OME-TIFF's link)."""
        uuid = self.node.find(_xml.qn(self.ns["ome"], "UUID"))
        return None if uuid is None else uuid.text

    @UUID.setter
    def UUID(self, value: str) -> None:
        _xml.child_or_new(self.node, "UUID").text = str(value)

    @property
    def FileName(self) -> str | None:
        """The name of the file holding these planes (an attribute of the ``UUID`` element)."""
        uuid = self.node.find(_xml.qn(self.ns["ome"], "UUID"))
        return None if uuid is None else uuid.get("FileName")

    @FileName.setter
    def FileName(self, value: str) -> None:
        _xml.child_or_new(self.node, "UUID").set("FileName", str(value))


class Pixels(Node):
    """``OME/Image/Pixels``: sizes, pixel type, dimension order, physical sizes, channels, planes, TiffData."""

    ID = Text()
    DimensionOrder = Choice(model.Pixels_DimensionOrder)
    PixelType = Choice(model.PixelType, "Type")
    SizeX = Integer(minimum=1)
    SizeY = Integer(minimum=1)
    SizeZ = Integer(minimum=1)
    SizeC = Integer(minimum=1)
    SizeT = Integer(minimum=1)
    PhysicalSizeX = Float()
    PhysicalSizeXUnit = Choice(model.UnitsLength)
    PhysicalSizeY = Float()
    PhysicalSizeYUnit = Choice(model.UnitsLength)
    PhysicalSizeZ = Float()
    PhysicalSizeZUnit = Choice(model.UnitsLength)
    TimeIncrement = Float()
    TimeIncrementUnit = Choice(model.UnitsTime)
    SignificantBits = Integer(minimum=1)
    Interleaved = Boolean()
    BigEndian = Boolean()

    # ---------------------------------------------------------------- channels

    @property
    def channel_count(self) -> int:
        """The number of ``Channel`` elements; assigning adds (``Channel:<image>:<c>``) or removes channels."""
        return len(_xml.children(self.node, "Channel"))

    @channel_count.setter
    def channel_count(self, value: int) -> None:
        def make(index: int) -> None:
            channel = Channel(_xml.add_child(self.node, "Channel"))
            channel.ID = _xml.unique_id(self.node, "Channel", _xml.id_suffix(self.ID), index)
            channel.Name = channel.ID
            channel.SamplesPerPixel = 1

        _xml.counted(self.node, "Channel", value, make, minimum=1)

    def Channel(self, index: int = 0) -> Channel:
        return Channel(_xml.children(self.node, "Channel")[index])

    channel = Channel

    # ---------------------------------------------------------------- planes

    @property
    def plane_count(self) -> int:
        """The number of ``Plane`` elements; new ones get the Z, C, T of their index in ``DimensionOrder``."""
        return len(_xml.children(self.node, "Plane"))

    @plane_count.setter
    def plane_count(self, value: int) -> None:
        def make(index: int) -> None:
            plane = Plane(_xml.add_child(self.node, "Plane"))
            plane.TheZ, plane.TheC, plane.TheT = self.plane_zct(index)

        _xml.counted(self.node, "Plane", value, make)

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

    def Plane(self, index: int = 0) -> Plane:
        return Plane(_xml.children(self.node, "Plane")[index])

    plane = Plane

    # ---------------------------------------------------------------- TiffData

    @property
    def tiffdata_count(self) -> int:
        """The number of ``TiffData`` elements; ``MetadataOnly`` stands in for them when there are none."""
        return len(_xml.children(self.node, "TiffData"))

    @tiffdata_count.setter
    def tiffdata_count(self, value: int) -> None:
        _xml.counted(self.node, "TiffData", value, lambda index: _xml.add_child(self.node, "TiffData"))
        self._keep_pixel_data_choice()

    def _keep_pixel_data_choice(self) -> None:
        """The schema wants exactly one of BinData, TiffData or MetadataOnly in a Pixels element."""
        has_data = bool(_xml.children(self.node, "TiffData") or _xml.children(self.node, "BinData"))
        _xml.remove_after(self.node, "MetadataOnly", 0 if has_data else 1)
        if not has_data and not _xml.children(self.node, "MetadataOnly"):
            _xml.add_child(self.node, "MetadataOnly")

    def tiffdata(self, index: int = 0) -> TiffData:
        return TiffData(_xml.children(self.node, "TiffData")[index])

    TiffData = tiffdata


class ROIRef(Node):
    """``OME/Image/ROIRef``: a link from an image to one ``OME/ROI``."""

    @property
    def ID(self) -> str | None:
        return self.node.get("ID")

    @ID.setter
    def ID(self, value: object) -> None:
        self.node.set("ID", prefixed_roi_id(value))


class Image(Node):
    """``OME/Image``: one Bio-Formats series. ``AcquisitionDate`` is ISO 8601 text (a datetime may be assigned)."""

    ID = Text()
    Name = Text()
    AcquisitionDate = ChildText(Timestamp().write)
    Description = ChildText()

    @property
    def Pixels(self) -> Pixels:
        return Pixels(self.node.find(_xml.qn(self.ns["ome"], "Pixels")))

    @property
    def roiref_count(self) -> int:
        return len(_xml.children(self.node, "ROIRef"))

    @roiref_count.setter
    def roiref_count(self, value: int) -> None:
        def make(index: int) -> None:
            ROIRef(_xml.add_child(self.node, "ROIRef")).ID = index

        _xml.counted(self.node, "ROIRef", value, make)

    def roiref(self, index: int = 0) -> ROIRef:
        return ROIRef(_xml.children(self.node, "ROIRef")[index])


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
    pixels._keep_pixel_data_choice()
    return image
