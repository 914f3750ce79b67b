"""python-bioformats' ``omexml`` accessors over ome-types: ``OMEXML(xml).image(0).Pixels.SizeX``.

python-bioformats walks the XML tree by hand. Here ome-types parses and validates it,
and these small classes only translate python-bioformats' CamelCase properties to
ome-types' snake_case fields (``SizeX`` -> ``size_x``, ``PhysicalSizeXUnit`` ->
``physical_size_x_unit``) and its enums and dates back to the plain strings that
python-bioformats returned. ``OMEXML.ome`` is the full ``ome_types.OME`` for the rest.
"""

from __future__ import annotations

import datetime
import enum
import re
from typing import Any, ClassVar

import ome_types
from ome_types import model

from ...metadata import parse_ome

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

#: Dimension orders (``Pixels.DimensionOrder`` values).
DO_XYZCT = "XYZCT"
DO_XYZTC = "XYZTC"
DO_XYCTZ = "XYCTZ"
DO_XYCZT = "XYCZT"
DO_XYTCZ = "XYTCZ"
DO_XYTZC = "XYTZC"

_WORD_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def _field_name(name: str) -> str:
    """``PhysicalSizeXUnit`` -> ``physical_size_x_unit``, ``IFD`` -> ``ifd``."""
    return _WORD_BOUNDARY.sub("_", name).lower()


def _plain(value: Any) -> Any:
    """An ome-types value as python-bioformats gave it: enums and dates as text, colours as ints."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, model.Color):
        return value.as_int32()
    return value


class Element:
    """One ome-types object seen through python-bioformats' CamelCase properties.

    Reading ``Name`` returns ``model.name``; assigning ``Name`` sets it (ome-types
    validates the value). A ``...Unit`` reads ``None`` when its value is absent, as the
    XML attribute was in python-bioformats.
    """

    renamed: ClassVar[dict[str, str]] = {}

    def __init__(self, node: Any) -> None:
        object.__setattr__(self, "model", node)

    def _field(self, name: str) -> str:
        field = self.renamed.get(name) or _field_name(name)
        if not name[:1].isupper() or field not in type(self.model).model_fields:
            raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")
        return field

    def __getattr__(self, name: str) -> Any:
        field = self._field(name)
        if field.endswith("_unit") and getattr(self.model, field.removesuffix("_unit"), None) is None:
            return None
        return _plain(getattr(self.model, field))

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self.model, self._field(name), value)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {getattr(self.model, 'id', '')}>"


class Channel(Element):
    """``OME/Image/Pixels/Channel``: ``ID``, ``Name``, ``SamplesPerPixel``, ``Color``, ..."""


class Plane(Element):
    """``OME/Image/Pixels/Plane``: ``TheZ``, ``TheC``, ``TheT``, ``DeltaT``, ``PositionX``, ..."""


class TiffData(Element):
    """``OME/Image/Pixels/TiffData``: ``FirstZ``, ``FirstC``, ``FirstT``, ``IFD``, ``plane_count``."""

    @property
    def plane_count(self) -> int | None:
        return self.model.plane_count


class Pixels(Element):
    """``OME/Image/Pixels``: sizes, ``PixelType``, ``DimensionOrder``, physical sizes, channels, planes."""

    renamed: ClassVar[dict[str, str]] = {"PixelType": "type"}

    @property
    def channel_count(self) -> int:
        return len(self.model.channels)

    def Channel(self, index: int = 0) -> Channel:
        return Channel(self.model.channels[index])

    channel = Channel

    @property
    def plane_count(self) -> int:
        return len(self.model.planes)

    def Plane(self, index: int = 0) -> Plane:
        return Plane(self.model.planes[index])

    plane = Plane

    @property
    def tiffdata_count(self) -> int:
        return len(self.model.tiff_data_blocks)

    def tiffdata(self, index: int = 0) -> TiffData:
        return TiffData(self.model.tiff_data_blocks[index])


class Image(Element):
    """``OME/Image``: ``ID``, ``Name``, ``AcquisitionDate`` (ISO 8601 text) and ``Pixels``."""

    @property
    def Pixels(self) -> Pixels:
        return Pixels(self.model.pixels)


class Instrument(Element):
    """``OME/Instrument`` with its first ``Detector`` and ``Objective``."""

    @property
    def Detector(self) -> Element | None:
        return Element(self.model.detectors[0]) if self.model.detectors else None

    @property
    def Objective(self) -> Element | None:
        return Element(self.model.objectives[0]) if self.model.objectives else None


def _default_ome() -> ome_types.OME:
    """python-bioformats' blank document: one 512×512 uint8 image with one channel."""
    pixels = model.Pixels(
        id="Pixels:0", dimension_order="XYCZT", type="uint8", big_endian=False, interleaved=False,
        size_x=512, size_y=512, size_z=1, size_c=1, size_t=1,
        channels=[model.Channel(id="Channel:0:0", samples_per_pixel=1)],
    )  # fmt: skip
    image = model.Image(id="Image:0", name="default.png", acquisition_date=datetime.datetime.now(), pixels=pixels)
    return ome_types.OME(images=[image])


class OMEXML:
    """OME-XML with python-bioformats' accessors; ``ome`` is the ``ome_types.OME`` behind them.

    ``OMEXML()`` is a blank one-image document; ``OMEXML(xml)`` parses text (or bytes)
    such as :func:`bfbridge.compat.bioformats.get_omexml_metadata` returns.
    """

    def __init__(self, xml: str | bytes | None = None) -> None:
        if xml is None:
            self.ome = _default_ome()
        else:
            self.ome = parse_ome(xml.decode("utf-8") if isinstance(xml, bytes) else xml)

    @property
    def image_count(self) -> int:
        """The number of images (= Bio-Formats series)."""
        return len(self.ome.images)

    def image(self, index: int = 0) -> Image:
        return Image(self.ome.images[index])

    def instrument(self, index: int = 0) -> Instrument:
        return Instrument(self.ome.instruments[index])

    @property
    def plates(self) -> list[Element]:
        """The screen-plate-well plates: ``ID``, ``Name``, ``Rows``, ``Columns``, ..."""
        return [Element(plate) for plate in self.ome.plates]

    def to_xml(self) -> str:
        return ome_types.to_xml(self.ome)

    def __str__(self) -> str:
        return self.to_xml()
