"""The process-wide reader cache of python-bioformats: ``get_image_reader``, ``release_image_reader``, ...

CellProfiler-style workers read planes of the same files across jobs, so readers are
cached process-wide. A key (an image name) holds one reader at a time; several keys
may share the reader of one (path, url), which closes when its last key releases it.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .formatreader import ImageReader

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
            from .formatreader import ImageReader  # formatreader imports this module

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
