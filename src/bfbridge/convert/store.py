"""Write resolution levels into zarr arrays, block by block in parallel, level after level.

Blocks are whole zarr chunks (several when a chunk is small), so no two tasks ever
write the same chunk and no lock is needed. Level ``n`` is written completely
before level ``n + 1`` is downsampled from it. Writing level 0 also records each
channel's minimum and maximum, for display windows.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import zarr

from ..array import CHUNK_TARGET_BYTES
from ..display.progress import Progress
from . import parallel, pyramid
from .options import Options

if TYPE_CHECKING:
    from ..reader import Series

#: Whole planes are stacked into one block up to this size (Z first, then C, then T): small
#: planes are not read and written one task each, and blocks stay many enough to balance.
STACK_BYTES = 2 << 20
#: Intermediate levels (for OME-TIFF pyramids) favour speed over size.
SCRATCH_COMPRESSION = "blosc-lz4"
#: Codec levels when none is given. Blosc's zstd level 1 is zstd's fastest; behind a bit shuffle it
#: compresses microscopy about as well as level 2 behind a byte shuffle (±8% on the sample corpus),
#: in half the time.
DEFAULT_LEVELS = {"blosc-zstd": 1, "blosc-lz4": 5, "zstd": 3, "gzip": 6}


@dataclass
class Pyramid:
    """One output series: its source, its levels and the zarr array of each level."""

    series: Series  # level 0
    levels: tuple[pyramid.Level, ...]
    arrays: list[zarr.Array]
    minima: np.ndarray = field(init=False)
    maxima: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        channels = self.levels[0].shape[1]
        self.minima = np.full(channels, np.inf)
        self.maxima = np.full(channels, -np.inf)

    @property
    def nbytes(self) -> int:
        """Bytes of all levels, uncompressed."""
        return pyramid.nbytes(self.levels, self.arrays[0].dtype)

    def channel_ranges(self) -> list[tuple[float, float]]:
        """(min, max) of each channel's data at full resolution; (0, 1) where unknown."""
        return display_ranges(self.minima, self.maxima)


def channel_extremes(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The minimum and maximum of each channel (axis 1) of a TCZYX block, NaN skipped."""
    per_channel = np.moveaxis(data, 1, 0).reshape(data.shape[1], -1)
    # fmin/fmax skip NaN and, unlike nanmin, never warn (warning filters are not thread-safe)
    return np.fmin.reduce(per_channel, axis=1), np.fmax.reduce(per_channel, axis=1)


def display_ranges(minima: np.ndarray, maxima: np.ndarray) -> list[tuple[float, float]]:
    """(min, max) per channel as floats for display windows; (0, 1) where unknown (all NaN, or no data)."""
    ranges = []
    for low, high in zip(minima, maxima, strict=True):
        ranges.append((float(low), float(high)) if np.isfinite(low) and np.isfinite(high) else (0.0, 1.0))
    return ranges


class ChunkWriter:
    """Writes whole chunks of a local zarr array: encoded with numcodecs, straight to their files.

    zarr's own write path costs a few milliseconds of event-loop round trips per chunk and
    serialises writer threads; encoding and writing on the calling thread is the same bytes
    (the codec comes from the array's own metadata) and runs truly in parallel. Arrays with
    codecs this does not know fall back to zarr. Chunks that are all fill value are skipped,
    as zarr does.
    """

    def __init__(self, array: zarr.Array) -> None:
        self.array = array
        self.codec = numcodec_of(array)
        self.direct = self.codec is not False and hasattr(array.store_path.store, "root")
        self.folder = Path(array.store_path.store.root) / array.store_path.path if self.direct else None
        self.fill = array.metadata.fill_value

    def __reduce__(self):  # workers rebuild the codec and paths from the array
        return (ChunkWriter, (self.array,))

    def write(self, region: tuple[slice, ...], data: np.ndarray) -> None:
        if not self.direct:
            self.array[region] = data
            return
        chunks = self.array.chunks
        starts = [s.start // c for s, c in zip(region, chunks, strict=True)]
        counts = [math.ceil((s.stop - s.start) / c) for s, c in zip(region, chunks, strict=True)]
        for index in np.ndindex(*counts):
            offsets = [i * c for i, c in zip(index, chunks, strict=True)]
            part = data[tuple(slice(o, o + c) for o, c in zip(offsets, chunks, strict=True))]
            if not np.any(part != self.fill):
                continue
            payload = encode_chunk(part, chunks, self.fill, self.codec)
            key = self.array.metadata.encode_chunk_key(tuple(s + i for s, i in zip(starts, index, strict=True)))
            path = self.folder / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(payload)


def encode_chunk(part: np.ndarray, chunks: tuple[int, ...], fill, codec) -> memoryview | bytes:
    """The stored bytes of one chunk: full size (an edge chunk is padded with ``fill``), little-endian,
    encoded by ``codec`` (a numcodecs codec, or None for raw bytes)."""
    if part.shape != chunks:
        full = np.full(chunks, fill, dtype=part.dtype)
        full[tuple(slice(0, n) for n in part.shape)] = part
        part = full
    part = np.ascontiguousarray(part, dtype=part.dtype.newbyteorder("<"))
    return memoryview(part).cast("B") if codec is None else codec.encode(part)


def numcodec_of(array: zarr.Array):
    """The numcodecs codec equivalent to the array's compressor, None for none, False if unknown."""
    import numcodecs

    metadata = array.metadata
    if getattr(metadata, "zarr_format", 3) == 2:
        return None if metadata.compressor is None else metadata.compressor
    from zarr import codecs

    compressors = [c for c in metadata.codecs if not isinstance(c, codecs.BytesCodec)]
    if len(compressors) != len(metadata.codecs) - 1 or len(compressors) > 1:
        return False  # sharding, transposes, filters: leave it to zarr
    if not compressors:
        return None
    codec = compressors[0]
    if isinstance(codec, codecs.BloscCodec):
        shuffle = {"noshuffle": numcodecs.Blosc.NOSHUFFLE, "shuffle": numcodecs.Blosc.SHUFFLE}
        mode = shuffle.get(codec.shuffle.value, numcodecs.Blosc.BITSHUFFLE)
        return numcodecs.Blosc(cname=codec.cname.value, clevel=codec.clevel, shuffle=mode, blocksize=codec.blocksize)
    if isinstance(codec, codecs.ZstdCodec):
        return numcodecs.Zstd(level=codec.level, checksum=codec.checksum)
    if isinstance(codec, codecs.GzipCodec):
        return numcodecs.GZip(level=codec.level)
    return False


@dataclass(frozen=True)
class _Job:
    owner: int
    block: parallel.Block
    target: ChunkWriter
    with_ranges: bool


@dataclass(frozen=True)
class _Written:
    owner: int
    nbytes: int
    channel: int  # first channel of the block
    minima: np.ndarray | None
    maxima: np.ndarray | None


def _write(job: _Job) -> _Written:
    """Compute one block and store it (runs on a worker thread or process)."""
    data = job.block.compute()
    job.target.write(job.block.region, data)
    minima = maxima = None
    if job.with_ranges and data.size:
        minima, maxima = channel_extremes(data)
    return _Written(job.owner, data.nbytes, job.block.region[1].start, minima, maxima)


def block_shape(shape: tuple[int, ...], chunk: tuple[int, ...], itemsize: int, channel_step: int) -> tuple[int, ...]:
    """A write block: whole chunks, grown in X then Y up to about ``CHUNK_TARGET_BYTES``.

    Small whole planes are then stacked along Z, C and T up to ``STACK_BYTES``, so that
    they are not read and written one task each. Along C a block spans whole RGB pixels
    (``channel_step``), so each source plane is read once.
    """
    block = list(chunk[:5])
    block[1] = min(shape[1], math.lcm(chunk[1], channel_step))
    pixel = itemsize * math.prod(shape[5:])

    def grow(axis: int, budget: int) -> None:
        others = pixel * math.prod(block) // block[axis]
        block[axis] = min(shape[axis], block[axis] * max(1, budget // (others * block[axis])))

    grow(pyramid.X, CHUNK_TARGET_BYTES)
    grow(pyramid.Y, CHUNK_TARGET_BYTES)
    if (block[pyramid.Y], block[pyramid.X]) == tuple(shape[3:5]):
        for axis in (2, 1, 0):
            grow(axis, STACK_BYTES)
    return (*block, *shape[5:])


def compressors(name: str, level: int | None, zarr_format: int) -> list | None:
    """The zarr compressor list for a compression name (see ``options.ZARR_COMPRESSIONS``)."""
    if name == "none":
        return None
    level = DEFAULT_LEVELS[name] if level is None else level
    if zarr_format == 3:
        from zarr import codecs

        if name.startswith("blosc-"):
            return [codecs.BloscCodec(cname=name[6:], clevel=level, shuffle="bitshuffle")]
        return [codecs.ZstdCodec(level=level) if name == "zstd" else codecs.GzipCodec(level=level)]
    import numcodecs

    if name.startswith("blosc-"):
        return [numcodecs.Blosc(cname=name[6:], clevel=level, shuffle=numcodecs.Blosc.BITSHUFFLE)]
    return [numcodecs.Zstd(level=level) if name == "zstd" else numcodecs.GZip(level=level)]


def create_levels(
    group: zarr.Group,
    levels: tuple[pyramid.Level, ...],
    dtype: np.dtype,
    options: Options,
    dimension_names: tuple[str, ...] | None = None,
    scratch: bool = False,
) -> list[zarr.Array]:
    """One empty zarr array per level, named ``0``, ``1``, ...

    ``scratch`` arrays hold intermediate levels: they get fast compression, not the output's.
    """
    codec = (SCRATCH_COMPRESSION, None) if scratch else (options.compression, options.compression_level)
    extra = {}
    if options.zarr_format == 2:
        extra["chunk_key_encoding"] = {"name": "v2", "separator": "/"}
    elif dimension_names:
        extra["dimension_names"] = dimension_names
    return [
        group.create_array(
            str(level.index),
            shape=level.shape,
            chunks=options.chunk_shape(level.shape),
            dtype=dtype,
            compressors=compressors(*codec, options.zarr_format),
            fill_value=0,
            **extra,
        )
        for level in levels
    ]


def write_levels(pyramids: list[Pyramid], runner: parallel.Runner, progress: Progress, options: Options) -> None:
    """Fill every level of every pyramid; level by level, all series at once.

    Progress is reported per block; the caller announces the total (``Pyramid.nbytes``).
    """
    for depth in range(max(len(p.levels) for p in pyramids)):
        jobs = _level_jobs(pyramids, depth, options)
        for written in runner.unordered(_write, jobs):
            progress.advance(written.nbytes)
            if written.minima is not None:
                owner = pyramids[written.owner]
                span = slice(written.channel, written.channel + len(written.minima))
                owner.minima[span] = np.fmin(owner.minima[span], written.minima)
                owner.maxima[span] = np.fmax(owner.maxima[span], written.maxima)


def _level_jobs(pyramids: list[Pyramid], depth: int, options: Options) -> Iterator[_Job]:
    for owner, entry in enumerate(pyramids):
        if depth >= len(entry.levels):
            continue
        level, target = entry.levels[depth], entry.arrays[depth]
        channel_step = entry.series.chunks[1]  # RGB samples folded into C are read together
        block = block_shape(level.shape, target.chunks, target.dtype.itemsize, channel_step)
        source = level_source(entry, depth, block, options.downsample_method)
        writer = ChunkWriter(target)
        for item in parallel.blocks(source):
            yield _Job(owner, item, writer, depth == 0)


def level_source(entry: Pyramid, depth: int, block: tuple[int, ...], method: str):
    """A dask array of level ``depth``: read from the source, or downsampled from the level before."""
    from dask.array.core import normalize_chunks

    level = entry.levels[depth]
    if level.source_level is not None:
        return entry.series.level(level.source_level).to_dask(chunks=block)
    chunks = normalize_chunks(block, level.shape)
    return pyramid.downsample(entry.arrays[depth - 1], chunks, method)
