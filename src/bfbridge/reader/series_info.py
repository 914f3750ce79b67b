"""Core facts of a series (sizes, pixel type, levels, palette), read once at open."""

from __future__ import annotations

import warnings
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

import jpype
import numpy as np

from .. import metadata, pixels


@dataclass(frozen=True)
class LevelInfo:
    """Size and preferred tile of one resolution level."""

    size_y: int
    size_x: int
    tile_y: int
    tile_x: int


@dataclass(frozen=True)
class SeriesInfo:
    """Bio-Formats core metadata of one series, gathered once at open."""

    index: int
    levels: tuple[LevelInfo, ...]
    size_z: int
    size_c: int
    size_t: int
    effective_c: int
    samples: int
    pixel_type: int
    little_endian: bool
    interleaved: bool
    indexed: bool
    false_color: bool
    dimension_order: str
    image_count: int
    modulo: dict[str, dict[str, Any]] = field(default_factory=dict)
    table_bits: int = 0  # 8 or 16: a true palette's colour table (indexed, not false colour); else 0

    @property
    def palette(self) -> bool:
        """A true palette image: indexed, not a false-colour hint, and with a colour table."""
        return self.table_bits > 0


def read_series_info(reader, index: int) -> SeriesInfo:
    reader.setSeries(index)
    levels = []
    for level in range(int(reader.getResolutionCount())):
        reader.setResolution(level)
        levels.append(
            LevelInfo(
                int(reader.getSizeY()), int(reader.getSizeX()),
                int(reader.getOptimalTileHeight()), int(reader.getOptimalTileWidth()),
            )
        )  # fmt: skip
    reader.setResolution(0)
    indexed, false_color, samples = bool(reader.isIndexed()), bool(reader.isFalseColor()), reader.getRGBChannelCount()
    return SeriesInfo(
        index=index,
        levels=tuple(levels),
        size_z=int(reader.getSizeZ()),
        size_c=int(reader.getSizeC()),
        size_t=int(reader.getSizeT()),
        effective_c=int(reader.getEffectiveSizeC()),
        samples=int(samples),
        pixel_type=int(reader.getPixelType()),
        little_endian=bool(reader.isLittleEndian()),
        interleaved=bool(reader.isInterleaved()),
        indexed=indexed,
        false_color=false_color,
        dimension_order=str(reader.getDimensionOrder()),
        image_count=int(reader.getImageCount()),
        modulo=metadata.modulo(reader),
        table_bits=_table_bits(reader, index) if indexed and not false_color and samples == 1 else 0,
    )


def _table_bits(reader, index: int) -> int:
    """8 or 16: the colour table a palette series carries; 0 (raw indices, with a warning) if none.

    Some readers only set the table once a plane has been read, so one pixel is read first.
    """
    if reader.getImageCount() > 0:
        with suppress(jpype.JException):  # a damaged first plane is reported when it is read
            reader.openBytes(0, 0, 0, 1, 1)
    table = pixels.lookup_table(reader)
    if table is not None:
        return 8 if table.dtype == np.uint8 else 16
    warnings.warn(
        f"{reader.getCurrentFile()}: series {index} is a palette image without a colour table; giving its raw indices",
        metadata.MetadataWarning,
        stacklevel=2,
    )
    return 0


def plane_index(info: SeriesInfo, t: int, c: int, z: int) -> int:
    """``IFormatReader.getIndex(z, c, t)`` computed in Python from the dimension order."""
    sizes = {"Z": info.size_z, "C": info.effective_c, "T": info.size_t}
    position = {"Z": z, "C": c, "T": t}
    index, stride = 0, 1
    for axis in info.dimension_order[2:]:
        index += position[axis] * stride
        stride *= sizes[axis]
    return index
