"""What a repr shows of a file or a series, gathered without ever raising.

Core facts (shape, dtype, levels) were read at open and cannot fail. Metadata can (a
closed or damaged file, a handle not opened yet in this process): what fails is left
out and the reason kept in ``problems``. Nothing here reads pixels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")

#: Series a file's repr describes at most; the rest are counted.
LISTED_SERIES = 200
#: Used files a file's repr names at most.
LISTED_FILES = 50


@dataclass
class SeriesFacts:
    index: int
    name: str
    sizes: dict[str, int]
    dtype: str
    nbytes: int
    level: int
    levels: list[tuple[int, int]]  # (Y, X) of each resolution level
    chunks: tuple[int, ...]
    pixel_sizes: list[tuple[str, str]] = field(default_factory=list)  # (axis, "0.5 µm")
    channels: list[tuple[str, str | None]] = field(default_factory=list)  # (label, "#RRGGBB" or None)
    problems: list[str] = field(default_factory=list)

    @property
    def dims_text(self) -> str:
        return " × ".join(f"{axis}={size}" for axis, size in self.sizes.items())

    @property
    def levels_text(self) -> str:
        return ", ".join(f"{x}×{y}" for y, x in self.levels)


@dataclass
class FileFacts:
    path: str
    state: str
    format: str = ""
    reader: str = ""
    memo: str = ""
    series_count: int = 0
    used_files: list[str] = field(default_factory=list)
    used_file_count: int = 0
    series: list[SeriesFacts] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def reason(error: BaseException) -> str:
    """One short line saying why something failed."""
    text = " ".join(str(error).split())
    if len(text) > 300:
        text = text[:297] + "..."
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _attempt(problems: list[str], what: str, function: Callable[[], T], default: T) -> T:
    try:
        return function()
    except Exception as error:
        problems.append(f"{what}: {reason(error)}")
        return default


def human_bytes(count: int) -> str:
    size = float(count)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def colour_css(colour: int | None) -> str | None:
    """An OME colour (RGBA in a signed 32-bit int) as CSS ``#RRGGBB``."""
    from ..convert.ngff import colour_hex

    hex_colour = colour_hex(colour)
    return None if hex_colour is None else f"#{hex_colour}"


def series_facts(series: Any) -> SeriesFacts:
    facts = SeriesFacts(
        index=series.index,
        name="",
        sizes=dict(series.sizes),
        dtype=series.dtype.name,
        nbytes=series.nbytes,
        level=series.level_index,
        levels=[(level.shape[3], level.shape[4]) for level in series.levels],
        chunks=tuple(series.chunks),
    )
    if series.file.state == "not yet opened":
        facts.problems.append("metadata: the file is not opened in this process yet")
        return facts
    problems = facts.problems
    facts.name = _attempt(problems, "name", lambda: series.name, "")
    physical = _attempt(problems, "pixel size", lambda: series.physical_size, {})
    facts.pixel_sizes = [
        (axis, f"{physical[axis].value:.4g} {physical[axis].unit}") for axis in "XYZ" if axis in physical
    ]
    facts.channels = _attempt(problems, "channels", lambda: _channels(series), [])
    return facts


def _channels(series: Any) -> list[tuple[str, str | None]]:
    from ..array import channel_labels

    labels = channel_labels(series)
    colours = list(series.channel_colors)
    if len(colours) != len(labels):  # RGB samples folded into C have no colour of their own
        colours = [None] * len(labels)
    return [(label, colour_css(colour)) for label, colour in zip(labels, colours, strict=True)]


_MEMO = {"loaded": "loaded from the cache", "saved": "saved to the cache", None: "not memoized"}


def file_facts(image: Any, listed: int = LISTED_SERIES) -> FileFacts:
    facts = FileFacts(path=image.path, state=image.state)
    if facts.state == "not yet opened":
        facts.problems.append("a handle from another process: the file opens on first use")
        return facts
    problems = facts.problems
    facts.format = _attempt(problems, "format", lambda: image.format, "")
    facts.reader = _attempt(problems, "reader", lambda: image.reader, "")
    facts.memo = _attempt(problems, "memo", lambda: _MEMO.get(image.memo, str(image.memo)), "")
    used = _attempt(problems, "used files", lambda: image.used_files, ())
    facts.used_file_count = len(used)
    facts.used_files = list(used[:LISTED_FILES])
    series = _attempt(problems, "series", lambda: image.series, ())
    facts.series_count = len(series)
    facts.series = [series_facts(s) for s in series[:listed]]
    return facts
