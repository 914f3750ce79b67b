"""Pixels of any level of a virtual image: read from the file's own pyramid, or computed on the fly.

A computed level is what ``bf.convert`` writes: the level above halved by the mean of 2 x 2
pixels (``convert.pyramid.reduce_block``). A region is computed from the 2x larger region of
the level above, gathered one chunk of that level at a time, so memory stays a few chunks per
level and nothing is cached. Pairs of pixels start at even coordinates, and only the level's
last row or column can be odd, so the values equal convert's whatever the chunking.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..convert import pyramid
from ..convert.options import DOWNSAMPLE_METHODS

#: How computed levels are made: convert's default.
METHOD = DOWNSAMPLE_METHODS[0]
Y, X = pyramid.Y, pyramid.X

Region = tuple[slice, slice, slice, slice, slice]  # T, C, Z, Y, X


class LevelReader:
    """Regions of every level of one series (TCZYX, RGB folded into C)."""

    def __init__(self, series, levels: Sequence[pyramid.Level], chunks: Sequence[tuple[int, ...]]) -> None:
        self._levels = levels
        self._chunks = chunks
        self._sources = {lvl.index: series.level(lvl.source_level) for lvl in levels if lvl.source_level is not None}
        self._dtype = series.dtype

    def read(self, level: int, region: Region) -> np.ndarray:
        """The pixels of ``region`` of ``level``, as a new TCZYX array."""
        source = self._sources.get(level)
        if source is not None:
            return source[region]
        above = self._levels[level - 1].shape
        rows = slice(2 * region[Y].start, min(2 * region[Y].stop, above[Y]))
        columns = slice(2 * region[X].start, min(2 * region[X].stop, above[X]))
        sizes = [len(range(*axis.indices(n))) for axis, n in zip(region[:3], above[:3], strict=True)]
        block = np.empty((*sizes, rows.stop - rows.start, columns.stop - columns.start), dtype=self._dtype)
        step_y, step_x = self._chunks[level - 1][Y], self._chunks[level - 1][X]
        for top in range(rows.start, rows.stop, step_y):
            bottom = min(top + step_y, rows.stop)
            for left in range(columns.start, columns.stop, step_x):
                right = min(left + step_x, columns.stop)
                piece = self.read(level - 1, (*region[:3], slice(top, bottom), slice(left, right)))
                block[..., top - rows.start : bottom - rows.start, left - columns.start : right - columns.start] = piece
        return pyramid.reduce_block(block, METHOD)
