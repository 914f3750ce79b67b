"""ImageFile: a file opened once, with its series, metadata and pool of readers.

Pickling an ImageFile gives a handle that reopens the file lazily in the process that
unpickles it, one shared instance per file spec per process.
"""

from __future__ import annotations

import errno
import os
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from .. import config, guard, jvm, metadata
from ..errors import FileClosedError, FormatError
from . import opening
from .pool import PooledReader, ReaderPool
from .series import Series, SeriesTuple
from .series_info import SeriesInfo, read_series_info
from .source import FileSpec, file_identity, source_for, without_memo
from .warm_up import warm_up

if TYPE_CHECKING:
    from ..virtual_zarr import OmeZarrStore

T = TypeVar("T")


@dataclass
class _Opened:
    pool: ReaderPool
    infos: tuple[SeriesInfo, ...]
    store: Any
    format: str
    reader_class: str
    used_files: tuple[str, ...]
    settings: config.Settings
    memo: str | None
    identity: tuple[int, ...] | None
    finalizer: Any = None


class ImageFile:
    """A file opened through Bio-Formats: its series, metadata and readers.

    Use as a context manager, or call :meth:`close`. After ``close()`` the series and
    arrays made from this file raise :class:`~bfbridge.FileClosedError` when they need
    pixels; metadata already read stays available. Pickling an ImageFile (or a
    Series, or a dask array from one) gives a handle that reopens the file lazily in
    the process that unpickles it.
    """

    def __init__(self, spec: FileSpec, *, lazy: bool = False) -> None:
        self._spec = spec
        self._lock = threading.Lock()
        self._opened: _Opened | None = None
        self._closed = False
        if not lazy:
            self._state()

    # ------------------------------------------------------------- lifecycle

    def _state(self) -> _Opened:
        opened = self._opened
        if opened is not None:
            return opened
        with self._lock:
            if self._closed:
                raise FileClosedError(f"{self.path} is closed; open it again with bfbridge.open()")
            if self._opened is None:
                self._opened = self._open()
            return self._opened

    def _open(self) -> _Opened:
        spec = self._spec
        if not spec.is_fake and not spec.is_remote:
            opening.check_path(spec.path)
        jvm.ensure_started()
        settings = config.resolve()
        warm_up(settings)
        first, store, source = opening.open_first(spec, source_for(spec, settings), settings)
        try:
            with jvm.java_errors(spec.path, "reading the metadata of"):
                java = first.java
                infos = tuple(read_series_info(java, s) for s in range(int(java.getSeriesCount())))
                java.setSeries(0)
                actual = opening.unwrap(java)
                used = tuple(str(f) for f in (java.getUsedFiles() or []))
                fmt = str(java.getFormat())
                memo = opening.memo_state(java)
        except BaseException:
            first.close()
            raise
        if memo is None and source.memo_dir is not None:
            source = without_memo(source)
        size = spec.max_workers or settings.max_workers
        pool = ReaderPool(first, lambda: opening.open_reader(spec, source)[0], size, label=spec.path)
        reader_class = type(actual).__name__.rsplit(".", 1)[-1]
        opened = _Opened(pool, infos, store, fmt, reader_class, used, settings, memo, source.identity)
        opened.finalizer = weakref.finalize(self, pool.close)
        return opened

    def close(self) -> None:
        """Release every reader and file handle. Safe to call twice."""
        with self._lock:
            self._closed = True
            opened = self._opened
        if opened is not None:
            opened.finalizer()

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> ImageFile:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def state(self) -> str:
        """``"open"``, ``"closed"``, or ``"not yet opened"`` (a handle unpickled in this process)."""
        return "closed" if self._closed else ("open" if self._opened else "not yet opened")

    def __repr__(self) -> str:
        from ..display.text import image_file_text

        return image_file_text(self)

    def _repr_html_(self) -> str:
        """The notebook view: format, a table of the series, and a thumbnail of the first."""
        from ..display.html import image_file_html

        return image_file_html(self)

    def __reduce__(self):
        return (_reopen, (self._spec, config.resolve().portable_part()))

    # ------------------------------------------------------------- public facts

    @property
    def path(self) -> str:
        return self._spec.path

    @property
    def spec(self) -> FileSpec:
        return self._spec

    @property
    def format(self) -> str:
        """Bio-Formats' name for the format, e.g. ``"Zeiss CZI"``."""
        return self._state().format

    @property
    def reader(self) -> str:
        """The Bio-Formats reader class that claimed the file, e.g. ``"ZeissCZIReader"``."""
        return self._state().reader_class

    @property
    def memo(self) -> str | None:
        """``"loaded"`` if this open came from a memo file, ``"saved"`` if it wrote one, else None."""
        return self._state().memo

    @property
    def used_files(self) -> tuple[str, ...]:
        """Every file Bio-Formats reads for this image (companions included)."""
        return self._state().used_files

    @cached_property
    def series(self) -> tuple[Series, ...]:
        """The series (images) in the file, each at resolution level 0."""
        return SeriesTuple(Series(self, info.index, 0) for info in self._state().infos)

    @property
    def series_count(self) -> int:
        return len(self._state().infos)

    @cached_property
    def ome_xml(self) -> str:
        """Bio-Formats' OME-XML for the file."""
        opened = self._state()
        with jvm.java_errors(self.path, "serialising the OME-XML of"):
            return metadata.omexml(opened.store)

    @cached_property
    def ome(self):
        """The OME metadata as an ``ome_types.OME`` (parsed once)."""
        return metadata.parse_ome(self.ome_xml, self.path)

    @cached_property
    def original_metadata(self) -> dict[str, Any]:
        """Metadata as the format stores it: ``{"global": {...}, "series": [{...}, ...]}``."""
        with jvm.java_errors(self.path, "reading original metadata of"), self._borrow() as reader:
            java = reader.java
            global_metadata = metadata.hashtable_to_dict(java.getGlobalMetadata())
            per_series = []
            for info in self._state().infos:
                reader.select(info.index, 0)
                per_series.append(metadata.hashtable_to_dict(java.getSeriesMetadata()))
        return {"global": global_metadata, "series": per_series}

    def _series_metadata(self, index: int) -> metadata.SeriesMetadata:
        opened = self._state()
        info = opened.infos[index]
        with jvm.java_errors(self.path, "reading the metadata of"):
            return metadata.series_metadata(opened.store, index, info.size_t, info.effective_c)

    @contextmanager
    def _borrow(self) -> Iterator[PooledReader]:
        if self._closed:
            raise FileClosedError(f"{self.path} is closed; open it again with bfbridge.open()")
        with self._state().pool.borrow() as reader:
            yield reader

    def _use_reader(self, function: Callable[[PooledReader], T], series: int, level: int, what: str) -> T:
        """``function(reader)`` on a pooled reader positioned at ``series``/``level``.

        Java errors are translated, and the ``read_timeout`` setting applies. A file that
        changed on disk since it was opened is an error: Bio-Formats would read the new
        bytes with the old layout, or zeros past a new end, without noticing.
        """
        self._check_unchanged()
        timeout = config.resolve().read_timeout
        # translate outside the borrow, so that the pool sees the raw Java error and replaces the reader
        with jvm.java_errors(self.path, what), self._borrow() as reader:

            def positioned() -> T:
                reader.select(series, level)
                return function(reader)

            return guard.call(positioned, timeout, f"{what} {self.path}")

    def _check_unchanged(self) -> None:
        expected = self._state().identity
        if expected is None:
            return
        try:
            current = file_identity(self.path)
        except FileNotFoundError:
            raise FileNotFoundError(errno.ENOENT, "File removed since it was opened", self.path) from None
        if current != expected:
            raise FormatError(
                f"{self.path} changed on disk since it was opened (replaced, truncated or rewritten); "
                "open it again to read the new content",
                path=self.path,
            )

    def run_java(self, function: Callable[[Any], T], series: int = 0, level: int = 0) -> T:
        """Run ``function(java_reader)`` on a Bio-Formats reader of this file at ``series``/``level``.

        For Bio-Formats methods bfbridge does not wrap. The reader is lent to this thread for
        the call only (readers are not thread-safe); do not keep it or change its series.
        """
        return self._use_reader(lambda reader: function(reader.java), series, level, "calling Bio-Formats on")

    def to_zarr_store(self, compression: str = "none") -> OmeZarrStore:
        """The whole file as a read-only OME-Zarr 0.5 store, laid out as ``bf.convert`` would write it.

        Nothing is converted: each chunk is read when zarr (or ``bfbridge serve``) asks for it.
        ``compression``: ``none`` (default) or a ``bf.convert`` codec name, e.g. ``blosc-lz4``.
        """
        from ..virtual_zarr import OmeZarrStore

        return OmeZarrStore(self, compression=compression)

    @property
    def pool_size(self) -> int:
        """How many readers may read this file at once."""
        return self._state().pool.size

    @property
    def readers_open(self) -> int:
        """How many Bio-Formats readers are open on this file right now."""
        return 0 if self._closed or self._opened is None else self._opened.pool.count


_registry_lock = threading.Lock()
_registry: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
_recent: list[ImageFile] = []
_RECENT = 32


def _reopen(spec: FileSpec, settings: dict) -> ImageFile:
    """Unpickle an ImageFile: one shared, lazily opened instance per spec per process.

    A fresh process (a dask worker) starts its JVM with the parent's JVM settings and reads
    with its read-time settings (timeout, memoization, log level); see :func:`config.adopt`.
    """
    config.adopt(settings)
    with _registry_lock:
        found = _registry.get(spec)
        if found is None or found.closed:
            found = ImageFile(spec, lazy=True)
            _registry[spec] = found
        if found in _recent:
            _recent.remove(found)
        _recent.append(found)
        del _recent[:-_RECENT]
        return found


def open_file(
    path: str | os.PathLike,
    *,
    group_files: bool = True,
    memoize: bool | int | None = None,
    fold_rgb: bool = False,
    apply_lut: bool = True,
    max_workers: int | None = None,
    storage_options: dict[str, Any] | None = None,
) -> ImageFile:
    """Open an image file with Bio-Formats. Use it as a context manager.

    Args:
        path: a file path, or a Bio-Formats ``.fake`` id (no file needed).
        group_files: let Bio-Formats group companion files (``setGroupFiles``).
            Some files only open with ``False``, e.g. a DICOM beside a damaged sibling.
        memoize: keep Bio-Formats' parsed state in the cache directory so reopening is
            fast. ``None`` memoizes opens slower than the ``memoize_ms`` setting; an
            int sets that threshold in ms; ``False`` turns it off.
        fold_rgb: fold RGB samples into C (``TCZYX``) instead of a trailing S axis.
        apply_lut: give colour values for true palette images (e.g. GIF). ``False``
            gives raw indices; the table is ``Series.lookup_table``.
        max_workers: readers (and threads) per whole-array read; default the
            ``max_workers`` setting (the CPU count).
        storage_options: fsspec options for URLs (``s3://``, ``https://``, ...).

    Raises:
        FileNotFoundError: the path does not exist.
        UnsupportedFormatError: no Bio-Formats reader claims the file.
        FormatError: a reader claims the file but cannot parse it.
    """
    text = os.fspath(path)
    if text.startswith("file://"):
        from urllib.parse import urlparse
        from urllib.request import url2pathname

        text = url2pathname(urlparse(text).path)
    spec = FileSpec(
        path=text,
        group_files=group_files,
        memoize=memoize,
        fold_rgb=fold_rgb,
        apply_lut=apply_lut,
        max_workers=max_workers,
    )
    if spec.is_remote:
        from .. import remote

        spec = replace(spec, storage_options=remote.freeze_options(storage_options or {}))
    elif storage_options:
        raise ValueError("storage_options only apply to URLs such as s3://bucket/key or https://host/file")
    elif not spec.is_fake:
        spec = replace(spec, path=os.path.abspath(os.path.expanduser(text)))
    return ImageFile(spec)
