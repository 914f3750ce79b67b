"""A drop-in for python-bioformats 4.x: ``import bfbridge.compat.bioformats as bioformats``.

python-bioformats needs javabridge, a C extension that no longer builds easily. This
module offers its reading API on bfbridge's JPype JVM: ``load_image``, ``ImageReader``,
the reader cache that CellProfiler-style pipelines use, ``get_omexml_metadata``,
``omexml.OMEXML`` and the ``PT_*`` constants. ``start_vm``/``kill_vm`` stand in for
javabridge's and map onto :func:`bfbridge.configure`.
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Sequence

import numpy as np

from .. import config, jvm
from ..errors import JVMAlreadyStartedError
from . import omexml
from .formatreader import SCALES, FormatReader, ImageReader, ReaderStateError
from .omexml import (
    OMEXML,
    PT_BIT,
    PT_COMPLEX,
    PT_DOUBLE,
    PT_DOUBLECOMPLEX,
    PT_FLOAT,
    PT_INT8,
    PT_INT16,
    PT_INT32,
    PT_UINT8,
    PT_UINT16,
    PT_UINT32,
)

#: python-bioformats' jar list for ``start_vm(class_path=bioformats.JARS)``; bfbridge
#: provisions its own pinned, verified Bio-Formats jars, so there is nothing to add.
JARS: list[str] = []


# ---------------------------------------------------------------------- the JVM


def start_vm(
    args: Sequence[str] | None = None,
    class_path: Sequence[str] | None = None,
    max_heap_size: str | None = None,
    run_headless: bool = False,
) -> None:
    """Start the JVM with ``max_heap_size`` (e.g. ``"4g"``) and extra JVM ``args``.

    Calling it again is harmless: with the same settings nothing happens; with others a
    ``RuntimeWarning`` says which settings the running JVM keeps (a JVM's heap is fixed
    when it starts). ``class_path`` entries are not added (bfbridge loads its own
    Bio-Formats jars; use ``bfbridge.configure(jars=...)`` for a different build), and
    the JVM is always headless.
    """
    if class_path:
        warnings.warn(
            "start_vm(class_path=...) is ignored: bfbridge loads its own verified Bio-Formats jars",
            RuntimeWarning,
            stacklevel=2,
        )
    requested = {"max_heap": max_heap_size, "jvm_args": list(args) if args else None}
    try:  # only what was asked for: configure(setting=None) would reset a setting to its default
        config.configure(**{name: value for name, value in requested.items() if value is not None})
    except JVMAlreadyStartedError as error:
        warnings.warn(f"start_vm(): the JVM already runs and keeps its settings: {error}", RuntimeWarning, stacklevel=2)
        return
    jvm.ensure_started()


def kill_vm() -> None:
    """Close every cached reader. The JVM itself keeps running until Python exits.

    JPype cannot start a second JVM in one process, so a real shutdown would make every
    later read fail; code that calls ``kill_vm()`` and then ``start_vm()`` keeps working.
    """
    clear_image_reader_cache()


# ---------------------------------------------------------------------- reading


def load_image(
    path: str | os.PathLike,
    c: int | None = None,
    z: int = 0,
    t: int = 0,
    series: int | None = None,
    index: int | None = None,
    rescale: bool = True,
    wants_max_intensity: bool = False,
    channel_names: list | None = None,
    XYWH: Sequence[int] | None = None,
) -> np.ndarray | tuple[np.ndarray, int]:
    """Open ``path``, read one plane by :meth:`ImageReader.read`'s rules, and close it."""
    with ImageReader(path=path) as reader:
        return reader.read(c, z, t, series, index, rescale, wants_max_intensity, channel_names, XYWH)


def load_image_url(url: str, *args, **kwargs) -> np.ndarray | tuple[np.ndarray, int]:
    """:func:`load_image` for a URL: ``file:`` URLs, and the URLs bfbridge reads remotely."""
    with ImageReader(url=url) as reader:
        return reader.read(*args, **kwargs)


load_using_bioformats = load_image
load_using_bioformats_url = load_image_url


def get_omexml_metadata(path: str | os.PathLike | None = None, url: str | None = None) -> str:
    """The OME-XML Bio-Formats makes for the file, as text (parse it with :class:`OMEXML`)."""
    with ImageReader(path=path, url=url) as reader:
        return reader.file.ome_xml


# ---------------------------------------------------------------------- reader cache
#
# CellProfiler-style workers read planes of the same files across jobs, so readers are
# cached process-wide. A key (an image name) holds one reader at a time; several keys
# may share the reader of one (path, url), which closes when its last key releases it.

_cache_lock = threading.RLock()
_keys: dict[object, tuple[str | None, str | None]] = {}
_readers: dict[tuple[str | None, str | None], tuple[int, ImageReader]] = {}


def get_image_reader(key: object, path: str | os.PathLike | None = None, url: str | None = None) -> ImageReader:
    """The cached reader of ``path``/``url`` for ``key``, opened if no key holds one yet.

    Asking again with the same key and file returns the same reader; asking with the
    same key and another file releases the key's old reader first.
    """
    location = (os.fspath(path) if path is not None else None, url)
    with _cache_lock:
        if key in _keys:
            if _keys[key] == location:
                return _readers[location][1]
            release_image_reader(key)
        count, reader = _readers.get(location, (0, None))
        if reader is None:
            reader = ImageReader(path=location[0], url=url)
        _readers[location] = (count + 1, reader)
        _keys[key] = location
        return reader


def release_image_reader(key: object) -> None:
    """Drop ``key``'s hold on its reader; the reader closes when no key holds it."""
    with _cache_lock:
        location = _keys.pop(key, None)
        if location is None:
            return
        count, reader = _readers[location]
        if count > 1:
            _readers[location] = (count - 1, reader)
            return
        del _readers[location]
    reader.close()


def clear_image_reader_cache() -> None:
    """Close every cached reader and forget every key."""
    with _cache_lock:
        readers = [reader for _, reader in _readers.values()]
        _readers.clear()
        _keys.clear()
    for reader in readers:
        reader.close()


__all__ = [
    "JARS",
    "OMEXML",
    "PT_BIT",
    "PT_COMPLEX",
    "PT_DOUBLE",
    "PT_DOUBLECOMPLEX",
    "PT_FLOAT",
    "PT_INT8",
    "PT_INT16",
    "PT_INT32",
    "PT_UINT8",
    "PT_UINT16",
    "PT_UINT32",
    "SCALES",
    "FormatReader",
    "ImageReader",
    "ReaderStateError",
    "clear_image_reader_cache",
    "get_image_reader",
    "get_omexml_metadata",
    "kill_vm",
    "load_image",
    "load_image_url",
    "load_using_bioformats",
    "load_using_bioformats_url",
    "omexml",
    "release_image_reader",
    "start_vm",
]
