"""Resolution levels: copy the source's own pyramid, or build one by 2x downsampling.

Bio-Formats levels are read from the source as they are. Missing levels are made
from the level before (already written), halving Y and X (rounding up; the last
odd row or column is reduced on its own), so each level costs a read of a level
four times smaller rather than of the full image.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: Y and X axes of a TCZYX[S] array.
Y, X = 3, 4


@dataclass(frozen=True)
class Level:
    """One resolution level of an output series."""

    index: int
    shape: tuple[int, ...]  # TCZYX[S]
    factor: tuple[float, float]  # (Y, X) size of one pixel, in level-0 pixels
    source_level: int | None  # the Bio-Formats resolution it copies; None: downsampled from the level before


def nbytes(levels: tuple[Level, ...], dtype: np.dtype) -> int:
    """Uncompressed bytes of all ``levels``."""
    return sum(math.prod(level.shape) for level in levels) * np.dtype(dtype).itemsize


def plan(series, levels: int | None, tile: tuple[int, int]) -> tuple[Level, ...]:
    """The levels to write for ``series`` (a Series at level 0).

    ``levels=None``: the source's levels when it has a pyramid; otherwise halve until
    the smallest level fits in one ``tile``. ``levels=n``: exactly ``n`` levels (fewer
    only when a level reaches 1 x 1), source levels first.
    """
    full_y, full_x = series.shape[Y], series.shape[X]
    available = series.resolution_count
    copied = available if levels is None else min(levels, available)
    result = []
    for n in range(copied):
        shape = series.level(n).shape
        result.append(Level(n, shape, (full_y / shape[Y], full_x / shape[X]), n))
    while _wants_more(result, levels, available, tile):
        last = result[-1]
        shape = list(last.shape)
        shape[Y], shape[X] = math.ceil(shape[Y] / 2), math.ceil(shape[X] / 2)
        result.append(Level(len(result), tuple(shape), (last.factor[0] * 2, last.factor[1] * 2), None))
    return tuple(result)


def _wants_more(result: list[Level], levels: int | None, available: int, tile: tuple[int, int]) -> bool:
    last = result[-1].shape
    if levels is None:
        return available == 1 and (last[Y] > tile[0] or last[X] > tile[1])
    return len(result) < levels and (last[Y] > 1 or last[X] > 1)


def downsample(previous, chunks: tuple[tuple[int, ...], ...], method: str):
    """A dask array of the level after ``previous`` (a zarr array), in ``chunks``.

    Each output block is computed from the 2x larger region of ``previous`` that it
    covers, so blocks are independent and every output chunk is written whole.
    """
    import dask.array as da

    source_chunks = list(chunks)
    for axis in (Y, X):
        source_chunks[axis] = _source_sizes(chunks[axis], previous.shape[axis])
    source = da.from_zarr(previous, chunks=tuple(source_chunks))
    return source.map_blocks(reduce_block, method=method, chunks=chunks, dtype=previous.dtype)


def _source_sizes(out_sizes: tuple[int, ...], total: int) -> tuple[int, ...]:
    head = tuple(2 * size for size in out_sizes[:-1])
    return (*head, total - sum(head))


def reduce_block(block: np.ndarray, method: str) -> np.ndarray:
    """Halve Y and X of a TCZYX[S] block; an odd last row/column is reduced on its own."""
    pad = [(0, 0)] * block.ndim
    pad[Y], pad[X] = (0, block.shape[Y] % 2), (0, block.shape[X] % 2)
    if any(p[1] for p in pad):
        block = np.pad(block, pad, mode="edge")  # repeating the edge keeps means and extremes exact
    t, c, z, height, width = block.shape[:5]
    pairs = block.reshape(t, c, z, height // 2, 2, width // 2, 2, *block.shape[5:])
    if method == "nearest":
        return pairs[:, :, :, :, 0, :, 0]
    if method == "max":
        return pairs.max(axis=(4, 6))
    if method == "min":
        return pairs.min(axis=(4, 6))
    mean = pairs.mean(axis=(4, 6), dtype=np.float64)
    if np.issubdtype(block.dtype, np.integer):
        mean = np.rint(mean)
    return mean.astype(block.dtype)
