"""The ElementTree plumbing under :mod:`.omexml`: typed attribute properties, schema-ordered children, new IDs.

python-bioformats' OMEXML edits a live ElementTree, and scripts reach into it through
``root_node``, so the tree stays the single source of truth here too. What this module
adds is what makes every edit valid OME-XML 2016-06, so that ome-types and Bio-Formats
read back what was set: values are checked and written in the schema's lexical form,
and new child elements go where the schema's sequence puts them, not at the end.
"""

from __future__ import annotations

import datetime
import enum
import math
import operator
import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from typing import Any

_QUALIFIED = re.compile(r"^\{(.*)\}(.*)$")

#: The order of child elements in each OME 2016-06 element that this package adds to.
SCHEMA_ORDER: dict[str, tuple[str, ...]] = {
    "OME": (
        "Rights", "Project", "Dataset", "Folder", "Experiment", "Plate", "Screen", "Experimenter",
        "ExperimenterGroup", "Instrument", "Image", "StructuredAnnotations", "ROI", "BinaryOnly",
    ),
    "Image": (
        "AcquisitionDate", "ExperimenterRef", "Description", "ExperimentRef", "ExperimenterGroupRef",
        "InstrumentRef", "ObjectiveSettings", "ImagingEnvironment", "StageLabel", "Pixels", "ROIRef",
        "MicrobeamManipulationRef", "AnnotationRef",
    ),
    "Pixels": ("Channel", "BinData", "TiffData", "MetadataOnly", "Plane"),
    "Plate": ("Description", "Well", "AnnotationRef", "PlateAcquisition"),
    "Well": ("WellSample", "ReagentRef", "AnnotationRef"),
    "WellSample": ("ImageRef",),
    "Instrument": (
        "Microscope", "LightSource", "Laser", "Arc", "Filament", "LightEmittingDiode", "GenericExcitationSource",
        "Detector", "Objective", "FilterSet", "Filter", "Dichroic", "AnnotationRef",
    ),
    "ROI": ("Union", "AnnotationRef", "Description"),
    "XMLAnnotation": ("Description", "AnnotationRef", "Value"),
}  # fmt: skip


def qn(namespace: str | None, tag_name: str) -> str:
    """ElementTree's qualified name, ``{namespace}tag``."""
    return f"{{{namespace}}}{tag_name}" if namespace else tag_name


def split_qn(name: str) -> tuple[str | None, str]:
    """``{namespace}tag`` -> ``(namespace, tag)``; a name without namespace gives ``(None, tag)``."""
    match = _QUALIFIED.match(name)
    return (match.group(1), match.group(2)) if match else (None, name)


def local_name(node: ElementTree.Element) -> str:
    return split_qn(node.tag)[1]


def namespace_of(node: ElementTree.Element) -> str | None:
    return split_qn(node.tag)[0]


def children(node: ElementTree.Element, name: str) -> list[ElementTree.Element]:
    """The child elements called ``name``, in the node's own namespace."""
    return node.findall(qn(namespace_of(node), name))


def add_child(parent: ElementTree.Element, name: str, namespace: str | None = None) -> ElementTree.Element:
    """A new child element, inserted where the OME schema's sequence puts it."""
    child = ElementTree.Element(qn(namespace or namespace_of(parent), name))
    order = SCHEMA_ORDER.get(local_name(parent), ())
    rank = order.index(name) if name in order else len(order)
    for position, sibling in enumerate(parent):
        sibling_name = local_name(sibling)
        if sibling_name in order and order.index(sibling_name) > rank:
            parent.insert(position, child)
            return child
    parent.append(child)
    return child


def child_or_new(parent: ElementTree.Element, name: str) -> ElementTree.Element:
    found = parent.find(qn(namespace_of(parent), name))
    return add_child(parent, name) if found is None else found


def remove_after(parent: ElementTree.Element, name: str, keep: int) -> None:
    """Remove the children called ``name`` beyond the first ``keep``."""
    for child in children(parent, name)[keep:]:
        parent.remove(child)


def serialise(root: ElementTree.Element, default_namespace: str | None) -> str:
    """The tree as text with ``default_namespace`` as the unprefixed ``xmlns``, as Bio-Formats writes OME-XML.

    ElementTree's own ``default_namespace`` option rejects unqualified attributes, which
    every OME element has, so a copy without that namespace in its tags is written instead.
    """
    prefix = f"{{{default_namespace}}}"

    def plain(node: ElementTree.Element) -> ElementTree.Element:
        tag = node.tag[len(prefix) :] if default_namespace and node.tag.startswith(prefix) else node.tag
        copy = ElementTree.Element(tag, node.attrib)
        copy.text, copy.tail = node.text, node.tail
        copy.extend(plain(child) for child in node)
        return copy

    top = plain(root)
    if default_namespace:
        top.set("xmlns", default_namespace)
    return ElementTree.tostring(top, encoding="unicode")


def unique_id(root: ElementTree.Element, kind: str, *parts: object) -> str:
    """``kind:parts...``, with a counter appended in the rare case that ID is already used."""
    taken = {node.get("ID") for node in root.iter() if local_name(node) == kind}
    base = ":".join([kind, *map(str, parts)])
    candidate, extra = base, 0
    while candidate in taken:
        extra += 1
        candidate = f"{base}-{extra}"
    return candidate


def id_suffix(identifier: str | None) -> str:
    """``"Plate:3"`` -> ``"3"``: the part of a parent's ID that a child's ID repeats."""
    return (identifier or "0").partition(":")[2] or (identifier or "0")


def counted(parent: ElementTree.Element, name: str, count: int, make: Callable[[int], Any], minimum: int = 0) -> None:
    """Grow or shrink the ``name`` children of ``parent`` to ``count``; ``make(i)`` fills in a new one."""
    count = operator.index(count)
    if count < minimum:
        raise ValueError(f"the number of {name} elements must be at least {minimum}, got {count}")
    have = len(children(parent, name))
    remove_after(parent, name, count)
    for index in range(have, count):
        make(index)


# ---------------------------------------------------------------------- value kinds


def _text(value: Any) -> str:
    if isinstance(value, enum.Enum):
        value = value.value
    return str(value)


def _integer(minimum: int | None) -> Callable[[Any], str]:
    def write(value: Any) -> str:
        number = operator.index(value) if not isinstance(value, str) else int(value)
        if minimum is not None and number < minimum:
            raise ValueError(f"must be an integer >= {minimum}, got {value!r}")
        return str(number)

    return write


def _float(value: Any) -> str:
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"must be a finite number, got {value!r}")
    return repr(number)


def _boolean(value: Any) -> str:
    if isinstance(value, str):
        if value.lower() not in ("true", "false"):
            raise ValueError(f"must be true or false, got {value!r}")
        return value.lower()
    return "true" if value else "false"


def signed_color(value: Any) -> int:
    """An OME colour (RGBA packed in a signed 32-bit int) from an int or an (r, g, b[, a]) tuple."""
    if isinstance(value, (tuple, list)):
        if len(value) not in (3, 4) or not all(0 <= int(v) <= 255 for v in value):
            raise ValueError(f"a colour tuple is (red, green, blue[, alpha]) of 0-255, got {value!r}")
        red, green, blue, alpha = (*map(int, value), 255)[:4]
        value = red << 24 | green << 16 | blue << 8 | alpha
    number = int(value)
    if not -(2**31) <= number < 2**32:
        raise ValueError(f"a colour is a 32-bit RGBA integer, got {value!r}")
    return number - 2**32 if number >= 2**31 else number


def _timestamp(value: Any) -> str:
    return value.isoformat() if isinstance(value, (datetime.datetime, datetime.date)) else str(value)


def _choice(choices: type[enum.Enum]) -> Callable[[Any], str]:
    def write(value: Any) -> str:
        try:
            return choices(_text(value)).value
        except ValueError:
            allowed = ", ".join(repr(member.value) for member in choices)
            raise ValueError(f"must be one of {allowed}; got {value!r}") from None

    return write


class Attribute:
    """An XML attribute of ``self.node`` as a property: read as ``kind``, written in the schema's lexical form.

    Reading gives None when the attribute is absent; assigning None removes it.
    """

    def __init__(self, name: str | None = None, read: Callable[[str], Any] = str, write=_text) -> None:
        self.name = name
        self.read = read
        self.write = write

    def __set_name__(self, owner: type, attribute: str) -> None:
        self.name = self.name or attribute

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        text = instance.node.get(self.name)
        return None if text is None else self.read(text)

    def __set__(self, instance: Any, value: Any) -> None:
        if value is None:
            instance.node.attrib.pop(self.name, None)
            return
        try:
            text = self.write(value)
        except (TypeError, ValueError) as error:
            raise ValueError(f"{type(instance).__name__}.{self.name} {error}") from None
        instance.node.set(self.name, text)


def Text(name: str | None = None) -> Attribute:
    return Attribute(name)


def Integer(name: str | None = None, minimum: int | None = None) -> Attribute:
    return Attribute(name, int, _integer(minimum))


def Float(name: str | None = None) -> Attribute:
    return Attribute(name, float, _float)


def Boolean(name: str | None = None) -> Attribute:
    return Attribute(name, lambda text: text.strip().lower() in ("true", "1"), _boolean)


def Color(name: str | None = None) -> Attribute:
    return Attribute(name, lambda text: signed_color(int(text)), lambda value: str(signed_color(value)))


def Timestamp(name: str | None = None) -> Attribute:
    return Attribute(name, str, _timestamp)


def Choice(choices: type[enum.Enum], name: str | None = None) -> Attribute:
    """An enumerated attribute (a unit, a pixel type, ...); ``choices`` is the ome-types enum that lists it."""
    return Attribute(name, str, _choice(choices))


def Texts(count: int) -> tuple[Attribute, ...]:
    """``count`` text attributes, for ``ID, Name = Texts(2)``."""
    return tuple(Text() for _ in range(count))


def Integers(count: int, minimum: int | None = None) -> tuple[Attribute, ...]:
    """``count`` integer attributes, for ``SizeX, SizeY = Integers(2, minimum=1)``."""
    return tuple(Integer(minimum=minimum) for _ in range(count))


def Floats(count: int) -> tuple[Attribute, ...]:
    """``count`` number attributes, for ``X, Y = Floats(2)``."""
    return tuple(Float() for _ in range(count))


def Measured(units: type[enum.Enum]) -> tuple[Attribute, Attribute]:
    """A number and its unit, e.g. ``PositionX, PositionXUnit = Measured(model.UnitsLength)``."""
    return Float(), Choice(units)


class Count:
    """The number of ``name`` child elements, as a property that adds or removes them when assigned.

    ``make(owner, index)`` fills in a new child (an ID, required attributes); by default it
    is added bare. Removing drops the last ones.
    """

    def __init__(self, name: str, make: Callable[[Any, int], Any] | None = None, minimum: int = 0) -> None:
        self.name = name
        self.make = make or (lambda owner, index: add_child(owner.node, name))
        self.minimum = minimum

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        return self if instance is None else len(children(instance.node, self.name))

    def __set__(self, instance: Any, value: int) -> None:
        counted(instance.node, self.name, value, lambda index: self.make(instance, index), self.minimum)


def item(name: str, wrap: Callable[[ElementTree.Element], Any]) -> Callable[[Any, int], Any]:
    """python-bioformats' ``Channel(index)``-style accessor of the ``name`` children, wrapped by ``wrap``."""

    def get(self: Any, index: int = 0) -> Any:
        return wrap(children(self.node, name)[index])

    get.__doc__ = f"The ``{name}`` child element number ``index``."
    return get


class ChildText:
    """The text of a child element (``AcquisitionDate``, ``Description``) as a property."""

    def __init__(self, write: Callable[[Any], str] = _text) -> None:
        self.write = write

    def __set_name__(self, owner: type, attribute: str) -> None:
        self.name = attribute

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        child = instance.node.find(qn(namespace_of(instance.node), self.name))
        return None if child is None else child.text

    def __set__(self, instance: Any, value: Any) -> None:
        child = child_or_new(instance.node, self.name)
        child.text = None if value is None else self.write(value)


_PROPERTIES = (property, Attribute, ChildText, Count)


class Accessors:
    """python-bioformats' ``get_X()``/``set_X(value)`` methods for every property ``X`` of the class."""

    def __getattr__(self, name: str) -> Callable[..., Any]:
        prefix, _, prop = name.partition("_")
        if prefix in ("get", "set") and isinstance(
            getattr(type(self), prop, None), (property, Attribute, ChildText, Count)
        ):
            if prefix == "get":
                return lambda: getattr(self, prop)
            return lambda value: setattr(self, prop, value)
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")


class Node(Accessors):
    """One OME-XML element; ``node`` is the ElementTree element, ``ns`` its namespaces by short key."""

    def __init__(self, node: ElementTree.Element) -> None:
        self.node = node
        namespace = namespace_of(node)
        self.ns = {"ome": namespace, "sa": namespace, "spw": namespace}

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.node is self.node

    def __hash__(self) -> int:
        return hash(id(self.node))

    def __repr__(self) -> str:
        identifier = self.node.get("ID")
        return f"<{type(self).__name__} {identifier}>" if identifier else f"<{type(self).__name__}>"
