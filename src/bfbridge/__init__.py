"""bfbridge: every Bio-Formats format as numpy, dask and xarray, and conversion to OME-Zarr/OME-TIFF.

>>> import bfbridge as bf
>>> with bf.open("cells.czi") as f:
...     s = f.series[0]
...     plane = s[0, 0, 0]          # reads one plane
...     stack = s.to_dask()         # lazy, one openBytes per chunk
"""

from __future__ import annotations

import logging
import os

import numpy as np

from ._version import __version__
from .config import Settings, configure
from .convert import convert
from .display.progress import ProgressCallback
from .errors import (
    BioFormatsError,
    FileClosedError,
    FormatError,
    JarError,
    JavaMemoryError,
    JVMAlreadyStartedError,
    JVMError,
    ReadTimeoutError,
    UnsupportedFormatError,
)
from .jvm import find_java, jvm_info
from .metadata import MetadataWarning, Quantity
from .reader import ImageFile, Series
from .reader import open_file as open

# Library convention: records (Java's included) reach the application's handlers only.
logging.getLogger("bfbridge").addHandler(logging.NullHandler())


def imread(
    path: str | os.PathLike, series: int = 0, level: int = 0, progress: bool | ProgressCallback = False, **options
) -> np.ndarray:
    """Read one series (one resolution level) of a file into a numpy array.

    ``progress``: ``True`` for a bar, or ``callback(done_bytes, total_bytes)`` (see
    :meth:`Series.to_numpy`). ``options`` are those of :func:`open`.
    """
    with open(path, **options) as image:
        return image.series[series].level(level).to_numpy(progress=progress)


__all__ = [
    "BioFormatsError",
    "FileClosedError",
    "FormatError",
    "ImageFile",
    "JVMAlreadyStartedError",
    "JVMError",
    "JarError",
    "JavaMemoryError",
    "MetadataWarning",
    "Quantity",
    "ReadTimeoutError",
    "Series",
    "Settings",
    "UnsupportedFormatError",
    "__version__",
    "configure",
    "convert",
    "find_java",
    "imread",
    "jvm_info",
    "open",
]
