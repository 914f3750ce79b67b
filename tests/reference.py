"""A deliberately naive reader used as the reference in tests.

It calls ``openBytes(no)`` per plane, copies the returned bytes through ``bytes()``
and builds the canonical TCZYX[S] array with numpy, sharing no code with bfbridge's
reading path. bfbridge's arrays must equal it exactly.
"""

from __future__ import annotations

import jpype
import numpy as np

DTYPES = {0: "i1", 1: "u1", 2: "i2", 3: "u2", 4: "i4", 5: "u4", 6: "f4", 7: "f8", 8: "u1"}


def read_reference(path: str, series: int = 0, level: int = 0) -> np.ndarray:
    import bfbridge.jvm

    bfbridge.jvm.ensure_started()
    reader = jpype.JClass("loci.formats.ImageReader")()
    reader.setFlattenedResolutions(False)
    try:
        reader.setId(path)
        reader.setSeries(series)
        reader.setResolution(level)
        size_y, size_x = int(reader.getSizeY()), int(reader.getSizeX())
        samples = int(reader.getRGBChannelCount())
        dtype = np.dtype(("<" if reader.isLittleEndian() else ">") + DTYPES[int(reader.getPixelType())])
        shape = [int(reader.getSizeT()), int(reader.getEffectiveSizeC()), int(reader.getSizeZ()), size_y, size_x]
        if samples > 1:
            shape.append(samples)
        out = np.empty(shape, dtype=dtype.newbyteorder("="))
        for t in range(shape[0]):
            for c in range(shape[1]):
                for z in range(shape[2]):
                    raw = np.frombuffer(bytes(reader.openBytes(int(reader.getIndex(z, c, t)))), dtype=dtype)
                    if samples == 1:
                        plane = raw.reshape(size_y, size_x)
                    elif reader.isInterleaved():
                        plane = raw.reshape(size_y, size_x, samples)
                    else:
                        plane = raw.reshape(samples, size_y, size_x).transpose(1, 2, 0)
                    out[t, c, z] = plane
        return out
    finally:
        reader.close()
