"""OME-TIFF output: every series in one tiled, compressed file, pyramids as SubIFDs.

Planes are written in XYZCT order, one IFD each, each followed by its reduced
resolutions as SubIFDs, with the updated OME-XML in the first IFD. Tiles stream
from bands computed in parallel, so memory stays bounded. When levels must be
made by downsampling, the pyramid is first built in a scratch Zarr store beside
the output (the TIFF needs all of level 0 before level 1), then copied.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import zarr

from ..array import CHUNK_TARGET_BYTES
from ..display.progress import Progress
from . import omexml, parallel, pyramid, store
from .options import Options

#: Classic TIFF addresses 4 GiB; leave room for IFDs and the OME-XML.
_CLASSIC_TIFF_LIMIT = 2**32 - 2**26


def write(
    image,
    picked: list,
    path: Path,
    options: Options,
    runner: parallel.Runner,
    progress: Progress,
    scratch: Callable[[], Path],
) -> None:
    """Write the picked series of ``image`` (opened with RGB samples kept in S) to ``path``.

    ``scratch()`` gives a new folder for intermediate levels.
    """
    import tifffile

    plans = [pyramid.plan(series, options.levels, options.tile(series.shape)) for series in picked]
    total = sum(pyramid.nbytes(plan, series.dtype) for series, plan in zip(picked, plans, strict=True))
    progress.expect(total)
    sources = _level_arrays(picked, plans, options, runner, progress, scratch)
    first_ifds = np.cumsum([0] + [math.prod(series.shape[:3]) for series in picked[:-1]])
    xml = omexml.for_tiff(image.ome, picked, [int(i) for i in first_ifds]).encode("utf-8")
    with tifffile.TiffWriter(path, bigtiff=total > _CLASSIC_TIFF_LIMIT, byteorder="<") as tiff:
        for index, (series, plan, arrays) in enumerate(zip(picked, plans, sources, strict=True)):
            tile = options.tile(series.shape)
            for level, array in zip(plan, arrays, strict=True):
                tiff.write(
                    _tiles(runner, array, tile, progress),
                    shape=level.shape,
                    dtype=series.dtype,
                    tile=tile,
                    **_photometric(series),
                    compression=None if options.compression == "none" else options.compression,
                    compressionargs=None if options.compression_level is None else {"level": options.compression_level},
                    subifds=len(plan) - 1 if level.index == 0 else None,
                    subfiletype=1 if level.index else 0,
                    description=xml if index == 0 and level.index == 0 else None,
                    metadata=None,
                    software=False,
                    maxworkers=runner.workers,
                    buffersize=CHUNK_TARGET_BYTES,
                )


def _photometric(series) -> dict:
    samples = series.shape[5] if series.ndim == 6 else 1
    if samples == 1:
        return {"photometric": "minisblack"}
    if samples == 3:
        return {"photometric": "rgb", "planarconfig": "contig"}
    if samples == 4:
        return {"photometric": "rgb", "planarconfig": "contig", "extrasamples": ("unassalpha",)}
    return {"photometric": "minisblack", "planarconfig": "contig"}


def _level_arrays(
    picked: list,
    plans: list,
    options: Options,
    runner: parallel.Runner,
    progress: Progress,
    scratch: Callable[[], Path],
) -> list[list]:
    """Per series, one array per level to copy from: source levels, or a scratch pyramid."""
    if all(level.source_level is not None for plan in plans for level in plan):
        return [
            [series.level(level.source_level) for level in plan] for series, plan in zip(picked, plans, strict=True)
        ]
    root = zarr.open_group(zarr.storage.LocalStore(scratch()), mode="w-", zarr_format=options.zarr_format)
    pyramids = []
    for position, (series, plan) in enumerate(zip(picked, plans, strict=True)):
        group = root.create_group(str(position))
        arrays = store.create_levels(group, plan, series.dtype, options, scratch=True)
        pyramids.append(store.Pyramid(series, plan, arrays))
    progress.expect(sum(entry.nbytes for entry in pyramids))
    store.write_levels(pyramids, runner, progress, options)
    return [entry.arrays for entry in pyramids]


def _band_chunks(shape: tuple[int, ...], tile: tuple[int, int], itemsize: int) -> tuple[int, ...]:
    """Blocks of whole tiles of about ``CHUNK_TARGET_BYTES``, in TIFF tile order when read in C order.

    Full-width bands of tile rows; when one tile row is larger than the target, one
    tile row split into runs of tiles.
    """
    pixel = itemsize * math.prod(shape[5:])
    tile_row = tile[0] * shape[4] * pixel
    if tile_row <= CHUNK_TARGET_BYTES:
        rows, columns = CHUNK_TARGET_BYTES // tile_row * tile[0], shape[4]
    else:
        rows, columns = tile[0], max(1, CHUNK_TARGET_BYTES // (tile[0] * tile[1] * pixel)) * tile[1]
    return (1, 1, 1, min(rows, shape[3]), columns, *shape[5:])


def _tiles(runner: parallel.Runner, array, tile: tuple[int, int], progress: Progress) -> Iterator[np.ndarray]:
    """The tiles of every plane of ``array`` (a Series level or zarr array), in TIFF order."""
    import dask.array as da

    chunks = _band_chunks(array.shape, tile, array.dtype.itemsize)
    source = array.to_dask(chunks=chunks) if hasattr(array, "to_dask") else da.from_zarr(array, chunks=chunks)
    height, width = tile
    for band in runner.ordered(parallel.Block.compute, parallel.blocks(source)):
        progress.advance(band.nbytes)  # before its tiles: tifffile stops iterating after the last tile
        rows = band[0, 0, 0]
        for top in range(0, rows.shape[0], height):
            for left in range(0, rows.shape[1], width):
                yield rows[top : top + height, left : left + width]
