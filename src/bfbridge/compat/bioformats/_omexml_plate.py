"""Screen-plate-well: ``OMEXML.plates``, ``Plate``, ``plate.Well[...]``, ``well.Sample[...]``.

Wells are found as python-bioformats found them: by position in the XML
(``plate.Well[14]``), by (row, column) (``plate.Well[1, 3]``), by name under the
plate's naming conventions (``plate.Well["B04"]``) or by ID.
"""

from __future__ import annotations

from collections.abc import Iterator

from ome_types import model

from . import _xml
from ._omexml_constants import NC_LETTER, NC_NUMBER
from ._xml import Accessors, ChildText, Color, Integer, Integers, Measured, Node, Text, Texts, Timestamp

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


class WellSample(Node):
    """``Plate/Well/WellSample``: one field of a well, and the image taken there (``ImageRef``)."""

    ID = Text()
    PositionX, PositionXUnit = Measured(model.UnitsLength)
    PositionY, PositionYUnit = Measured(model.UnitsLength)
    Timepoint = Timestamp()
    Index = Integer(minimum=0)

    @property
    def ImageRef(self) -> str | None:
        """The ID of the image of this field."""
        ref = self.node.find(_xml.qn(self.ns["spw"], "ImageRef"))
        return None if ref is None else ref.get("ID")

    @ImageRef.setter
    def ImageRef(self, value: str) -> None:
        _xml.child_or_new(self.node, "ImageRef").set("ID", str(value))


class WellSampleDucktype(Accessors):
    """The fields of a well as a list: ``well.Sample[0]``, ``well.Sample[0:2]``, ``len(well.Sample)``."""

    def __init__(self, well_node) -> None:
        self.well_node = well_node

    def _samples(self) -> list:
        return _xml.children(self.well_node, "WellSample")

    def __len__(self) -> int:
        return len(self._samples())

    def __getitem__(self, key: int | slice) -> WellSample | list[WellSample]:
        samples = self._samples()
        if isinstance(key, slice):
            return [WellSample(sample) for sample in samples[key]]
        return WellSample(samples[int(key)])

    def __iter__(self) -> Iterator[WellSample]:
        return (WellSample(sample) for sample in self._samples())

    def new(self, wellsample_id: str | None = None, index: int | None = None) -> WellSample:
        """Add a field; ``index`` defaults to one past the largest ``Index`` in the well."""
        if index is None:
            index = max((sample.Index for sample in self if sample.Index is not None), default=-1) + 1
        sample = WellSample(_xml.add_child(self.well_node, "WellSample"))
        sample.ID = wellsample_id or _xml.unique_id(
            self.well_node, "WellSample", _xml.id_suffix(self.well_node.get("ID")), index
        )
        sample.Index = index
        return sample


class Well(Node):
    """``Plate/Well``: ``Row`` and ``Column`` (0-based) and its fields, ``Sample``."""

    ID, ExternalDescription, ExternalIdentifier, Type = Texts(4)
    Row, Column = Integers(2, minimum=0)
    Color = Color()

    @property
    def Sample(self) -> WellSampleDucktype:
        return WellSampleDucktype(self.node)


class WellsDucktype(Accessors):
    """The wells of a plate, by position, by (row, column), by name ("B04") or by ID.

    Iterating gives the well names. A key that matches no well gives None, as in python-bioformats.
    """

    def __init__(self, plate: Plate) -> None:
        self.plate = plate
        self.plate_node = plate.node

    def _wells(self) -> list[Well]:
        return [Well(node) for node in _xml.children(self.plate_node, "Well")]

    def __len__(self) -> int:
        return len(self._wells())

    def __getitem__(self, key) -> Well | list[Well] | None:
        wells = self._wells()
        if isinstance(key, slice):
            return wells[key]
        if isinstance(key, int):
            return wells[key]
        if isinstance(key, tuple) and len(key) == 2:
            return next((well for well in wells if (well.Row, well.Column) == tuple(key)), None)
        return next((well for well in wells if key in (self.plate.get_well_name(well), well.ID)), None)

    def __contains__(self, key) -> bool:
        return self[key] is not None

    def __iter__(self) -> Iterator[str]:
        return (self.plate.get_well_name(well) for well in self._wells())

    def keys(self) -> list[str]:
        return list(self)

    def new(self, row: int, column: int, well_id: str | None = None) -> Well:
        """Add the well at 0-based ``row`` and ``column``."""
        well = Well(_xml.add_child(self.plate_node, "Well"))
        well.ID = well_id or _xml.unique_id(self.plate_node, "Well", _xml.id_suffix(self.plate.ID), row, column)
        well.Row = row
        well.Column = column
        return well


def _convention(value: str) -> str:
    if value not in (NC_LETTER, NC_NUMBER):
        raise ValueError(f"a naming convention is {NC_LETTER!r} or {NC_NUMBER!r}, got {value!r}")
    return value


class Plate(Node):
    """``OME/Plate``: rows, columns, naming conventions, origin and wells (``Well``)."""

    ID, Name, Status, ExternalIdentifier = Texts(4)
    ColumnNamingConvention = _xml.Attribute(write=_convention)
    RowNamingConvention = _xml.Attribute(write=_convention)
    WellOriginX, WellOriginXUnit = Measured(model.UnitsLength)
    WellOriginY, WellOriginYUnit = Measured(model.UnitsLength)
    Rows, Columns = Integers(2, minimum=1)
    FieldIndex = Integer(minimum=0)
    Description = ChildText()

    @property
    def Well(self) -> WellsDucktype:
        return WellsDucktype(self)

    def get_well_name(self, well: Well) -> str:
        """``"B04"`` for row 1, column 3 with letters for rows and numbers for columns (the defaults)."""
        parts = []
        for index, convention in (
            (well.Row, self.RowNamingConvention or NC_LETTER),
            (well.Column, self.ColumnNamingConvention or NC_NUMBER),
        ):
            parts.append(f"{index + 1:02d}" if convention == NC_NUMBER else _LETTERS[index])
        return "".join(parts)


class PlatesDucktype(Accessors):
    """``OMEXML.plates``: the plates as a list, and ``newPlate(name)`` to add one."""

    def __init__(self, root) -> None:
        self.root = root
        self.ns = {"spw": _xml.namespace_of(root)}

    def _plates(self) -> list:
        return self.root.findall(_xml.qn(self.ns["spw"], "Plate"))

    def __getitem__(self, key: int | slice) -> Plate | list[Plate]:
        plates = self._plates()
        if isinstance(key, slice):
            return [Plate(plate) for plate in plates[key]]
        return Plate(plates[key])

    def __len__(self) -> int:
        return len(self._plates())

    def __iter__(self) -> Iterator[Plate]:
        return (Plate(plate) for plate in self._plates())

    def newPlate(self, name: str, plate_id: str | None = None) -> Plate:
        plate = Plate(_xml.add_child(self.root, "Plate", self.ns["spw"]))
        plate.ID = plate_id or _xml.unique_id(self.root, "Plate", len(self._plates()) - 1)
        plate.Name = name
        return plate
