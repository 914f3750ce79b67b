"""Benchmark inputs, generated once into ``benchmarks/data/`` (git-ignored) with tifffile."""

from __future__ import annotations

from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parent / "data"


def _pattern(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """Smooth structure plus noise: compresses like microscopy, not like random bytes."""
    rng = np.random.default_rng(seed)
    y, x = np.ogrid[: shape[-2], : shape[-1]]
    base = (np.sin(y / 37.0) * np.cos(x / 23.0) * 12000 + 20000).astype(np.uint16)
    return base + rng.integers(0, 512, size=shape, dtype=np.uint16)


def uncompressed_ometiff(folder: Path = DATA) -> Path:
    """250 MB: 10 Z x 3 C x 2048 x 2048 uint16, uncompressed, one strip per plane."""
    import tifffile

    path = Path(folder) / "uncompressed_10x3x2048x2048.ome.tif"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        data = _pattern((10, 3, 2048, 2048), seed=1)
        tifffile.imwrite(path, data, ome=True, metadata={"axes": "ZCYX"}, rowsperstrip=2048)
    return path


def zlib_tiled_ometiff(folder: Path = DATA) -> Path:
    """40 x 1024 x 1024 uint16, zlib-compressed 256 x 256 tiles."""
    import tifffile

    path = Path(folder) / "zlib_40x1024x1024_tiled256.ome.tif"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        data = _pattern((40, 1024, 1024), seed=2)
        tifffile.imwrite(path, data, ome=True, metadata={"axes": "ZYX"}, tile=(256, 256), compression="zlib")
    return path


def many_series_ometiff(folder: Path = DATA, count: int = 200) -> Path:
    """``count`` series of 2 C x 4 Z x 128 x 128 uint16 in one OME-TIFF."""
    import tifffile

    path = Path(folder) / f"many_series_{count}.ome.tif"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with tifffile.TiffWriter(path, ome=True) as writer:
            for index in range(count):
                writer.write(_pattern((2, 4, 128, 128), seed=index), metadata={"axes": "CZYX", "Name": f"s{index}"})
    return path


def timelapse_tiff(folder: Path = DATA, frames: int = 100_000) -> Path:
    """A plain TIFF with one small page per frame: Bio-Formats must walk every IFD to open it."""
    import tifffile

    path = Path(folder) / f"timelapse_{frames}.tif"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        frame = np.zeros((8, 8), np.uint16)
        with tifffile.TiffWriter(path) as writer:
            for _ in range(frames):
                writer.write(frame, contiguous=False)
    return path
