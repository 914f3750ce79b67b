"""Conversion options, one per ``bfbridge convert`` flag, checked before any work starts.

Bad options fail fast with a ``ValueError`` that names the accepted values, so a
long conversion never dies half-way over a typo.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ZARR = "zarr"
TIFF = "tiff"
NGFF_VERSIONS = ("0.5", "0.4")
ZARR_COMPRESSIONS = ("blosc-zstd", "blosc-lz4", "zstd", "gzip", "none")
TIFF_COMPRESSIONS = ("zlib", "zstd", "lzw", "none")
DOWNSAMPLE_METHODS = ("mean", "nearest", "max", "min")
#: The levels each codec accepts, checked up front because codecs fail only once writing has begun
#: (or silently clamp). zstd's are libzstd's ZSTD_minCLevel() to ZSTD_maxCLevel(); lzw has no levels.
COMPRESSION_LEVELS: dict[str, tuple[int, int] | None] = {
    "blosc-zstd": (0, 9),
    "blosc-lz4": (0, 9),
    "zstd": (-131072, 22),
    "gzip": (0, 9),
    "zlib": (0, 9),
    "lzw": None,
    "none": None,
}
#: OME-TIFF codecs that tifffile encodes only through imagecodecs.
IMAGECODECS_COMPRESSIONS = ("zstd", "lzw")
#: Chunk (OME-Zarr) and tile (OME-TIFF) height and width, as bioformats2raw and raw2ometiff use.
DEFAULT_TILE = 1024
#: TIFF tiles must be multiples of this (TIFF 6.0).
TIFF_TILE_MULTIPLE = 16


def output_format(target: Path) -> str:
    """``"zarr"`` or ``"tiff"``, from the output's suffix."""
    name = target.name.lower()
    if name.endswith(".zarr"):
        return ZARR
    if name.endswith((".ome.tif", ".ome.tiff")):
        return TIFF
    raise ValueError(
        f"cannot tell the output format from {target.name!r}: name it *.ome.zarr (OME-Zarr) "
        "or *.ome.tif / *.ome.tiff (OME-TIFF)"
    )


@dataclass(frozen=True)
class Options:
    """Validated options; ``chunks`` is always ``(T, C, Z, Y, X)``."""

    format: str
    ngff_version: str
    compression: str
    compression_level: int | None
    chunks: tuple[int, int, int, int, int]
    levels: int | None
    downsample_method: str
    series: tuple[int, ...] | None
    max_workers: int | None

    @property
    def zarr_format(self) -> int:
        return 3 if self.ngff_version == "0.5" else 2

    def chunk_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        """The chunk of an array of ``shape`` (TCZYX[S]): never larger than the array, S whole."""
        chunk = tuple(min(c, n) for c, n in zip(self.chunks, shape[:5], strict=True))
        return chunk + tuple(shape[5:])

    def tile(self, shape: tuple[int, ...]) -> tuple[int, int]:
        """TIFF tile (height, width) for a plane of ``shape``: small planes get one padded tile."""
        return tuple(  # type: ignore[return-value]
            min(size, _round_up(n, TIFF_TILE_MULTIPLE)) for size, n in zip(self.chunks[3:], shape[3:5], strict=True)
        )


def _round_up(value: int, multiple: int) -> int:
    return max(multiple, math.ceil(value / multiple) * multiple)


def resolve(target: Path, **requested: Any) -> Options:
    """Check :func:`bfbridge.convert`'s options (``requested``, by name) against the output format."""
    fmt = output_format(target)
    version = str(requested["ngff_version"])
    if version not in NGFF_VERSIONS:
        raise ValueError(f"ngff_version must be one of {', '.join(NGFF_VERSIONS)}, got {requested['ngff_version']!r}")
    allowed = ZARR_COMPRESSIONS if fmt == ZARR else TIFF_COMPRESSIONS
    compression = allowed[0] if requested["compression"] is None else str(requested["compression"]).lower()
    if compression not in allowed:
        raise ValueError(f"compression for {fmt} output must be one of {', '.join(allowed)}, got {compression!r}")
    level = _compression_level(compression, requested["compression_level"])
    if fmt == TIFF and compression in IMAGECODECS_COMPRESSIONS:
        _require_imagecodecs(compression)
    method = requested["downsample_method"]
    if method not in DOWNSAMPLE_METHODS:
        raise ValueError(f"downsample_method must be one of {', '.join(DOWNSAMPLE_METHODS)}, got {method!r}")
    return Options(
        format=fmt,
        ngff_version=version,
        compression=compression,
        compression_level=level,
        chunks=_chunks(requested["chunks"], fmt),
        levels=_optional_int(requested, "levels", 1),
        downsample_method=method,
        series=_series(requested["series"]),
        max_workers=_optional_int(requested, "max_workers", 1),
    )


def _optional_int(requested: dict[str, Any], name: str, least: int) -> int | None:
    value = requested[name]
    if value is None:
        return None
    if int(value) < least:
        raise ValueError(f"{name} must be at least {least}, got {value}")
    return int(value)


def _compression_level(compression: str, value: int | None) -> int | None:
    """``value`` if ``compression`` accepts it as a level (None: the codec's default)."""
    if value is None:
        return None
    bounds = COMPRESSION_LEVELS[compression]
    if bounds is None:
        raise ValueError(f"compression {compression!r} has no levels; leave compression_level unset, got {value}")
    low, high = bounds
    if not low <= int(value) <= high:
        raise ValueError(f"compression_level for {compression} must be {low} to {high}, got {value}")
    return int(value)


def _require_imagecodecs(compression: str) -> None:
    """tifffile needs imagecodecs for this codec; say so now rather than after the source is read."""
    try:
        import imagecodecs  # noqa: F401
    except ImportError:
        raise ValueError(
            f"OME-TIFF compression {compression!r} needs the imagecodecs package: pip install imagecodecs"
        ) from None


def parse_sizes(text: str) -> list[int]:
    """``"1024,1024"`` -> ``[1024, 1024]``: the CLI's ``--chunks`` and ``--series`` values."""
    import argparse

    try:
        values = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, e.g. 512,512; got {text!r}") from None
    if any(value < 0 for value in values):
        raise argparse.ArgumentTypeError(f"expected non-negative integers, got {text!r}")
    return values


def _chunks(chunks: Sequence[int] | None, fmt: str) -> tuple[int, int, int, int, int]:
    if chunks is None:
        return (1, 1, 1, DEFAULT_TILE, DEFAULT_TILE)
    values = tuple(int(c) for c in chunks)
    if len(values) == 2:
        values = (1, 1, 1, *values)
    if len(values) != 5 or min(values) < 1:
        raise ValueError(f"chunks must be 2 (Y, X) or 5 (T, C, Z, Y, X) positive sizes, got {tuple(chunks)}")
    if fmt == TIFF and (values[:3] != (1, 1, 1) or any(v % TIFF_TILE_MULTIPLE for v in values[3:])):
        raise ValueError(
            f"OME-TIFF tiles are one plane high and wide multiples of {TIFF_TILE_MULTIPLE}: "
            f"give chunks as (Y, X), e.g. (512, 512); got {tuple(chunks)}"
        )
    return values  # type: ignore[return-value]


def _series(series: int | Sequence[int] | None) -> tuple[int, ...] | None:
    if series is None:
        return None
    picked = (int(series),) if isinstance(series, int) else tuple(int(s) for s in series)
    if not picked or len(set(picked)) != len(picked):
        raise ValueError(f"series must name each series once, got {series!r}")
    return picked
