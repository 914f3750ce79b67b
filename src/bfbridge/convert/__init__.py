"""Convert any Bio-Formats file to OME-Zarr (NGFF 0.5 or 0.4) or OME-TIFF.

>>> import bfbridge as bf
>>> bf.convert("cells.czi", "cells.ome.zarr")                    # NGFF 0.5, pyramid, zstd
>>> bf.convert("cells.czi", "cells.ome.tif", compression="zstd")  # one OME-TIFF, all series

The output format follows from the suffix. Conversion reads blocks in parallel
(threads, or the active ``dask.distributed`` client), holds only a few blocks in
memory, writes into a hidden sibling of the target and renames it at the end.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

from ..display.progress import Progress, ProgressCallback
from ..reader import ImageFile, open_file
from . import options, safe


def convert(
    src: str | os.PathLike | ImageFile,
    dst: str | os.PathLike,
    *,
    ngff_version: str = "0.5",
    compression: str | None = None,
    compression_level: int | None = None,
    chunks: Sequence[int] | None = None,
    levels: int | None = None,
    downsample_method: str = "mean",
    series: int | Sequence[int] | None = None,
    overwrite: bool = False,
    progress: bool | ProgressCallback = False,
    max_workers: int | None = None,
    group_files: bool = True,
) -> Path:
    """Convert ``src`` to ``dst`` (``*.ome.zarr``, ``*.ome.tif`` or ``*.ome.tiff``); return ``dst``.

    Args:
        src: a file path, a Bio-Formats ``.fake`` id, or an open :class:`~bfbridge.ImageFile`.
        dst: the output; it must not exist unless ``overwrite``.
        ngff_version: ``"0.5"`` (zarr v3) or ``"0.4"`` (zarr v2, for older viewers). OME-Zarr only.
        compression: OME-Zarr: ``blosc-zstd`` (default), ``blosc-lz4``, ``zstd``, ``gzip``, ``none``.
            OME-TIFF: ``zlib`` (default), ``zstd``, ``lzw``, ``none``.
        compression_level: codec level; default the codec's usual one.
        chunks: ``(Y, X)`` or ``(T, C, Z, Y, X)`` Zarr chunk shape, or ``(Y, X)`` TIFF tile
            (multiples of 16); default ``(1024, 1024)``, one plane deep.
        levels: resolution levels to write. Default: the source's own pyramid, or halve
            until the smallest level fits in one chunk/tile.
        downsample_method: how levels are made: ``mean``, ``nearest``, ``max`` or ``min`` of 2x2 pixels.
        series: index or indices of the series to convert; default all.
        overwrite: replace an existing ``dst`` (only once the new output is complete).
        progress: ``True`` for a progress bar on stderr, or ``callback(done_bytes, total_bytes)``.
        max_workers: blocks read and written at once; default the reader pool size.
        group_files: let Bio-Formats group companion files (as in :func:`bfbridge.open`).

    Raises:
        FileExistsError: ``dst`` exists and ``overwrite`` is false.
        ValueError: an option is invalid, or ``dst`` would replace the source.
        bfbridge.BioFormatsError: the source cannot be read.
    """
    target = Path(dst).expanduser().absolute()
    chosen = options.resolve(
        target, ngff_version=ngff_version, compression=compression, compression_level=compression_level,
        chunks=chunks, levels=levels, downsample_method=downsample_method, series=series, max_workers=max_workers,
    )  # fmt: skip
    safe.check_target(target, overwrite)
    from . import ometiff, omezarr  # zarr, dask and ome-types load on first use, not with bfbridge
    from .parallel import Runner

    with ExitStack() as stack:
        image = _source(src, group_files, chosen.max_workers, stack)
        picked = _pick(image, chosen.series)
        _refuse_replacing_source(image, target)
        if chosen.format == options.ZARR:
            picked = _fold_samples(image, picked, stack)
        bar = stack.enter_context(Progress(progress, f"{Path(image.path).name} -> {target.name}"))
        staging = stack.enter_context(safe.staged(target, overwrite))
        runner = stack.enter_context(Runner(chosen.max_workers or image.pool_size))  # stops before cleanup
        if chosen.format == options.ZARR:
            omezarr.write(image, picked, staging.path, chosen, runner, bar)
        else:
            ometiff.write(image, picked, staging.path, chosen, runner, bar, staging.scratch)
    return target


def _source(src, group_files: bool, max_workers: int | None, stack: ExitStack) -> ImageFile:
    """The file to read, with RGB samples in S; opened here (and closed by ``stack``) unless given open."""
    if isinstance(src, ImageFile) and not src.spec.fold_rgb:
        return src
    if isinstance(src, ImageFile):
        image = ImageFile(replace(src.spec, fold_rgb=False))
    else:
        image = open_file(src, group_files=group_files, max_workers=max_workers)
    stack.callback(image.close)
    return image


def _fold_samples(image: ImageFile, picked: list, stack: ExitStack) -> list:
    """The picked series with RGB samples folded into C (NGFF has no S axis): RGB ones from a folded view."""
    if all(series.ndim == 5 for series in picked):
        return picked
    folded = ImageFile(replace(image.spec, fold_rgb=True))
    stack.callback(folded.close)
    return [folded.series[series.index] if series.ndim == 6 else series for series in picked]


def _pick(image: ImageFile, indices: tuple[int, ...] | None) -> list:
    count = len(image.series)
    if indices is None:
        return list(image.series)
    wrong = [i for i in indices if not 0 <= i < count]
    if wrong:
        raise ValueError(f"{image.path} has {count} series (0 to {count - 1}); there is no series {wrong[0]}")
    return [image.series[i] for i in indices]


def _refuse_replacing_source(image: ImageFile, target: Path) -> None:
    if image.spec.is_fake or image.spec.is_remote:
        return
    sources = {os.path.realpath(p) for p in (image.path, *image.used_files)}
    if os.path.realpath(target) in sources:
        raise ValueError(f"{target} is the file being converted; choose another output name")


__all__ = ["convert"]
