"""Pixel types, and moving bytes from ``openBytes`` into numpy with one copy.

Bio-Formats fills a Java ``byte[]``; Java's ``ByteBuffer.put`` then copies it straight
into the destination numpy memory through a direct buffer. No Python view of the Java
array is ever exported, which avoids JPype's cached-view trap (stale data when a
reused ``byte[]`` is exported again while an earlier view is alive).
"""

from __future__ import annotations

import functools
import sys
import threading
from collections import OrderedDict
from dataclasses import dataclass

import jpype
import jpype.nio
import numpy as np

#: Bio-Formats FormatTools pixel type -> numpy dtype (BIT planes hold one byte per pixel).
PIXEL_TYPES: dict[int, np.dtype] = {
    0: np.dtype(np.int8),
    1: np.dtype(np.uint8),
    2: np.dtype(np.int16),
    3: np.dtype(np.uint16),
    4: np.dtype(np.int32),
    5: np.dtype(np.uint32),
    6: np.dtype(np.float32),
    7: np.dtype(np.float64),
    8: np.dtype(np.uint8),
}
PIXEL_TYPE_NAMES = {
    0: "int8",
    1: "uint8",
    2: "int16",
    3: "uint16",
    4: "int32",
    5: "uint32",
    6: "float",
    7: "double",
    8: "bit",
}

#: The largest Java byte[] (a little under 2**31 - 1 on every JVM).
MAX_JAVA_ARRAY = (1 << 31) - 64
#: Reads up to this size are never split, whatever the free heap.
MIN_TILE_BUDGET = 8 << 20
_NATIVE_LITTLE = sys.byteorder == "little"


def dtype_of(pixel_type: int) -> np.dtype:
    try:
        return PIXEL_TYPES[pixel_type]
    except KeyError:
        raise ValueError(f"unknown Bio-Formats pixel type {pixel_type}") from None


@dataclass(frozen=True)
class PlaneLayout:
    """How ``openBytes`` lays out one plane of a series."""

    dtype: np.dtype  # native byte order
    samples: int  # samples per pixel (RGB = 3)
    interleaved: bool
    little_endian: bool

    @property
    def swap(self) -> bool:
        return self.dtype.itemsize > 1 and self.little_endian != _NATIVE_LITTLE

    def nbytes(self, height: int, width: int) -> int:
        return height * width * self.samples * self.dtype.itemsize


class ByteBuffers:
    """Reusable Java ``byte[]`` buffers of one reader, by exact size (a few kept)."""

    def __init__(self, keep: int = 3) -> None:
        self._buffers: OrderedDict[int, object] = OrderedDict()
        self._keep = keep

    def get(self, size: int):
        buffer = self._buffers.pop(size, None)
        if buffer is None:
            buffer = jpype.JArray(jpype.JByte)(size)
        self._buffers[size] = buffer
        while len(self._buffers) > self._keep:
            self._buffers.popitem(last=False)
        return buffer

    def clear(self) -> None:
        self._buffers.clear()


def _put(java_bytes, size: int, destination: np.ndarray) -> None:
    """Copy ``size`` bytes of a Java array into a C-contiguous numpy array: one copy, in Java."""
    _copier()(java_bytes, size, destination)


@functools.cache
def _copier():
    """The best way this JVM offers to copy a ``byte[]`` into native memory.

    No per-call Java object may refer to the numpy array: ``jpype.nio.convertToDirectBuffer``
    makes a ``DirectByteBuffer`` that keeps its array alive until Java's garbage collector
    runs, which with a large heap is rarely, so every plane read stayed in memory. The copy
    goes to the array's address instead: through the foreign-memory API on Java 22+, through
    ``sun.misc.Unsafe`` before that (no deprecation there yet). If neither works, a scratch
    buffer wrapped once per reader thread costs a second copy but holds nothing.
    """
    for make in (_foreign_memory_copy, _unsafe_copy):
        try:
            copy = make()
            probe = np.zeros(8, np.uint8)
            copy(jpype.JArray(jpype.JByte)([1, 2, 3, 4, 5, 6, 7, 8]), 8, probe)
            if probe.tolist() == [1, 2, 3, 4, 5, 6, 7, 8]:
                return copy
        except Exception:  # API missing, restricted, or refused on this JVM
            continue
    return _ScratchCopy()


def _foreign_memory_copy():
    segment = jpype.JClass("java.lang.foreign.MemorySegment")
    byte_layout = jpype.JClass("java.lang.foreign.ValueLayout").JAVA_BYTE
    # One segment over all memory, made once; reinterpret is caller-sensitive, and JPype's
    # direct call goes through an internal class it may not access, so call the interface's method.
    reinterpret = segment.class_.getMethod("reinterpret", jpype.JLong.class_)
    everything = reinterpret.invoke(segment.NULL, jpype.JLong((1 << 63) - 1))

    def copy(java_bytes, size: int, destination: np.ndarray) -> None:
        segment.copy(java_bytes, 0, everything, byte_layout, destination.ctypes.data, size)

    return copy


def _unsafe_copy():
    field = jpype.JClass("sun.misc.Unsafe").class_.getDeclaredField("theUnsafe")
    field.setAccessible(True)
    unsafe = field.get(None)
    base = unsafe.arrayBaseOffset(jpype.JArray(jpype.JByte))

    def copy(java_bytes, size: int, destination: np.ndarray) -> None:
        unsafe.copyMemory(java_bytes, jpype.JLong(base), None, jpype.JLong(destination.ctypes.data), jpype.JLong(size))

    return copy


class _ScratchCopy:
    """Two copies through a per-thread numpy scratch buffer whose Java wrapper is made once."""

    def __init__(self) -> None:
        self._local = threading.local()

    def __call__(self, java_bytes, size: int, destination: np.ndarray) -> None:
        scratch, wrapper = getattr(self._local, "buffer", (None, None))
        if scratch is None or scratch.size < size:
            scratch = np.empty(size, np.uint8)
            wrapper = jpype.nio.convertToDirectBuffer(scratch)
            self._local.buffer = (scratch, wrapper)
        wrapper.clear()
        wrapper.put(java_bytes, 0, size)
        destination.reshape(-1).view(np.uint8)[:size] = scratch[:size]


def read_region(
    reader,
    buffers: ByteBuffers,
    layout: PlaneLayout,
    plane: int,
    x: int,
    y: int,
    width: int,
    height: int,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """One ``openBytes`` call: plane ``plane``, region (x, y, width, height).

    Returns native-endian pixels shaped (height, width) or (height, width, samples).
    When ``out`` is C-contiguous with that shape the bytes land there with one copy.
    """
    size = layout.nbytes(height, width)
    if size > MAX_JAVA_ARRAY:
        raise ValueError(f"region of {size} bytes exceeds Java's array limit; tile it")
    java_bytes = buffers.get(size)
    reader.openBytes(plane, java_bytes, x, y, width, height)
    shape = (height, width) if layout.samples == 1 else (height, width, layout.samples)
    direct = (layout.interleaved or layout.samples == 1) and (
        out is not None and out.shape == shape and out.flags.c_contiguous and out.dtype == layout.dtype
    )
    if direct:
        _put(java_bytes, size, out)
        if layout.swap:
            out.byteswap(inplace=True)
        return out
    raw = np.empty(size // layout.dtype.itemsize, dtype=layout.dtype)
    _put(java_bytes, size, raw)
    if layout.swap:
        raw.byteswap(inplace=True)
    if layout.samples == 1:
        pixels = raw.reshape(height, width)
    elif layout.interleaved:
        pixels = raw.reshape(height, width, layout.samples)
    else:
        pixels = raw.reshape(layout.samples, height, width).transpose(1, 2, 0)
    if out is None:
        return np.ascontiguousarray(pixels)
    out[...] = pixels
    return out


def strips(y0: int, y1: int, x0: int, x1: int, pixel_bytes: int, budget: int, tile_height: int):
    """Split a region into row strips (then column blocks) of at most ``budget`` bytes.

    Strips span the full width where possible, so each lands in contiguous memory, and
    their height is a multiple of the reader's tile height where that fits.
    """
    width = x1 - x0
    if pixel_bytes * width <= 0:
        return
    rows = budget // (pixel_bytes * width)
    if rows >= 1:
        if tile_height > 1 and rows >= tile_height:
            rows -= rows % tile_height
        for top in range(y0, y1, rows):
            yield top, min(top + rows, y1), x0, x1
        return
    columns = max(1, budget // pixel_bytes)
    for top in range(y0, y1):
        for left in range(x0, x1, columns):
            yield top, top + 1, left, min(left + columns, x1)


def tile_budget(workers: int) -> int:
    """Bytes one read may ask Java for: a share of the free heap, within the array limit.

    Readers often hold a compressed copy and a decoded copy of a tile, so each of the
    ``workers`` concurrent readers gets a quarter of its share of the free heap.
    """
    runtime = jpype.JClass("java.lang.Runtime").getRuntime()
    free = int(runtime.maxMemory()) - (int(runtime.totalMemory()) - int(runtime.freeMemory()))
    return int(max(MIN_TILE_BUDGET, min(MAX_JAVA_ARRAY, free // (4 * max(workers, 1)))))


def lookup_table(reader) -> np.ndarray | None:
    """The current plane's colour table as (colours, entries), or None."""
    table = reader.get8BitLookupTable()
    dtype = np.uint8
    if table is None:
        table = reader.get16BitLookupTable()
        dtype = np.uint16
    if table is None:
        return None
    signed = np.int8 if dtype == np.uint8 else np.int16
    return np.stack([np.array(row, dtype=signed).view(dtype) for row in table])
