"""Pixels as the bytes Bio-Formats' writers take: cast to the OME pixel type, little-endian, samples interleaved."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._java import java_bytes
from .omexml import PT_BIT, PT_DOUBLE, PT_FLOAT, PT_INT8, PT_INT16, PT_INT32, PT_UINT8, PT_UINT16, PT_UINT32

#: The little-endian dtype in which each OME pixel type is written (the OME-XML says BigEndian="false").
DTYPES = {
    PT_UINT8: "u1", PT_INT8: "i1", PT_BIT: "u1",
    PT_UINT16: "<u2", PT_INT16: "<i2",
    PT_UINT32: "<u4", PT_INT32: "<i4",
    PT_FLOAT: "<f4", PT_DOUBLE: "<f8",
}  # fmt: skip


def pixel_buffer(pixels: np.ndarray, pixel_type: str) -> Any:
    """The pixels cast to ``pixel_type`` as a Java ``byte[]``."""
    if pixel_type not in DTYPES:
        raise NotImplementedError(f"Unsupported pixel type: {pixel_type!r} (write one of {', '.join(DTYPES)})")
    return java_bytes(np.asarray(pixels).astype(DTYPES[pixel_type], copy=False))
