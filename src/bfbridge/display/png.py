"""A minimal PNG encoder (8-bit RGB, no filtering), so thumbnails need no imaging library."""

from __future__ import annotations

import struct
import zlib

import numpy as np

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_RGB_8BIT = (8, 2, 0, 0, 0)  # bit depth, colour type (truecolour), compression, filter, interlace


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode_rgb(image: np.ndarray) -> bytes:
    """PNG bytes of a (height, width, 3) uint8 array."""
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected a (height, width, 3) uint8 array, got {image.shape} {image.dtype}")
    height, width = image.shape[:2]
    rows = np.zeros((height, 1 + 3 * width), dtype=np.uint8)  # each row starts with filter type 0
    rows[:, 1:] = image.reshape(height, 3 * width)
    header = struct.pack(">II5B", width, height, *_RGB_8BIT)
    return b"".join(
        [_SIGNATURE, _chunk(b"IHDR", header), _chunk(b"IDAT", zlib.compress(rows.tobytes(), 6)), _chunk(b"IEND", b"")]
    )
