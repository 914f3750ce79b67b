"""python-bioformats' ``bioformats.omexml``: read, edit and write OME-XML through ``OMEXML``.

As in python-bioformats, an ``OMEXML`` is a live ElementTree (``root_node``) seen
through CamelCase properties: ``OMEXML(xml).image(0).Pixels.SizeX``,
``o.image().Pixels.channel_count = 3``, ``o.structured_annotations.OriginalMetadata``.
Unlike python-bioformats, every edit keeps the document valid OME-XML 2016-06: values
are checked, new elements go where the schema puts them and get schema-valid IDs,
so ome-types and Bio-Formats read back exactly what was set. ``OMEXML.ome`` parses
the current document with ome-types for everything the properties do not cover.
"""

from __future__ import annotations

import datetime
import re
import xml.etree.ElementTree as ElementTree

import ome_types

from . import _xml
from ._omexml_annotations import NS_ORIGINAL_METADATA, OriginalMetadata, StructuredAnnotations
from ._omexml_constants import *  # noqa: F403 - python-bioformats' PT_*, DO_*, NS_*, OM_*, ... constants
from ._omexml_constants import NS_OME, NS_RE
from ._omexml_image import Channel, Image, Pixels, Plane, ROIRef, TiffData, new_image
from ._omexml_instrument import Detector, Instrument, Objective
from ._omexml_plate import Plate, PlatesDucktype, Well, WellSample, WellSampleDucktype, WellsDucktype
from ._omexml_roi import ROI, Rectangle, Union, new_roi
from ._xml import Accessors, qn, split_qn

_DOCTYPE = re.compile(r"<!DOCTYPE", re.IGNORECASE)

# Pairs that python-bioformats wrote keep its ``om:`` prefix when written out again.
ElementTree.register_namespace("om", NS_ORIGINAL_METADATA)


def xsd_now() -> str:
    """The current local time as ``xsd:dateTime`` text."""
    return datetime.datetime.now().isoformat()


DEFAULT_NOW = xsd_now()

#: The blank document of ``OMEXML()``: one 512×512 uint8 image with one channel.
default_xml = f"""<OME xmlns="{NS_OME}">
  <Image ID="Image:0" Name="default.png">
    <AcquisitionDate>%(DEFAULT_NOW)s</AcquisitionDate>
    <Pixels ID="Pixels:0" DimensionOrder="XYCZT" Type="uint8" BigEndian="false" Interleaved="false"
            SizeX="512" SizeY="512" SizeZ="1" SizeC="1" SizeT="1">
      <Channel ID="Channel:0:0" SamplesPerPixel="1"/>
      <MetadataOnly/>
    </Pixels>
  </Image>
</OME>"""


def get_text(node: ElementTree.Element) -> str | None:
    return node.text


def set_text(node: ElementTree.Element, text: str | None) -> None:
    node.text = text


def get_float_attr(node: ElementTree.Element, attribute: str) -> float | None:
    text = node.get(attribute)
    return None if text is None else float(text)


def get_int_attr(node: ElementTree.Element, attribute: str) -> int | None:
    text = node.get(attribute)
    return None if text is None else int(text)


def make_text_node(parent: ElementTree.Element, namespace: str | None, tag_name: str, text: str | None) -> None:
    """Set the text of ``parent``'s child ``tag_name``, adding the child (in schema order) if needed."""
    node = parent.find(qn(namespace, tag_name))
    if node is None:
        node = _xml.add_child(parent, tag_name, namespace)
    node.text = text


def get_namespaces(node: ElementTree.Element) -> dict[str, str | None]:
    """The OME namespaces used under ``node`` by short key (``ome``, ``sa``, ``spw``, ...).

    OME-XML 2016-06 keeps plates and annotations in the OME namespace, so ``sa`` and
    ``spw`` fall back to the ``ome`` one when the document has no namespace of its own for them.
    """
    found: dict[str, str | None] = {"ome": None, "sa": None, "spw": None}
    for child in node.iter():
        namespace = split_qn(child.tag)[0]
        match = re.match(NS_RE, namespace or "")
        if match:
            found[match.group("ns_key").lower()] = namespace
    for key in ("sa", "spw", "roi"):
        found[key] = found.get(key) or found["ome"]
    return found


def _parse(xml: str | bytes) -> ElementTree.Element:
    text = xml.decode("utf-8") if isinstance(xml, bytes) else str(xml)
    if _DOCTYPE.search(text):
        raise ValueError("OME-XML with a DOCTYPE declaration is refused (OME-XML never needs one)")
    try:
        return ElementTree.fromstring(text)
    except ElementTree.ParseError as error:
        raise ValueError(f"not well-formed XML: {error}") from None


def _new_instrument(document: OMEXML, index: int) -> None:
    _xml.add_child(document.node, "Instrument").set("ID", _xml.unique_id(document.node, "Instrument", index))


class OMEXML(Accessors):
    """An OME-XML document to inspect and edit; ``to_xml()`` (or ``str()``) gives it back as text.

    ``OMEXML()`` is a blank one-image document; ``OMEXML(xml)`` parses text or bytes,
    such as :func:`bfbridge.compat.bioformats.get_omexml_metadata` returns. The
    element classes are attributes as in python-bioformats (``OMEXML.Pixels``, ...).
    """

    Image = Image
    Pixels = Pixels
    Channel = Channel
    Plane = Plane
    TiffData = TiffData
    ROIRef = ROIRef
    Instrument = Instrument
    Detector = Detector
    Objective = Objective
    StructuredAnnotations = StructuredAnnotations
    OriginalMetadata = OriginalMetadata
    PlatesDucktype = PlatesDucktype
    Plate = Plate
    WellsDucktype = WellsDucktype
    Well = Well
    WellSampleDucktype = WellSampleDucktype
    WellSample = WellSample
    ROI = ROI
    Union = Union
    Rectangle = Rectangle

    def __init__(self, xml: str | bytes | None = None) -> None:
        if xml is None:
            xml = default_xml % {"DEFAULT_NOW": xsd_now()}
        self.dom = ElementTree.ElementTree(_parse(xml))
        self.ns = get_namespaces(self.root_node)
        if self.ns["ome"] is None or _xml.local_name(self.root_node) != "OME":
            raise ValueError("Error: String not in OME-XML format (the root must be an OME element)")

    @property
    def root_node(self) -> ElementTree.Element:
        return self.dom.getroot()

    def get_ns(self, key: str) -> str | None:
        """The namespace for ``"ome"``, ``"sa"`` or ``"spw"``, for use with :func:`qn`."""
        return self.ns[key]

    def to_xml(self, indent: str = "\t", newline: str = "\n", encoding: str = "unicode") -> str:
        """The document as text, the OME namespace as default namespace (as Bio-Formats expects it).

        ``indent``, ``newline`` and ``encoding`` are accepted for python-bioformats'
        signature and, as there, not used.
        """
        return str(self)

    def __str__(self) -> str:
        return _xml.serialise(self.root_node, self.ns["ome"])

    @property
    def ome(self) -> ome_types.OME:
        """The current document parsed by ome-types (a copy: edit through this object, not through it)."""
        return ome_types.from_xml(str(self))

    @property
    def node(self) -> ElementTree.Element:
        """The ``OME`` element (``root_node``), for the count properties."""
        return self.root_node

    image_count = _xml.Count("Image", lambda document, index: new_image(document.node, index), minimum=1)
    image = _xml.item("Image", Image)
    instrument_count = _xml.Count("Instrument", _new_instrument)
    instrument = _xml.item("Instrument", Instrument)
    roi_count = _xml.Count("ROI", lambda document, index: new_roi(document.node, index))
    roi = _xml.item("ROI", ROI)

    @property
    def plates(self) -> PlatesDucktype:
        return PlatesDucktype(self.root_node)

    @property
    def structured_annotations(self) -> StructuredAnnotations:
        """``OME/StructuredAnnotations``, added to the document if it has none."""
        found = self.root_node.findall(qn(self.ns["sa"], "StructuredAnnotations"))
        node = found[0] if found else _xml.add_child(self.root_node, "StructuredAnnotations", self.ns["sa"])
        return StructuredAnnotations(node)
