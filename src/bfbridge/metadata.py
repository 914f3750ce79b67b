"""Metadata: OME-XML to ome-types, original metadata, and per-series physical facts.

Per-series facts (name, physical sizes, channel names and colours, times) are read
from Bio-Formats' metadata store directly, which is cheap; the full
``ome_types.OME`` object is parsed only when asked for.
"""

from __future__ import annotations

import html
import logging
import re
import warnings
from dataclasses import dataclass, field
from typing import Any

import jpype

log = logging.getLogger("bfbridge.metadata")

_DOCTYPE = re.compile(r"<!DOCTYPE[^>\[]*(\[.*?\])?\s*>", re.S | re.I)
_BAD_XML_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class MetadataWarning(UserWarning):
    """The OME-XML could not be parsed as it is; a cleaned or reduced version is used."""


@dataclass(frozen=True)
class Quantity:
    """A physical value with its unit symbol, e.g. ``Quantity(0.09, "µm")``."""

    value: float
    unit: str


@dataclass(frozen=True)
class SeriesMetadata:
    """The OME facts about one series that arrays and viewers need."""

    name: str = ""
    physical_size: dict[str, Quantity] = field(default_factory=dict)  # keys X, Y, Z
    channel_names: tuple[str | None, ...] = ()  # None where the file names no channel
    channel_colors: tuple[int | None, ...] = ()  # RGBA as a signed 32-bit int, as OME stores it
    time_increment: Quantity | None = None
    delta_t: tuple[float | None, ...] = ()  # per T index, from the planes at C=0, Z=0
    delta_t_unit: str | None = None


def _quantity(value) -> Quantity | None:
    if value is None:
        return None
    try:
        number = float(value.value().doubleValue())
    except Exception:
        return None
    return Quantity(number, str(value.unit().getSymbol()))


def _text(value) -> str:
    return "" if value is None else str(value)


def _optional_text(value) -> str | None:
    return None if value is None else str(value)


def series_metadata(store, series: int, size_t: int, size_c: int) -> SeriesMetadata:
    """Read one series' facts from a ``MetadataRetrieve`` (missing values stay empty)."""
    if store is None or series >= int(store.getImageCount()):
        return SeriesMetadata()
    physical = {}
    for axis, getter in (
        ("X", "getPixelsPhysicalSizeX"),
        ("Y", "getPixelsPhysicalSizeY"),
        ("Z", "getPixelsPhysicalSizeZ"),
    ):
        quantity = _quantity(getattr(store, getter)(series))
        if quantity is not None and quantity.value > 0:
            physical[axis] = quantity
    channels = int(store.getChannelCount(series))
    names = tuple(_optional_text(store.getChannelName(series, c)) if c < channels else None for c in range(size_c))
    colors = []
    for c in range(size_c):
        color = store.getChannelColor(series, c) if c < channels else None
        colors.append(int(color.getValue()) if color is not None else None)
    delta_t: list[float | None] = [None] * size_t
    delta_unit = None
    for plane in range(int(store.getPlaneCount(series))):
        the_t, the_c, the_z = (
            store.getPlaneTheT(series, plane),
            store.getPlaneTheC(series, plane),
            store.getPlaneTheZ(series, plane),
        )
        if (
            the_t is None
            or int(the_c.getValue() if the_c is not None else 0)
            or int(the_z.getValue() if the_z is not None else 0)
        ):
            continue
        t = int(the_t.getValue())
        quantity = _quantity(store.getPlaneDeltaT(series, plane))
        if quantity is not None and 0 <= t < size_t and delta_t[t] is None:
            delta_t[t], delta_unit = quantity.value, quantity.unit
    return SeriesMetadata(
        name=_text(store.getImageName(series)),
        physical_size=physical,
        channel_names=names,
        channel_colors=tuple(colors),
        time_increment=_quantity(store.getPixelsTimeIncrement(series)),
        delta_t=tuple(delta_t) if delta_unit else (),
        delta_t_unit=delta_unit,
    )


def _python_value(value: Any) -> Any:
    """A Java metadata value as a plain Python value."""
    if value is None:
        return None
    if isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, jpype.JString):
        return str(value)
    name = type(value).__name__
    if name in ("java.lang.Boolean",):
        return bool(value)
    if name in ("java.lang.Integer", "java.lang.Long", "java.lang.Short", "java.lang.Byte"):
        return int(value)
    if name in ("java.lang.Double", "java.lang.Float"):
        return float(value)
    if isinstance(value, jpype.JArray):
        return [_python_value(v) for v in value]
    return str(value)


def hashtable_to_dict(table) -> dict[str, Any]:
    """A Java ``Hashtable<String, Object>`` of original metadata as a sorted dict."""
    if table is None:
        return {}
    result = {str(key): _python_value(table.get(key)) for key in table.keySet()}
    return dict(sorted(result.items()))


def omexml(store) -> str:
    """Serialise Bio-Formats' OME-XML metadata store."""
    service = jpype.JClass("loci.formats.services.OMEXMLServiceImpl")()
    return str(service.getOMEXML(store))


def parse_ome(xml: str, source: str = ""):
    """Parse OME-XML into ``ome_types.OME``; never fails on bad XML.

    DOCTYPE declarations are removed before parsing (no entity expansion). Invalid
    XML is retried without validation and with control characters removed; if that
    fails too, an empty ``OME`` is returned with a :class:`MetadataWarning`.
    """
    import ome_types

    safe = _DOCTYPE.sub("", xml)
    try:
        return ome_types.from_xml(safe)
    except Exception as first:
        cleaned = _BAD_XML_CHARS.sub("", safe)
        try:
            ome = ome_types.from_xml(cleaned, validate=False)
        except Exception as second:
            warnings.warn(
                f"OME-XML of {source or 'the file'} could not be parsed ({_short(second)}); "
                "ImageFile.ome is empty. Pixels and core metadata are unaffected.",
                MetadataWarning,
                stacklevel=3,
            )
            return ome_types.OME()
        warnings.warn(
            f"OME-XML of {source or 'the file'} is not valid ({_short(first)}); parsed it without validation",
            MetadataWarning,
            stacklevel=3,
        )
        return ome


_REJECTED_VALUE = re.compile(
    r"'(?P<value>[^']*)' not a supported value of 'class ome\.xml\.model\.enums\.(?P<enum>\w+)'"
)
_START_TAG = re.compile(r"<[A-Za-z][^<>]*>")
_ATTRIBUTE = re.compile(r"""\s([\w:.-]+)\s*=\s*("[^"]*"|'[^']*')""")


def repair_omexml(xml: str, java_message: str) -> tuple[str, str] | None:
    """OME-XML without what Bio-Formats rejected, and a note of what went; None if nothing can go.

    Writers produce characters XML 1.0 forbids and enumeration or unit values the OME
    model does not know; Bio-Formats' OME-XML reader then refuses the whole file, pixels
    included. Such characters are removed, and so are attributes holding the rejected
    value (with the measurement itself when the unit is the unknown part).
    """
    cleaned = _BAD_XML_CHARS.sub("", xml)
    if cleaned != xml:
        return cleaned, "characters XML does not allow"
    match = _REJECTED_VALUE.search(java_message)
    if match is None:
        return None
    removed: set[str] = set()

    def without_rejected(tag: re.Match) -> str:
        attributes = _ATTRIBUTE.findall(tag.group(0))
        bad = {name for name, quoted in attributes if html.unescape(quoted[1:-1]) == match["value"]}
        bad |= {name[: -len("Unit")] for name in bad if name.endswith("Unit")}
        if not bad:
            return tag.group(0)
        removed.update(bad)
        return _ATTRIBUTE.sub(lambda a: "" if a.group(1) in bad else a.group(0), tag.group(0))

    repaired = _START_TAG.sub(without_rejected, xml)
    if not removed:
        return None
    return repaired, f"{', '.join(sorted(removed))} (unknown {match['enum']} value {match['value']!r})"


def _short(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0][:200] if text else ''}"


def modulo(reader) -> dict[str, dict[str, Any]]:
    """Modulo annotations (lifetime, lambda, ...) of the current series by parent axis."""
    result = {}
    for axis, getter in (("Z", "getModuloZ"), ("C", "getModuloC"), ("T", "getModuloT")):
        item = getattr(reader, getter)()
        if item is None or int(item.length()) <= 1:
            continue
        labels = item.labels
        result[axis] = {
            "type": str(item.type),
            "type_description": _text(item.typeDescription),
            "start": float(item.start),
            "step": float(item.step),
            "end": float(item.end),
            "unit": _text(item.unit),
            "length": int(item.length()),
            "labels": [str(label) for label in labels] if labels is not None else None,
        }
    return result
