"""OME-Zarr (NGFF) attributes: axes, multiscales, omero, and the bioformats2raw layout.

NGFF 0.5 keeps everything under an ``ome`` key with one ``version``; 0.4 puts the
version in each ``multiscales`` entry. Units are the OME symbols Bio-Formats reports,
mapped to the UDUNITS-2 names NGFF requires (a unit NGFF cannot name is left out). The
``t`` scale is the OME TimeIncrement or, failing that, the mean step of the planes' DeltaT.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._version import __version__
from ..array import channel_labels
from ..metadata import Quantity, SeriesMetadata
from .pyramid import Level

BF2RAW_LAYOUT = 3
AXES = "tczyx"

_SPACE_UNITS = {
    "\u00c5": "angstrom", "\u212b": "angstrom", "am": "attometer", "cm": "centimeter", "dm": "decimeter",
    "Em": "exameter", "fm": "femtometer", "ft": "foot", "Gm": "gigameter", "hm": "hectometer", "in": "inch",
    "km": "kilometer", "Mm": "megameter", "m": "meter", "\u00b5m": "micrometer", "\u03bcm": "micrometer",
    "mi": "mile", "mm": "millimeter", "nm": "nanometer", "pc": "parsec", "Pm": "petameter", "pm": "picometer",
    "Tm": "terameter", "yd": "yard", "ym": "yoctometer", "Ym": "yottameter", "zm": "zeptometer",
    "Zm": "zettameter",
}  # fmt: skip
_TIME_UNITS = {
    "as": "attosecond", "cs": "centisecond", "d": "day", "ds": "decisecond", "Es": "exasecond",
    "fs": "femtosecond", "Gs": "gigasecond", "hs": "hectosecond", "h": "hour", "ks": "kilosecond",
    "Ms": "megasecond", "\u00b5s": "microsecond", "\u03bcs": "microsecond", "ms": "millisecond", "min": "minute",
    "ns": "nanosecond", "Ps": "petasecond", "ps": "picosecond", "s": "second", "Ts": "terasecond",
    "ys": "yoctosecond", "Ys": "yottasecond", "zs": "zeptosecond", "Zs": "zettasecond",
}  # fmt: skip
#: Default display colours: a single channel is white; RGB samples are red, green, blue.
_PALETTE = ("FF0000", "00FF00", "0000FF", "FF00FF", "00FFFF", "FFFF00", "FFFFFF")


def _unit(quantity: Quantity | None, names: dict[str, str]) -> str | None:
    return None if quantity is None else names.get(quantity.unit)


def axes(physical_size: dict[str, Quantity], time_step: Quantity | None) -> list[dict[str, Any]]:
    """The five axes t, c, z, y, x with the units the metadata gives."""
    result: list[dict[str, Any]] = []
    for name in AXES:
        kind = {"t": "time", "c": "channel"}.get(name, "space")
        axis: dict[str, Any] = {"name": name, "type": kind}
        if kind == "time":
            unit = _unit(time_step, _TIME_UNITS)
        elif kind == "space":
            unit = _unit(physical_size.get(name.upper()), _SPACE_UNITS)
        else:
            unit = None
        if unit:
            axis["unit"] = unit
        result.append(axis)
    return result


def _size(quantity: Quantity | None) -> float:
    return 1.0 if quantity is None else float(quantity.value)


def time_step(meta: SeriesMetadata) -> Quantity | None:
    """The time between time points: the TimeIncrement, else the mean step of the DeltaTs.

    Many files (CZI, ND2, LIF) record only per-plane DeltaT. It stands in only when there
    are several time points, each has one and they increase; otherwise ``t`` keeps scale 1.
    """
    if meta.time_increment is not None and meta.time_increment.value > 0:
        return meta.time_increment
    times = [time for time in meta.delta_t if time is not None]
    if len(times) < 2 or len(times) < len(meta.delta_t) or meta.delta_t_unit is None:
        return None
    if any(later <= earlier for earlier, later in itertools.pairwise(times)):
        return None
    return Quantity((times[-1] - times[0]) / (len(times) - 1), meta.delta_t_unit)


def multiscales(
    name: str,
    levels: Sequence[Level],
    physical_size: dict[str, Quantity],
    time_step: Quantity | None,
    method: str,
    version: str,
) -> list[dict[str, Any]]:
    """One multiscale: a dataset per level, scaled by physical size times the level's factor."""
    t = _size(time_step)
    z, y, x = (_size(physical_size.get(axis)) for axis in "ZYX")
    datasets = [
        {
            "path": str(level.index),
            "coordinateTransformations": [
                {"type": "scale", "scale": [t, 1.0, z, y * level.factor[0], x * level.factor[1]]}
            ],
        }
        for level in levels
    ]
    entry: dict[str, Any] = {"name": name, "axes": axes(physical_size, time_step), "datasets": datasets}
    if version == "0.4":
        entry = {"version": "0.4", **entry}
    if any(level.source_level is None for level in levels):
        entry["type"] = method
        entry["metadata"] = {"method": f"bfbridge.convert ({method} of 2x2 pixels)", "version": __version__}
    return [entry]


def colour_hex(colour: int | None) -> str | None:
    """An OME colour (RGBA packed in a signed 32-bit int) as ``RRGGBB``."""
    if colour is None:
        return None
    return f"{(int(colour) & 0xFFFFFFFF) >> 8:06X}"


def default_colours(count: int, rgb: bool) -> list[str]:
    if count == 1:
        return ["FFFFFF"]
    if rgb:
        return [_PALETTE[i % 3] for i in range(count)]
    return [_PALETTE[i % len(_PALETTE)] for i in range(count)]


def omero(
    labels: Sequence[str],
    colours: Sequence[str | None],
    ranges: Sequence[tuple[float, float]],
    dtype: np.dtype,
    size_z: int,
    rgb: bool,
) -> dict[str, Any]:
    """Display settings per channel: label, colour, and a window over the data's range."""
    defaults = default_colours(len(labels), rgb)
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        limits: tuple[float, float] | None = (float(info.min), float(info.max))
    else:
        limits = None
    channels = []
    for index, label in enumerate(labels):
        start, end = ranges[index]
        low, high = limits or (start, end)
        channels.append(
            {
                "label": label,
                "color": colours[index] or defaults[index],
                "window": {"start": start, "end": end, "min": low, "max": high},
                "active": True,
                "coefficient": 1.0,
                "family": "linear",
                "inverted": False,
            }
        )
    model = "color" if len(labels) > 1 else "greyscale"
    return {"channels": channels, "rdefs": {"model": model, "defaultT": 0, "defaultZ": size_z // 2}}


def channel_colours(series) -> list[str | None]:
    """The file's channel colours, one per output channel (RGB samples get none: defaults apply)."""
    colours = [colour_hex(c) for c in series.channel_colors]
    return colours if len(colours) == series.shape[1] else [None] * series.shape[1]


def series_attributes(
    series, levels: Sequence[Level], ranges: Sequence[tuple[float, float]], method: str, version: str
) -> dict[str, Any]:
    """The image group attributes of ``series`` (RGB folded into C): its multiscale and display settings.

    ``ranges`` are each channel's (min, max), for the display windows.
    """
    multiscale = multiscales(
        series.name or f"series {series.index}", levels, series.physical_size, time_step(series._meta), method, version
    )
    display = omero(
        channel_labels(series), channel_colours(series), ranges, series.dtype, series.shape[2],
        rgb=series.chunks[1] > 1,
    )  # fmt: skip
    return image_attributes(multiscale, display, version)


def image_attributes(multiscale: list[dict[str, Any]], display: dict[str, Any], version: str) -> dict[str, Any]:
    if version == "0.4":
        return {"multiscales": multiscale, "omero": display}
    return {"ome": {"version": version, "multiscales": multiscale, "omero": display}}


def root_attributes(version: str) -> dict[str, Any]:
    if version == "0.4":
        return {"bioformats2raw.layout": BF2RAW_LAYOUT}
    return {"ome": {"version": version, "bioformats2raw.layout": BF2RAW_LAYOUT}}


def ome_group_attributes(series_paths: Sequence[str], version: str) -> dict[str, Any]:
    if version == "0.4":
        return {"series": list(series_paths)}
    return {"ome": {"version": version, "series": list(series_paths)}}
