"""A small picture of a series for its notebook repr: bounded in bytes read and in time.

It shows the smallest resolution level at least :data:`SIDE` pixels across (or the full
level if the image is smaller), at the middle time point: a maximum projection over Z
when every plane fits in :data:`BUDGET` bytes, else the middle Z plane, and only the
centre of the plane when even one plane is larger. Channels are drawn in their OME
colours (defaults where the file has none), each auto-contrasted; RGB is shown as RGB.
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import guard
from ..errors import FileClosedError, ReadTimeoutError
from ..reader.parallel import serial_reads
from .facts import reason
from .png import encode_rgb

#: Longest side of the picture, in pixels.
SIDE = 256
#: Bytes of pixels one thumbnail may read.
BUDGET = 4 << 20
#: Seconds one thumbnail's reads may take in all.
SECONDS = 5.0
#: Channels drawn at most (many-channel FLIM or spectral files would be a grey blur).
MAX_CHANNELS = 8
#: Percentiles that auto-contrast maps to black and to full colour.
CONTRAST_PERCENTILES = (0.1, 99.9)


@dataclass(frozen=True)
class Thumbnail:
    """PNG bytes (None when there is no picture) and a caption saying what it shows, or why not."""

    png: bytes | None
    width: int
    height: int
    caption: str

    @property
    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png or b"").decode("ascii")


def make_thumbnail(series: Any) -> Thumbnail:
    """The thumbnail of a series; never raises (a failed read gives a caption with the reason)."""
    try:
        return _build(series)
    except ReadTimeoutError:
        return Thumbnail(None, 0, 0, f"no thumbnail: reading it took longer than {SECONDS:g} s")
    except FileClosedError:
        return Thumbnail(None, 0, 0, "no thumbnail: the file is closed")
    except Exception as error:
        return Thumbnail(None, 0, 0, f"no thumbnail: {reason(error)}")


def pick_level(series: Any) -> Any:
    """The smallest level at least SIDE pixels across, or the largest level if none is."""
    levels = sorted(series.levels, key=lambda level: level.shape[3] * level.shape[4])
    wide_enough = [level for level in levels if max(level.shape[3:5]) >= SIDE]
    return wide_enough[0] if wide_enough else levels[-1]


def _build(series: Any) -> Thumbnail:
    if series.file.state == "not yet opened":
        return Thumbnail(None, 0, 0, "no thumbnail: the file is not opened in this process yet")
    level = pick_level(series)
    size_t, size_c, size_z, height, width = level.shape[:5]
    samples = level.shape[5] if level.ndim == 6 else 1
    channels = 1 if samples > 1 else min(size_c, MAX_CHANNELS)
    notes = (
        [f"level {level.level_index} of {level.resolution_count} ({width}×{height})"] if len(level.levels) > 1 else []
    )
    if size_t > 1:
        notes.append(f"t={size_t // 2} of {size_t}")
    plane_bytes = height * width * samples * level.dtype.itemsize
    project = size_z > 1 and channels * size_z * plane_bytes <= BUDGET
    z: int | slice = slice(None) if project else size_z // 2
    if project:
        notes.append(f"max over {size_z} z planes")
    elif size_z > 1:
        notes.append(f"z={size_z // 2} of {size_z}")
    (y0, y1), (x0, x1) = _centre(height, width, BUDGET / (channels * plane_bytes))
    if (y1 - y0, x1 - x0) != (height, width):
        notes.append(f"centre {x1 - x0}×{y1 - y0} (the plane is too large for a thumbnail)")
    if size_c > channels and samples == 1:
        notes.append(f"first {channels} of {size_c} channels")
    with serial_reads(), guard.deadline(SECONDS):
        data = level[size_t // 2, :channels, z, y0:y1, x0:x1]  # (C, [Z,] Y, X[, S])
    if project:
        data = data.max(axis=1)
    layers = np.moveaxis(data[0], -1, 0) if samples > 1 else data  # one channel's samples become the layers
    small = _shrink(layers.astype(np.float64), math.ceil(max(y1 - y0, x1 - x0) / SIDE))
    small = np.nan_to_num(small, nan=0.0, posinf=0.0, neginf=0.0)
    if samples in (3, 4):
        image = _natural_colour(small[:3], level.dtype)
    else:
        colours = _sample_colours(samples) if samples > 1 else _channel_colours(level, channels)
        image = _composite(small, colours)
    return Thumbnail(encode_rgb(image), image.shape[1], image.shape[0], ", ".join(notes))


def _centre(height: int, width: int, fraction: float) -> tuple[tuple[int, int], tuple[int, int]]:
    """The centred rectangle holding at most ``fraction`` of the plane, of the plane's proportions."""
    if fraction >= 1:
        return (0, height), (0, width)
    scale = math.sqrt(fraction)
    rows, columns = max(1, int(height * scale)), max(1, int(width * scale))
    top, left = (height - rows) // 2, (width - columns) // 2
    return (top, top + rows), (left, left + columns)


def _shrink(layers: np.ndarray, step: int) -> np.ndarray:
    """Means of ``step`` × ``step`` blocks of each (Y, X) layer (blocks at the edges may be smaller)."""
    if step <= 1:
        return layers
    height, width = layers.shape[1:]
    rows, columns = np.arange(0, height, step), np.arange(0, width, step)
    sums = np.add.reduceat(np.add.reduceat(layers, rows, axis=1), columns, axis=2)
    counts = np.outer(np.diff(np.append(rows, height)), np.diff(np.append(columns, width)))
    return sums / counts


def _stretch(values: np.ndarray) -> np.ndarray:
    """Values mapped to 0..1 between the contrast percentiles (all zeros for a flat image)."""
    low, high = np.percentile(values, CONTRAST_PERCENTILES)
    if high <= low:
        high = values.max()
    if high <= low:
        return np.zeros_like(values)
    return np.clip((values - low) / (high - low), 0, 1)


def _natural_colour(rgb: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """RGB samples as they are when 8-bit, else stretched together (keeping the hues)."""
    scaled = rgb / 255 if dtype == np.uint8 else _stretch(rgb)
    return _to_bytes(np.moveaxis(scaled, 0, -1))


def _composite(layers: np.ndarray, colours: list[tuple[float, float, float]]) -> np.ndarray:
    """Each auto-contrasted layer tinted with its colour, added up."""
    total = np.zeros((*layers.shape[1:], 3))
    for layer, colour in zip(layers, colours, strict=True):
        total += _stretch(layer)[..., None] * np.asarray(colour)
    return _to_bytes(total)


def _to_bytes(image: np.ndarray) -> np.ndarray:
    return np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)


def _rgb(hex_colour: str) -> tuple[float, float, float]:
    value = int(hex_colour, 16)
    return ((value >> 16) & 255) / 255, ((value >> 8) & 255) / 255, (value & 255) / 255


def _channel_colours(series: Any, count: int) -> list[tuple[float, float, float]]:
    """The file's colour per channel; the converter's defaults for channels without one (or black)."""
    from ..convert.ngff import colour_hex, default_colours

    defaults = [_rgb(c) for c in default_colours(series.shape[1], rgb=False)]
    given = list(series.channel_colors)
    if len(given) != series.shape[1]:  # RGB samples folded into C
        given = [None] * series.shape[1]
    colours = []
    for index in range(count):
        colour = _rgb(colour_hex(given[index])) if given[index] is not None else None
        colours.append(colour if colour and any(colour) else defaults[index])
    return colours


def _sample_colours(samples: int) -> list[tuple[float, float, float]]:
    """Samples that are not RGB (2, or more than 4 per pixel) get the default channel colours."""
    from ..convert.ngff import default_colours

    return [_rgb(c) for c in default_colours(samples, rgb=False)]
