"""``OME/Instrument`` with its ``Detector`` and ``Objective`` elements.

python-bioformats returned ``LensNA``, ``NominalMagnification`` and ``Gain`` as text and
tried to read the ``Detector.Type`` enumeration as an int; here numbers are floats and
enumerations are their schema text (``"CCD"``, ``"Oil"``).
"""

from __future__ import annotations

from ome_types import model

from . import _xml
from ._xml import Choice, Float, Node, Text


class Detector(Node):
    """``OME/Instrument/Detector``."""

    ID = Text()
    Manufacturer = Text()
    Model = Text()
    SerialNumber = Text()
    Gain = Float()
    Offset = Float()
    Zoom = Float()
    Voltage = Float()
    Type = Choice(model.Detector_Type)


class Objective(Node):
    """``OME/Instrument/Objective``."""

    ID = Text()
    Manufacturer = Text()
    Model = Text()
    SerialNumber = Text()
    LensNA = Float()
    NominalMagnification = Float()
    CalibratedMagnification = Float()
    WorkingDistance = Float()
    WorkingDistanceUnit = Choice(model.UnitsLength)
    Immersion = Choice(model.Objective_Immersion)
    Correction = Choice(model.Objective_Correction)


class Instrument(Node):
    """``OME/Instrument``. ``Detector``/``Objective`` are the first of each (None if there is none)."""

    ID = Text()

    def _counted(self, kind: str, value: int) -> None:
        def make(index: int) -> None:
            _xml.add_child(self.node, kind).set("ID", _xml.unique_id(self.node, kind, _xml.id_suffix(self.ID), index))

        _xml.counted(self.node, kind, value, make)

    @property
    def detector_count(self) -> int:
        return len(_xml.children(self.node, "Detector"))

    @detector_count.setter
    def detector_count(self, value: int) -> None:
        self._counted("Detector", value)

    def detector(self, index: int = 0) -> Detector:
        return Detector(_xml.children(self.node, "Detector")[index])

    @property
    def Detector(self) -> Detector | None:
        return self.detector() if self.detector_count else None

    @property
    def objective_count(self) -> int:
        return len(_xml.children(self.node, "Objective"))

    @objective_count.setter
    def objective_count(self, value: int) -> None:
        self._counted("Objective", value)

    def objective(self, index: int = 0) -> Objective:
        return Objective(_xml.children(self.node, "Objective")[index])

    @property
    def Objective(self) -> Objective | None:
        return self.objective() if self.objective_count else None
