"""``OME/Instrument`` with its ``Detector`` and ``Objective`` elements.

python-bioformats returned ``LensNA``, ``NominalMagnification`` and ``Gain`` as text and
tried to read the ``Detector.Type`` enumeration as an int; here numbers are floats and
enumerations are their schema text (``"CCD"``, ``"Oil"``).
"""

from __future__ import annotations

from ome_types import model

from . import _xml
from ._xml import Choice, Count, Floats, Measured, Node, Text, Texts, item


class ManufacturerSpec(Node):
    """The identity every instrument part has: ``ID``, ``Manufacturer``, ``Model``, ``SerialNumber``."""

    ID, Manufacturer, Model, SerialNumber, LotNumber = Texts(5)


class Detector(ManufacturerSpec):
    """``OME/Instrument/Detector``."""

    Gain, Offset, Zoom, Voltage = Floats(4)
    Type = Choice(model.Detector_Type)


class Objective(ManufacturerSpec):
    """``OME/Instrument/Objective``."""

    LensNA, NominalMagnification, CalibratedMagnification = Floats(3)
    WorkingDistance, WorkingDistanceUnit = Measured(model.UnitsLength)
    Immersion = Choice(model.Objective_Immersion)
    Correction = Choice(model.Objective_Correction)


def _part(kind: str):
    """A new ``Detector``/``Objective`` of an instrument, with the ID ``<kind>:<instrument>:<n>``."""

    def make(instrument: Instrument, index: int) -> None:
        node = _xml.add_child(instrument.node, kind)
        node.set("ID", _xml.unique_id(instrument.node, kind, _xml.id_suffix(instrument.ID), index))

    return make


class Instrument(Node):
    """``OME/Instrument``. ``Detector``/``Objective`` are the first of each (None if there is none)."""

    ID = Text()
    detector_count = Count("Detector", _part("Detector"))
    detector = item("Detector", Detector)
    objective_count = Count("Objective", _part("Objective"))
    objective = item("Objective", Objective)

    @property
    def Detector(self) -> Detector | None:
        return self.detector() if self.detector_count else None

    @property
    def Objective(self) -> Objective | None:
        return self.objective() if self.objective_count else None
