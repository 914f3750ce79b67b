"""``OME/ROI`` with python-bioformats' rectangle markers: ``ROI``, ``Union``, ``Rectangle``.

python-bioformats creates each new ROI as a "Marker" with one red 512×512 rectangle at
the origin; ``ROI.ID = 3`` is written ``ROI:3`` so that it matches an image's ROIRef.
"""

from __future__ import annotations

from ome_types import model

from . import _xml
from ._omexml_image import RoiID
from ._xml import Color, Floats, Integers, Measured, Node, Text, item

RED = -16776961  # 0xFF0000FF: opaque red, OME's signed RGBA


class Rectangle(Node):
    """``ROI/Union/Rectangle``: position, size, stroke and the plane (Z, C, T) it is drawn on."""

    ID = Text()
    X, Y, Width, Height = Floats(4)
    TheZ, TheC, TheT = Integers(3, minimum=0)
    Text = Text()
    StrokeColor = Color()
    StrokeWidth, StrokeWidthUnit = Measured(model.UnitsLength)
    FillColor = Color()


class Union(Node):
    """``ROI/Union``: the shapes of an ROI; python-bioformats reads rectangles only."""

    Rectangle = item("Rectangle", Rectangle)


class ROI(Node):
    """``OME/ROI``."""

    ID = RoiID()
    Name = Text()

    @property
    def Union(self) -> Union:
        return Union(self.node.find(_xml.qn(self.ns["ome"], "Union")))


def new_roi(root, index: int) -> ROI:
    """python-bioformats' new ROI: "Marker <n>", one red 512×512 rectangle at (0, 0) on plane 0."""
    roi = ROI(_xml.add_child(root, "ROI"))
    roi.ID = index
    roi.Name = f"Marker {index}"
    shape = Rectangle(_xml.add_child(_xml.add_child(roi.node, "Union"), "Rectangle"))
    shape.ID = _xml.unique_id(root, "Shape", index, 0)
    shape.TheZ = shape.TheC = shape.TheT = 0
    shape.StrokeColor = RED
    shape.StrokeWidth = 20
    shape.Text = str(index)
    shape.X = shape.Y = 0
    shape.Width = shape.Height = 512
    return roi
