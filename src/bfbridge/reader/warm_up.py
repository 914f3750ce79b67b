"""A serial first use of JPype's Java calls, before any read runs in parallel."""

from __future__ import annotations

import threading
from contextlib import suppress
from pathlib import Path

import numpy as np

from .. import config, pixels
from .opening import open_reader
from .series_info import read_series_info
from .source import FileSpec, Source

WARM_UP_ID = "/bfbridge-warm-up&sizeX=2&sizeY=2.fake"  # absolute: the Memoizer makes no folders
_warm_up_lock = threading.Lock()
_warmed_up = False


def warm_up(settings: config.Settings) -> None:
    """Make the Java calls of an open and a read once, on one thread, before any run in parallel.

    JPype fills its per-class conversion tables on first use; two read threads doing that at
    once crashed the interpreter once here (SIGSEGV in ``JPConversionObject::matches``). A
    synthetic image is opened and read through a plain reader and through a Memoizer (which
    never saves it: its threshold is unreachable).
    """
    global _warmed_up
    if _warmed_up:  # every open comes here: no lock once done
        return
    with _warm_up_lock:
        if _warmed_up:
            return
        sources = [Source(WARM_UP_ID)]
        memo_dir = Path(settings.cache_dir) / "memo"
        with suppress(OSError):  # no memo folder: memoization will be off, so no Memoizer to warm up
            memo_dir.mkdir(parents=True, exist_ok=True)
            sources.append(Source(WARM_UP_ID, memo_dir, (1 << 31) - 1))
        for source in sources:
            reader, _ = open_reader(FileSpec(WARM_UP_ID), source)
            try:
                info = read_series_info(reader.java, 0)
                layout = pixels.PlaneLayout(
                    pixels.dtype_of(info.pixel_type), info.samples, info.interleaved, info.little_endian
                )
                pixels.read_region(reader.java, reader.buffers, layout, 0, 0, 0, 1, 1, np.empty((1, 1), layout.dtype))
                pixels.read_region(reader.java, reader.buffers, layout, 0, 0, 0, 2, 1)
            finally:
                reader.close()
        _warmed_up = True
