"""One series as an OME-Zarr image: its levels, chunk grids, documents and chunk bytes.

Keys inside an image (paths relative to its group)::

    zarr.json                        multiscales + omero
    <level>/zarr.json                one array per level, axes t, c, z, y, x
    <level>/c/<t>/<c>/<z>/<y>/<x>    one chunk = one read of the file (or of the level above)
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import TypeVar

from ..convert import pyramid, store
from ..convert.options import DEFAULT_TILE
from . import documents
from .chunking import chunk_shape
from .levels import LevelReader

#: The display window is estimated from at most this many pixels across (see ``display_ranges``).
WINDOW_SAMPLE = 4096
CHUNK_FOLDER = "c"
Entry = tuple[str, bool]  # a name in a folder, and whether it is a folder
T = TypeVar("T")


def number(text: str, limit: int) -> int | None:
    """``text`` as a key component ``0 <= n < limit`` written canonically (no sign, no leading zero)."""
    if not (text.isascii() and text.isdigit()) or (len(text) > 1 and text[0] == "0"):
        return None
    value = int(text)
    return value if value < limit else None


class VirtualImage:
    """A series (level 0, RGB folded into C) with the levels ``bf.convert`` would write."""

    def __init__(self, series, compression: str) -> None:
        self.series = series
        self.levels = pyramid.plan(series, None, (DEFAULT_TILE, DEFAULT_TILE))
        step = series.chunks[1]  # RGB samples folded into C come from one read
        chunks: list[tuple[int, ...]] = []
        for level in self.levels:
            if level.source_level is None:  # computed: the chunk of the level above, within this level
                above = chunks[-1]
                chunks.append((*above[:3], min(above[3], level.shape[3]), min(above[4], level.shape[4])))
            else:
                tile = series.level(level.source_level).tile_size
                chunks.append(chunk_shape(level.shape, tile, step, series.dtype.itemsize))
        self.chunks = tuple(chunks)
        self.grids = tuple(
            tuple(math.ceil(n / c) for n, c in zip(level.shape, chunk, strict=True))
            for level, chunk in zip(self.levels, self.chunks, strict=True)
        )
        self.compression = compression
        self._reader = LevelReader(series, self.levels, self.chunks)
        self._locks = {"arrays": threading.Lock(), "group": threading.Lock()}  # one each: the group reads pixels
        self._built: dict[str, object] = {}

    # ------------------------------------------------------------- documents

    def _once(self, name: str, build: Callable[[], T]) -> T:
        """``build()`` the first time only, even when many threads ask at once."""
        if name not in self._built:
            with self._locks[name]:
                if name not in self._built:
                    self._built[name] = build()
        return self._built[name]  # type: ignore[return-value]

    @property
    def _arrays(self) -> tuple[dict[str, bytes], list]:
        """Each level's array document, and each level's numcodecs codec (None: raw bytes)."""
        return self._once(
            "arrays", lambda: documents.level_arrays(self.levels, self.chunks, self.series.dtype, self.compression)
        )

    @property
    def _group(self) -> bytes:
        return self._once("group", lambda: documents.image_group(self.series, self.levels, self.display_ranges()))

    def display_ranges(self) -> list[tuple[float, float]]:
        """Each channel's (min, max) for the display window, from one plane rather than every pixel.

        convert knows the true range because it reads everything; here that would make opening
        the store read the whole file. The estimate is the central (at most) 4096 x 4096 pixels
        of the middle Z plane at T = 0, in the smallest level the file itself stores.
        """
        level = self.series.level(self.series.resolution_count - 1)
        height, width = level.shape[3:5]
        top, left = max(0, (height - WINDOW_SAMPLE) // 2), max(0, (width - WINDOW_SAMPLE) // 2)
        rows, columns = slice(top, top + WINDOW_SAMPLE), slice(left, left + WINDOW_SAMPLE)
        middle = level.shape[2] // 2
        sample = level[0:1, :, middle : middle + 1, rows, columns]
        return store.display_ranges(*store.channel_extremes(sample))

    # ------------------------------------------------------------- keys

    def _chunk(self, parts: list[str]) -> tuple[int, tuple[int, ...]] | None:
        """(level, chunk index) for ``<level>/c/<t>/<c>/<z>/<y>/<x>``, None if there is no such chunk."""
        if len(parts) != 7 or parts[1] != CHUNK_FOLDER:
            return None
        level = number(parts[0], len(self.levels))
        if level is None:
            return None
        index = [number(text, count) for text, count in zip(parts[2:], self.grids[level], strict=True)]
        return None if None in index else (level, tuple(index))  # type: ignore[return-value]

    def has(self, parts: list[str]) -> bool:
        """Whether the image has the key ``parts``, without building or reading anything."""
        if parts == ["zarr.json"]:
            return True
        if len(parts) == 2 and parts[1] == "zarr.json":
            return number(parts[0], len(self.levels)) is not None
        return self._chunk(parts) is not None

    def get(self, parts: list[str]) -> bytes | memoryview | None:
        """The value at the key ``parts`` (split on ``/``), or None if the image has no such key."""
        if parts == ["zarr.json"]:
            return self._group
        if len(parts) == 2 and parts[1] == "zarr.json":
            return self._arrays[0].get("/".join(parts))
        found = self._chunk(parts)
        return None if found is None else self.chunk_bytes(*found)

    def size(self, parts: list[str]) -> int | None:
        """The length of the value at ``parts`` without reading pixels when it can be known; None if absent."""
        found = self._chunk(parts)
        if found is None:
            value = self.get(parts)
            return None if value is None else len(value)
        level, _ = found
        if self._arrays[1][level] is not None:  # compressed: only the encoded chunk knows its length
            return len(self.chunk_bytes(*found))
        return math.prod(self.chunks[level]) * self.series.dtype.itemsize

    def chunk_bytes(self, level: int, index: tuple[int, ...]) -> bytes | memoryview:
        """One stored chunk: read (or computed), padded to full size at the edges, encoded."""
        chunk, shape = self.chunks[level], self.levels[level].shape
        region = tuple(slice(i * c, min((i + 1) * c, n)) for i, c, n in zip(index, chunk, shape, strict=True))
        data = self._reader.read(level, region)  # type: ignore[arg-type]
        return store.encode_chunk(data, chunk, 0, self._arrays[1][level])

    def entries(self, parts: list[str]) -> list[Entry] | None:
        """The names in the folder ``parts`` of this image, or None if it is not a folder."""
        if not parts:
            return [("zarr.json", False)] + [(str(level.index), True) for level in self.levels]
        level = number(parts[0], len(self.levels))
        if level is None or (len(parts) > 1 and parts[1] != CHUNK_FOLDER):
            return None
        if len(parts) == 1:
            return [("zarr.json", False), (CHUNK_FOLDER, True)]
        depth = len(parts) - 2  # chunk index components already given
        grid = self.grids[level]
        if depth >= len(grid) or any(number(t, n) is None for t, n in zip(parts[2:], grid, strict=False)):
            return None
        leaf = depth == len(grid) - 1
        return [(str(i), not leaf) for i in range(grid[depth])]
