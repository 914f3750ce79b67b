"""Chunk shapes of the virtual store: whole tiles of the reader, so that one chunk is one ``openBytes``.

A chunk starts from the reader's optimal tile and grows by whole tiles until it is at least
convert's default chunk edge (1024) on Y and X, or the whole plane: small tiles (a 256-row
strip, a 240 x 240 SVS tile) would mean many small requests. It then loses rows (then
columns) until it fits ``MAX_CHUNK_BYTES``, far below Java's 2 GB array limit and small enough for a browser. RGB
samples folded into C stay in one chunk, because one ``openBytes`` returns them together.
"""

from __future__ import annotations

import math

from ..convert.options import DEFAULT_TILE

#: The largest chunk, in bytes (one ``openBytes`` call and one HTTP response).
MAX_CHUNK_BYTES = 64 << 20


def chunk_shape(
    shape: tuple[int, ...], tile: tuple[int, int], channel_step: int, itemsize: int
) -> tuple[int, int, int, int, int]:
    """The (T, C, Z, Y, X) chunk of a TCZYX level of ``shape`` read in ``tile`` (height, width) tiles."""
    height, width = shape[3], shape[4]
    sizes = []
    for extent, step in ((height, tile[0]), (width, tile[1])):
        step = max(1, min(step, extent))
        sizes.append(min(extent, step * math.ceil(min(DEFAULT_TILE, extent) / step)))
    chunk_y, chunk_x = sizes
    pixel = itemsize * channel_step
    while chunk_y * chunk_x * pixel > MAX_CHUNK_BYTES:
        if chunk_y > 1:  # fewer rows first: a strip is decoded whole, whatever the width asked for
            chunk_y = _halved(chunk_y, tile[0])
        else:
            chunk_x = _halved(chunk_x, tile[1])
    return (1, min(channel_step, shape[1]), 1, chunk_y, chunk_x)


def _halved(size: int, step: int) -> int:
    """About half of ``size``: whole tiles while there are several, else plain halving."""
    if size >= 2 * step:
        return step * max(1, (size // step) // 2)
    return math.ceil(size / 2)
