"""LazyArray: numpy-style slicing over ``openBytes``, plus dask and xarray views.

A subclass supplies ``shape``, ``dtype``, ``dims``, ``chunks`` and ``_read_window``,
which reads whole planes' rectangular windows. This module turns any basic numpy
index into such a window and then trims it (steps, negative steps, samples), so a
slice reads only the planes and the rows and columns it needs.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass

import numpy as np

#: How many bytes a default dask chunk aims at when a plane is split into tiles.
CHUNK_TARGET_BYTES = 32 << 20
#: Planes up to this size are one dask chunk each.
PLANE_CHUNK_LIMIT = 64 << 20


@dataclass(frozen=True)
class Window:
    """What to read: plane indices on T, C, Z and a Y/X rectangle."""

    t: tuple[int, ...]
    c: tuple[int, ...]
    z: tuple[int, ...]
    y: tuple[int, int]
    x: tuple[int, int]


def _axis_key(key, size: int, axis: str):
    """Normalise one axis key to a non-negative int or a slice with resolved bounds."""
    if isinstance(key, slice):
        return slice(*key.indices(size))
    try:
        index = operator.index(key)
    except TypeError:
        raise IndexError(
            f"only integers, slices and ... are valid indices (basic indexing), got {key!r} on axis {axis}; "
            "read with a slice and index the numpy result for anything else"
        ) from None
    if not -size <= index < size:
        raise IndexError(f"index {index} is out of bounds for axis {axis} with size {size}")
    return index % size


def normalize_key(key, shape: tuple[int, ...], dims: str) -> list:
    """One entry per axis: an int or a resolved slice. Handles Ellipsis."""
    if not isinstance(key, tuple):
        key = (key,)
    if any(k is None for k in key):
        raise IndexError("np.newaxis is not supported; index the numpy result instead")
    if sum(k is Ellipsis for k in key) > 1:
        raise IndexError("an index can only have a single ellipsis")
    if Ellipsis in key:
        at = key.index(Ellipsis)
        key = key[:at] + (slice(None),) * (len(shape) - len(key) + 1) + key[at + 1 :]
    if len(key) > len(shape):
        raise IndexError(f"too many indices: array is {len(shape)}-dimensional ({dims})")
    key = key + (slice(None),) * (len(shape) - len(key))
    return [_axis_key(k, n, axis) for k, n, axis in zip(key, shape, dims, strict=True)]


def _indices(entry) -> tuple[int, ...]:
    if isinstance(entry, int):
        return (entry,)
    return tuple(range(entry.start, entry.stop, entry.step))  # bounds resolved by slice.indices()


def _span(entry) -> tuple[tuple[int, int], int | slice]:
    """The smallest [start, stop) covering a Y/X selection, and how to trim it after."""
    if isinstance(entry, int):
        return (entry, entry + 1), 0
    indices = _indices(entry)
    if not indices:
        return (0, 0), slice(None)
    start, stop = min(indices), max(indices) + 1
    return (start, stop), slice(None) if entry.step == 1 else slice(None, None, entry.step)


class LazyArray:
    """A lazily read array in canonical ``TCZYX[S]`` layout."""

    shape: tuple[int, ...]
    dtype: np.dtype
    dims: str

    # ---------------------------------------------------------------- to implement

    def _read_window(self, window: Window) -> np.ndarray:
        """Read ``window`` as (len(t), len(c), len(z), height, width[, S])."""
        raise NotImplementedError

    @property
    def chunks(self) -> tuple[int, ...]:
        """Default dask chunk shape: one ``openBytes`` call per chunk."""
        raise NotImplementedError

    def _dask_name(self) -> str:
        raise NotImplementedError

    # ---------------------------------------------------------------- numpy protocol

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key) -> np.ndarray:
        entries = normalize_key(key, self.shape, self.dims)
        (y_span, y_trim), (x_span, x_trim) = _span(entries[3]), _span(entries[4])
        window = Window(_indices(entries[0]), _indices(entries[1]), _indices(entries[2]), y_span, x_span)
        data = self._read_window(window)
        trim = [0 if isinstance(e, int) else slice(None) for e in entries[:3]] + [y_trim, x_trim]
        if self.ndim == 6:
            trim.append(entries[5])
        if all(isinstance(t, slice) and t == slice(None) for t in trim):
            return data
        return _take(data, trim)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        data = self.to_numpy()
        return data if dtype is None else data.astype(dtype, copy=False)

    def to_numpy(self) -> np.ndarray:
        """Read everything (in parallel through the reader pool)."""
        return self[...]

    # ---------------------------------------------------------------- dask / xarray

    def to_dask(self, chunks=None):
        """A dask array whose default chunks are one ``openBytes`` call each."""
        import dask.array as da

        return da.from_array(
            self,
            chunks=self.chunks if chunks is None else chunks,
            name=self._dask_name(),
            lock=False,
            asarray=False,
            fancy=False,
            meta=np.empty((0,) * self.ndim, dtype=self.dtype),
        )


def _take(data: np.ndarray, trim: list) -> np.ndarray:
    """Apply per-axis trims (ints drop an axis, slices step it) and make the result contiguous."""
    data = data[tuple(trim)]
    if data.ndim == 0:
        return data[()]  # a numpy scalar, as numpy gives for an all-integer index
    return data if data.flags.c_contiguous else data.copy()


def plane_chunks(shape: tuple[int, ...], itemsize: int, channel_step: int, tile: tuple[int, int]) -> tuple[int, ...]:
    """One plane per chunk; large planes split on multiples of the reader's tile size."""
    height, width = shape[3], shape[4]
    extra = shape[5:]
    pixel = itemsize * int(np.prod(extra, dtype=np.int64)) * channel_step
    if height * width * pixel <= PLANE_CHUNK_LIMIT:
        return (1, channel_step, 1, height, width, *extra)
    tile_h, tile_w = max(1, min(tile[0], height)), max(1, min(tile[1], width))

    def grown(factor: int) -> tuple[int, int]:  # each axis stops at the plane's edge (strips span the width)
        return min(height, tile_h * factor), min(width, tile_w * factor)

    factor = 1
    while grown(factor) != (height, width) and math.prod(grown(factor + 1)) * pixel <= CHUNK_TARGET_BYTES:
        factor += 1
    return (1, channel_step, 1, *grown(factor), *extra)


def to_dataarray(series, data):
    """Wrap ``data`` (numpy or dask) of a series in an ``xarray.DataArray``.

    Dims are named T, C, Z, Y, X[, S]. C carries channel names; Z, Y and X carry
    physical positions with their unit in the coordinate's attrs; T carries plane
    DeltaT, or multiples of the time increment, when the file records them.
    """
    import xarray as xr

    meta = series._meta
    coords = {}
    size_t = series.shape[0]
    if meta.delta_t and None not in meta.delta_t and len(meta.delta_t) == size_t:
        coords["T"] = xr.Variable("T", np.asarray(meta.delta_t, dtype=float), {"units": meta.delta_t_unit})
    elif meta.time_increment is not None:
        increment = meta.time_increment
        coords["T"] = xr.Variable("T", np.arange(size_t) * increment.value, {"units": increment.unit})
    coords["C"] = xr.Variable("C", channel_labels(series))
    for axis in "ZYX":
        size = series.sizes[axis]
        quantity = series.physical_size.get(axis)
        if quantity is not None:
            coords[axis] = xr.Variable(axis, np.arange(size) * quantity.value, {"units": quantity.unit})
    if "S" in series.dims:
        samples = series.sizes["S"]
        coords["S"] = xr.Variable("S", list("RGBA"[:samples]) if samples in (3, 4) else list(range(samples)))
    attrs = {"path": series.file.path, "series": series.index, "level": series.level_index, "name": series.name}
    attrs["ome"] = series.file.ome
    name = series.name or f"series {series.index}"
    return xr.DataArray(data, dims=tuple(series.dims), coords=coords, attrs=attrs, name=name)


def channel_labels(series) -> list[str]:
    names = [name or f"C{i}" for i, name in enumerate(series.channel_names)]
    names += [f"C{i}" for i in range(len(names), series.shape[1])]
    per_channel = series.shape[1] // max(len(series.channel_names), 1)
    if per_channel > 1 and len(series.channel_names) * per_channel == series.shape[1]:
        colours = "RGBA" if per_channel in (3, 4) else None
        return [
            f"{name}:{colours[s] if colours else s}"
            for name in names[: len(series.channel_names)]
            for s in range(per_channel)
        ]
    return names[: series.shape[1]]
