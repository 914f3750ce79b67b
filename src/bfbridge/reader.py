"""ImageFile and Series: open a file once, then read any series, level or region.

A file is opened by one Bio-Formats reader; more readers of the same file are made
on demand, up to ``max_workers``, so that threads read in parallel (Bio-Formats
readers are not thread-safe, and JPype releases the GIL during Java calls). Extra
readers are cheap: they load the first reader's memo file when the first open was
slow. Switching series or resolution level is a ``setSeries``/``setResolution`` on a
reader that stays open.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import shutil
import threading
import warnings
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import jpype
import numpy as np

from . import config, guard, jvm, metadata, pixels
from .array import LazyArray, Window, plane_chunks, to_dataarray
from .errors import FileClosedError, FormatError, JavaMemoryError, ReadTimeoutError, UnsupportedFormatError

T = TypeVar("T")
log = logging.getLogger(__name__)
_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


_thread_state = threading.local()


@contextmanager
def serial_reads() -> Iterator[None]:
    """Within this block, a read of several planes stays on the calling thread.

    For callers that already read in parallel (the converter's block runner): nesting a
    second level of parallel reads only makes threads wait for each other's readers.
    """
    previous = getattr(_thread_state, "serial", False)
    _thread_state.serial = True
    try:
        yield
    finally:
        _thread_state.serial = previous


def _shared_executor() -> ThreadPoolExecutor:
    """Threads for parallel reads, kept alive: each new thread would attach to the JVM again."""
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max(32, 4 * (os.cpu_count() or 1)), thread_name_prefix="bfbridge-read")
        return _executor


# ---------------------------------------------------------------------------- core facts


@dataclass(frozen=True)
class LevelInfo:
    """Size and preferred tile of one resolution level."""

    size_y: int
    size_x: int
    tile_y: int
    tile_x: int


@dataclass(frozen=True)
class SeriesInfo:
    """Bio-Formats core metadata of one series, gathered once at open."""

    index: int
    levels: tuple[LevelInfo, ...]
    size_z: int
    size_c: int
    size_t: int
    effective_c: int
    samples: int
    pixel_type: int
    little_endian: bool
    interleaved: bool
    indexed: bool
    false_color: bool
    dimension_order: str
    image_count: int
    modulo: dict[str, dict[str, Any]] = field(default_factory=dict)
    table_bits: int = 0  # 8 or 16: a true palette's colour table (indexed, not false colour); else 0

    @property
    def palette(self) -> bool:
        """A true palette image: indexed, not a false-colour hint, and with a colour table."""
        return self.table_bits > 0


def _series_info(reader, index: int) -> SeriesInfo:
    reader.setSeries(index)
    levels = []
    for level in range(int(reader.getResolutionCount())):
        reader.setResolution(level)
        levels.append(
            LevelInfo(
                int(reader.getSizeY()), int(reader.getSizeX()),
                int(reader.getOptimalTileHeight()), int(reader.getOptimalTileWidth()),
            )
        )  # fmt: skip
    reader.setResolution(0)
    indexed, false_color, samples = bool(reader.isIndexed()), bool(reader.isFalseColor()), reader.getRGBChannelCount()
    return SeriesInfo(
        index=index,
        levels=tuple(levels),
        size_z=int(reader.getSizeZ()),
        size_c=int(reader.getSizeC()),
        size_t=int(reader.getSizeT()),
        effective_c=int(reader.getEffectiveSizeC()),
        samples=int(samples),
        pixel_type=int(reader.getPixelType()),
        little_endian=bool(reader.isLittleEndian()),
        interleaved=bool(reader.isInterleaved()),
        indexed=indexed,
        false_color=false_color,
        dimension_order=str(reader.getDimensionOrder()),
        image_count=int(reader.getImageCount()),
        modulo=metadata.modulo(reader),
        table_bits=_table_bits(reader, index) if indexed and not false_color and samples == 1 else 0,
    )


def _table_bits(reader, index: int) -> int:
    """8 or 16: the colour table a palette series carries; 0 (raw indices, with a warning) if none.

    Some readers only set the table once a plane has been read, so one pixel is read first.
    """
    if reader.getImageCount() > 0:
        with suppress(jpype.JException):  # a damaged first plane is reported when it is read
            reader.openBytes(0, 0, 0, 1, 1)
    table = pixels.lookup_table(reader)
    if table is not None:
        return 8 if table.dtype == np.uint8 else 16
    warnings.warn(
        f"{reader.getCurrentFile()}: series {index} is a palette image without a colour table; giving its raw indices",
        metadata.MetadataWarning,
        stacklevel=2,
    )
    return 0


def plane_index(info: SeriesInfo, t: int, c: int, z: int) -> int:
    """``IFormatReader.getIndex(z, c, t)`` computed in Python from the dimension order."""
    sizes = {"Z": info.size_z, "C": info.effective_c, "T": info.size_t}
    position = {"Z": z, "C": c, "T": t}
    index, stride = 0, 1
    for axis in info.dimension_order[2:]:
        index += position[axis] * stride
        stride *= sizes[axis]
    return index


# ---------------------------------------------------------------------------- reader pool


class _Reader:
    """One Bio-Formats reader with its byte buffers; used by one thread at a time.

    ``on_close`` releases what the reader's file id depends on (a remote mount).
    """

    def __init__(self, java, on_close: Callable[[], None] | None = None) -> None:
        self.java = java
        self.buffers = pixels.ByteBuffers()
        self._position = (0, 0)
        self._on_close = on_close

    def select(self, series: int, level: int) -> None:
        if self._position != (series, level):
            if self._position[0] != series:
                self.java.setSeries(series)
            self.java.setResolution(level)
            self._position = (series, level)

    def close(self) -> None:
        self.buffers.clear()
        with suppress(Exception):  # closing must not raise, e.g. at interpreter exit
            self.java.close()
        if self._on_close is not None:
            self._on_close()


class ReaderPool:
    """Readers of one file, lent to one thread at a time and grown up to ``size``."""

    def __init__(self, first: _Reader, create: Callable[[], _Reader], size: int, label: str) -> None:
        self._idle = [first]
        self._create = create
        self._count = 1
        self.size = size
        self._label = label
        self._closed = False
        self._condition = threading.Condition()

    @property
    def count(self) -> int:
        return self._count

    @contextmanager
    def borrow(self) -> Iterator[_Reader]:
        reader = self._acquire()
        healthy = True
        try:
            yield reader
        except (JavaMemoryError, MemoryError, ReadTimeoutError):
            healthy = False  # the reader may hold half-updated state, or still be busy: replace it
            raise
        except jpype.JException as error:
            healthy = not jvm.is_internal_failure(error)  # damaged data alone leaves the reader sound
            raise
        finally:
            self._release(reader, healthy)

    def _acquire(self) -> _Reader:
        with self._condition:
            while True:
                if self._closed:
                    raise FileClosedError(f"{self._label} is closed; open it again with bfbridge.open()")
                if self._idle:
                    return self._idle.pop()
                if self._count < self.size:
                    self._count += 1
                    break
                self._condition.wait()
        try:
            reader = self._create()
        except BaseException:
            with self._condition:
                self._count -= 1
                self._condition.notify()
            raise
        with self._condition:
            closed = self._closed
            if closed:  # closed while this reader was being opened: it must not outlive close()
                self._count -= 1
                self._condition.notify()
        if closed:
            reader.close()
            raise FileClosedError(f"{self._label} is closed; open it again with bfbridge.open()")
        return reader

    def _release(self, reader: _Reader, healthy: bool) -> None:
        with self._condition:
            keep = healthy and not self._closed
            if keep:
                self._idle.append(reader)
            else:
                self._count -= 1
            self._condition.notify()
        if not keep:
            reader.close()

    def close(self) -> None:
        with self._condition:
            self._closed = True
            idle, self._idle = self._idle, []
            self._count -= len(idle)
            self._condition.notify_all()
        for reader in idle:
            reader.close()


# ---------------------------------------------------------------------------- opening


@dataclass(frozen=True)
class FileSpec:
    """Everything needed to open a file again, in this process or another."""

    path: str
    group_files: bool = True
    memoize: bool | int | None = None
    fold_rgb: bool = False
    apply_lut: bool = True
    max_workers: int | None = None
    storage_options: tuple = ()

    @property
    def is_fake(self) -> bool:
        return self.path.endswith(".fake") or self.path.endswith(".fake.ini")

    @property
    def is_remote(self) -> bool:
        """A URL handled by fsspec (``file://`` URLs are turned into paths on open)."""
        return "://" in self.path and not self.is_fake

    def token(self) -> str:
        """A stable identity for dask task names: the options plus the file's size and version."""
        stamp = ""
        if self.is_remote:
            from . import remote

            stamp = remote.content_stamp(self.path, self.storage_options)
        elif not self.is_fake:
            with suppress(OSError):
                stat = os.stat(self.path)
                stamp = f"{stat.st_size}-{stat.st_mtime_ns}"
        return hashlib.sha1(f"{self!r}{stamp}".encode()).hexdigest()[:16]


def _unwrap(reader):
    """The format-specific reader inside Memoizer / ImageReader wrappers."""
    wrappers = (jpype.JClass("loci.formats.ReaderWrapper"), jpype.JClass("loci.formats.ImageReader"))
    while isinstance(reader, wrappers):
        reader = reader.getReader()
    return reader


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


def _memo_state(java) -> str | None:
    """How the Memoizer served this open: ``"loaded"``, ``"saved"`` or None."""
    if not isinstance(java, jpype.JClass("loci.formats.Memoizer")):
        return None
    if java.isLoadedFromMemo():
        return "loaded"
    return "saved" if java.isSavedToMemo() else None


@dataclass(frozen=True)
class _Source:
    """How every reader of one open file reaches it: the id for ``setId``, the memo folder,
    and the file's identity at open (to notice a file changed on disk)."""

    java_id: str
    memo_dir: Path | None = None
    memo_ms: int = 0
    identity: tuple[int, ...] | None = None
    skip_readers: tuple[str, ...] = ()  # Bio-Formats reader classes left out of detection


def _identity(path: str) -> tuple[int, ...]:
    """What changes when a file is replaced, truncated or rewritten."""
    stat = os.stat(path)
    return stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns


def _source(spec: FileSpec, settings: config.Settings) -> _Source:
    """The source for a fresh open; memo files of other versions of the file are removed.

    Bio-Formats' Memoizer only compares modification times, so a file replaced by an
    older one (``cp -p``, ``rsync -a``) would load a stale memo. Memo folders are keyed by
    the file's identity instead. A cache directory that cannot be written turns
    memoization off for the open, with a log record, rather than failing it.
    """
    if spec.is_fake or spec.is_remote:
        return _Source(spec.path)
    identity = _identity(spec.path)
    threshold = _memo_threshold(spec, settings)
    if threshold is None:
        return _Source(spec.path, identity=identity)
    per_file = Path(settings.cache_dir) / "memo" / hashlib.sha1(spec.path.encode()).hexdigest()[:16]
    memo_dir = per_file / hashlib.sha1(repr(identity).encode()).hexdigest()[:16]
    if per_file.is_dir():
        for stale in per_file.iterdir():
            if stale != memo_dir:
                shutil.rmtree(stale, ignore_errors=True)
    try:
        memo_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        log.info("not memoizing %s: %s", spec.path, error)
        return _Source(spec.path, identity=identity)
    return _Source(spec.path, memo_dir, threshold, identity)


def _without_memo(source: _Source) -> _Source:
    """An open too fast to memoize: its other readers need no Memoizer, and its folder can go.

    Otherwise every quick file ever opened would leave an empty folder in the cache (the
    Memoizer also makes folders that mirror the file's path). Only empty folders are removed.
    """
    for folder, _, _ in os.walk(source.memo_dir, topdown=False):
        with suppress(OSError):
            os.rmdir(folder)
    with suppress(OSError):
        source.memo_dir.parent.rmdir()
    return replace(source, memo_dir=None)


def _new_java_reader(spec: FileSpec, source: _Source, store) -> Any:
    image_class = jpype.JClass("loci.formats.ImageReader")
    if source.skip_readers:  # a new list: the default one is shared by every ImageReader
        classes = jpype.JClass("loci.formats.ClassList")(jpype.JClass("loci.formats.IFormatReader").class_)
        for reader_class in image_class.getDefaultReaderClasses().getClasses():
            if reader_class.getName() not in source.skip_readers:
                classes.addClass(reader_class)
        image_reader = image_class(classes)
    else:
        image_reader = image_class()
    reader = image_reader
    if source.memo_dir is not None:
        memo_dir = jpype.JClass("java.io.File")(str(source.memo_dir))
        reader = jpype.JClass("loci.formats.Memoizer")(image_reader, source.memo_ms, memo_dir)
    reader.setFlattenedResolutions(False)
    reader.setGroupFiles(spec.group_files)
    reader.setMetadataStore(store)
    return reader


def _memo_threshold(spec: FileSpec, settings: config.Settings) -> int | None:
    """Milliseconds above which setId is memoized, or None when memoization is off."""
    if spec.memoize is False:
        return None
    if spec.memoize is True or spec.memoize is None:
        return settings.memoize_ms
    return int(spec.memoize)


def _new_store():
    return jpype.JClass("loci.formats.MetadataTools").createOMEXMLMetadata()


def _open_reader(spec: FileSpec, source: _Source) -> tuple[_Reader, Any]:
    """A reader with ``setId`` done; closes it again if ``setId`` fails.

    A remote file gets its own mount per reader, so that readers never share a handle.
    """
    java_id, on_close = source.java_id, None
    if spec.is_remote:
        from . import remote

        mount = remote.mount(spec.path, remote.thaw_options(spec.storage_options))
        java_id, on_close = mount.java_id, mount.close
    reader = _Reader(_new_java_reader(spec, source, _new_store()), on_close)
    try:
        with jvm.java_errors(spec.path, "opening"):
            guard.call(lambda: reader.java.setId(java_id), config.resolve().read_timeout, f"opening {spec.path}")
    except BaseException:
        reader.close()
        raise
    return reader, reader.java.getMetadataStore()  # a memo load brings its own store


OME_TIFF_READER = "loci.formats.in.OMETiffReader"


def _open_first(spec: FileSpec, source: _Source, settings: config.Settings) -> tuple[_Reader, Any, _Source]:
    """The first reader of a file, working around metadata that Bio-Formats chokes on.

    An ``.ome.xml`` file Bio-Formats rejects is read from a repaired copy. An OME-TIFF whose
    OME-XML contradicts its TIFF planes (wrong sizes, duplicate IDs) makes the OME-TIFF
    reader fail inside (a division by zero, say) or find no image; its planes are then read
    as a plain TIFF. Errors the OME-TIFF reader raises on purpose (a missing companion file)
    stay errors: a plain TIFF read would silently drop planes. A file in which no reader
    finds any image is a :class:`FormatError`.
    """
    try:
        first, store = _open_reader(spec, source)
    except FormatError as error:
        if error.internal and _is_local_ome_tiff(spec):
            return _open_as_plain_tiff(spec, source, error.java_message or str(error))
        return _open_repaired_omexml(spec, source, settings, error)
    if int(first.java.getSeriesCount()) > 0:
        return first, store, source
    claimed_by = type(_unwrap(first.java)).__name__
    first.close()
    if claimed_by == OME_TIFF_READER:
        return _open_as_plain_tiff(spec, source, "its OME-XML describes no image that its TIFF planes hold")
    raise _no_image(spec)


def _no_image(spec: FileSpec) -> FormatError:
    return FormatError(f"Bio-Formats found no image in {spec.path}", path=spec.path)


def _is_local_ome_tiff(spec: FileSpec) -> bool:
    return not spec.is_fake and not spec.is_remote and recognised(spec.path, reader_class=OME_TIFF_READER)


def recognised(name: str, *, by_content: bool = True, reader_class: str = "loci.formats.ImageReader") -> bool:
    """Whether Bio-Formats (or one reader class) claims ``name``: by its name, or also its first bytes."""
    jvm.ensure_started()
    with jvm.java_errors(name, "detecting the format of"):
        return bool(jpype.JClass(reader_class)().isThisType(name, by_content))


def _open_as_plain_tiff(spec: FileSpec, source: _Source, reason: str) -> tuple[_Reader, Any, _Source]:
    plain = replace(source, memo_dir=None, skip_readers=(OME_TIFF_READER,))
    first, store = _open_reader(spec, plain)
    if int(first.java.getSeriesCount()) == 0:
        first.close()
        raise _no_image(spec)
    warnings.warn(
        f"{spec.path}: the OME-TIFF reader failed ({reason}); reading its planes as a plain TIFF, "
        "so dimensions and metadata come from the TIFF tags, not from the OME-XML",
        metadata.MetadataWarning,
        stacklevel=7,  # the caller of bfbridge.open()
    )
    return first, store, plain


def _open_repaired_omexml(
    spec: FileSpec, source: _Source, settings: config.Settings, error: FormatError
) -> tuple[_Reader, Any, _Source]:
    """Open an OME-XML file Bio-Formats rejects from a repaired copy in the cache directory.

    The copy drops only what Bio-Formats named as wrong (see :func:`metadata.repair_omexml`);
    a :class:`~bfbridge.MetadataWarning` says what. Other files re-raise ``error``.
    """
    if spec.is_remote or spec.is_fake or not spec.path.lower().endswith(".xml"):
        raise error
    text = Path(spec.path).read_text(encoding="utf-8", errors="replace")
    folder = (
        Path(settings.cache_dir)
        / "repaired"
        / hashlib.sha1(repr((spec.path, source.identity)).encode()).hexdigest()[:16]
    )
    copy = folder / Path(spec.path).name
    repaired_source = replace(source, java_id=str(copy), memo_dir=None)
    fixes, last = [], error
    for _ in range(8):  # each attempt removes what Bio-Formats rejected last
        repaired = metadata.repair_omexml(text, last.java_message or "")
        if repaired is None:
            raise error
        text, fix = repaired
        fixes.append(fix)
        folder.mkdir(parents=True, exist_ok=True)
        copy.write_text(text, encoding="utf-8")
        try:
            reader, store = _open_reader(spec, repaired_source)
        except FormatError as again:
            last = again
            continue
        warnings.warn(
            f"{spec.path}: Bio-Formats rejected its OME-XML ({error.java_message}); reading a copy in the cache "
            f"without: {'; '.join(fixes)}",
            metadata.MetadataWarning,
            stacklevel=7,  # the caller of bfbridge.open()
        )
        return reader, store, repaired_source
    raise error


WARM_UP_ID = "/bfbridge-warm-up&sizeX=2&sizeY=2.fake"  # absolute: the Memoizer makes no folders
_warm_up_lock = threading.Lock()
_warmed_up = False


def _warm_up(settings: config.Settings) -> None:
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
        sources = [_Source(WARM_UP_ID)]
        memo_dir = Path(settings.cache_dir) / "memo"
        with suppress(OSError):  # no memo folder: memoization will be off, so no Memoizer to warm up
            memo_dir.mkdir(parents=True, exist_ok=True)
            sources.append(_Source(WARM_UP_ID, memo_dir, (1 << 31) - 1))
        for source in sources:
            reader, _ = _open_reader(FileSpec(WARM_UP_ID), source)
            try:
                info = _series_info(reader.java, 0)
                layout = pixels.PlaneLayout(
                    pixels.dtype_of(info.pixel_type), info.samples, info.interleaved, info.little_endian
                )
                pixels.read_region(reader.java, reader.buffers, layout, 0, 0, 0, 1, 1, np.empty((1, 1), layout.dtype))
                pixels.read_region(reader.java, reader.buffers, layout, 0, 0, 0, 2, 1)
            finally:
                reader.close()
        _warmed_up = True


def _check_path(path: str) -> None:
    if not os.path.exists(path):
        raise FileNotFoundError(errno.ENOENT, "No such file", path)
    if os.path.isdir(path):
        raise UnsupportedFormatError(
            f"{path} is a directory; Bio-Formats reads files (open the image file inside it)", path=path
        )


# ---------------------------------------------------------------------------- ImageFile


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
            _check_path(spec.path)
        jvm.ensure_started()
        settings = config.resolve()
        _warm_up(settings)
        first, store, source = _open_first(spec, _source(spec, settings), settings)
        try:
            with jvm.java_errors(spec.path, "reading the metadata of"):
                java = first.java
                infos = tuple(_series_info(java, s) for s in range(int(java.getSeriesCount())))
                java.setSeries(0)
                actual = _unwrap(java)
                used = tuple(str(f) for f in (java.getUsedFiles() or []))
                fmt = str(java.getFormat())
                memo = _memo_state(java)
        except BaseException:
            first.close()
            raise
        if memo is None and source.memo_dir is not None:
            source = _without_memo(source)
        size = spec.max_workers or settings.max_workers
        pool = ReaderPool(first, lambda: _open_reader(spec, source)[0], size, label=spec.path)
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

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("open" if self._opened else "not yet opened")
        return f"<bfbridge.ImageFile {self.path!r} ({state})>"

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
    def _borrow(self) -> Iterator[_Reader]:
        if self._closed:
            raise FileClosedError(f"{self.path} is closed; open it again with bfbridge.open()")
        with self._state().pool.borrow() as reader:
            yield reader

    def _use_reader(self, function: Callable[[_Reader], T], series: int, level: int, what: str) -> T:
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
            current = _identity(self.path)
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
        from . import remote

        spec = replace(spec, storage_options=remote.freeze_options(storage_options or {}))
    elif storage_options:
        raise ValueError("storage_options only apply to URLs such as s3://bucket/key or https://host/file")
    elif not spec.is_fake:
        spec = replace(spec, path=os.path.abspath(os.path.expanduser(text)))
    return ImageFile(spec)


# ---------------------------------------------------------------------------- Series


class SeriesTuple(tuple):
    """The series of a file; an index out of range says how many there are."""

    def __getitem__(self, key):
        try:
            return super().__getitem__(key)
        except IndexError:
            count = len(self)
            raise IndexError(f"the file has {count} series (0 to {count - 1}); there is no series {key}") from None


class Series(LazyArray):
    """One image of a file at one resolution level, as a lazy ``TCZYX[S]`` array.

    Index it like numpy (``s[0, :, 5, 100:200, 100:200]``) to read just that part, or
    call :meth:`to_numpy`, :meth:`to_dask` or :meth:`to_xarray`.
    """

    def __init__(self, file: ImageFile, index: int, level: int, info: SeriesInfo | None = None) -> None:
        self._file = file
        self.index = index
        self.level_index = level
        self._info = info if info is not None else file._state().infos[index]
        if not 0 <= level < len(self._info.levels):
            raise IndexError(f"series {index} has {len(self._info.levels)} resolution level(s), not {level + 1}")
        spec = file.spec
        info = self._info
        self._palette = info.palette and spec.apply_lut
        self._layout = pixels.PlaneLayout(
            pixels.dtype_of(info.pixel_type), info.samples, info.interleaved, info.little_endian
        )
        samples = 3 if self._palette else info.samples
        level_info = info.levels[level]
        channels = info.effective_c * (samples if spec.fold_rgb else 1)
        shape = [info.size_t, channels, info.size_z, level_info.size_y, level_info.size_x]
        if samples > 1 and not spec.fold_rgb:
            shape.append(samples)
        self._samples = samples
        self.shape = tuple(shape)
        self.dims = "TCZYXS"[: len(shape)]
        self.dtype = np.dtype(np.uint8 if info.table_bits == 8 else np.uint16) if self._palette else self._layout.dtype

    # ------------------------------------------------------------- facts

    @property
    def file(self) -> ImageFile:
        return self._file

    @cached_property
    def _meta(self) -> metadata.SeriesMetadata:
        return self._file._series_metadata(self.index)

    @property
    def name(self) -> str:
        return self._meta.name

    @property
    def resolution_count(self) -> int:
        return len(self._info.levels)

    def level(self, n: int) -> Series:
        """Resolution level ``n`` (0 is full resolution); negative counts from the smallest."""
        if n < 0:
            n += self.resolution_count
        return Series(self._file, self.index, n, self._info)

    @property
    def levels(self) -> tuple[Series, ...]:
        return tuple(self.level(n) for n in range(self.resolution_count))

    @property
    def sizes(self) -> dict[str, int]:
        return dict(zip(self.dims, self.shape, strict=True))

    @property
    def samples(self) -> int:
        """Samples per pixel in the file (3 for RGB)."""
        return self._info.samples

    @property
    def is_rgb(self) -> bool:
        return self._info.samples > 1

    @property
    def pixel_type(self) -> str:
        return pixels.PIXEL_TYPE_NAMES[self._info.pixel_type]

    @property
    def dimension_order(self) -> str:
        return self._info.dimension_order

    @property
    def indexed(self) -> bool:
        return self._info.indexed

    @property
    def false_color(self) -> bool:
        return self._info.false_color

    @property
    def little_endian(self) -> bool:
        """Byte order in the file (arrays are always native-endian)."""
        return self._info.little_endian

    @property
    def tile_size(self) -> tuple[int, int]:
        """The reader's optimal (height, width) for region reads at this level."""
        level = self._info.levels[self.level_index]
        return level.tile_y, level.tile_x

    @property
    def modulo(self) -> dict[str, dict[str, Any]]:
        """Modulo axes (e.g. FLIM lifetime bins folded into C), keyed by parent axis."""
        return self._info.modulo

    @property
    def physical_size(self) -> dict[str, metadata.Quantity]:
        """Pixel size by axis (``X``, ``Y``, ``Z``) at this level, with units."""
        sizes = dict(self._meta.physical_size)
        scale = self._level_scale()
        for axis, factor in (("X", scale[1]), ("Y", scale[0])):
            if axis in sizes and factor != 1:
                sizes[axis] = metadata.Quantity(sizes[axis].value * factor, sizes[axis].unit)
        return sizes

    def _level_scale(self) -> tuple[float, float]:
        full, here = self._info.levels[0], self._info.levels[self.level_index]
        return full.size_y / here.size_y, full.size_x / here.size_x

    @property
    def channel_names(self) -> tuple[str | None, ...]:
        return self._meta.channel_names

    @property
    def channel_colors(self) -> tuple[int | None, ...]:
        return self._meta.channel_colors

    @property
    def original_metadata(self) -> dict[str, Any]:
        return self._file.original_metadata["series"][self.index]

    @property
    def lookup_table(self) -> np.ndarray | None:
        """The colour table of the first plane as (colours, entries), if the file has one."""
        if not self._info.indexed:
            return None

        def first_plane_table(reader: _Reader) -> np.ndarray | None:
            reader.java.openBytes(0, reader.buffers.get(self._layout.nbytes(1, 1)), 0, 0, 1, 1)
            return pixels.lookup_table(reader.java)

        return self._file._use_reader(first_plane_table, self.index, self.level_index, "reading the lookup table of")

    def __repr__(self) -> str:
        level = f", level {self.level_index}/{self.resolution_count}" if self.resolution_count > 1 else ""
        shape = f"shape={self.shape} dims={self.dims} dtype={self.dtype}"
        return f"<bfbridge.Series {self.index} {self.name!r}{level} {shape}>"

    def __reduce__(self):
        # The core metadata travels along, so unpickling (e.g. in a dask scheduler) never opens the file.
        return (Series, (self._file, self.index, self.level_index, self._info))

    # ------------------------------------------------------------- reading

    @property
    def chunks(self) -> tuple[int, ...]:
        step = self._samples if self._file.spec.fold_rgb else 1
        return plane_chunks(self.shape, self.dtype.itemsize, step, self.tile_size)

    def _dask_name(self) -> str:
        return f"bfbridge-{self._file.spec.token()}-s{self.index}-l{self.level_index}"

    def to_numpy(self, max_workers: int | None = None) -> np.ndarray:
        """Read the whole series level, planes in parallel over the reader pool."""
        if max_workers is None:
            return self[...]
        return self._read_window(self._full_window(), max_workers)

    def _full_window(self) -> Window:
        return Window(
            tuple(range(self.shape[0])), tuple(range(self.shape[1])), tuple(range(self.shape[2])),
            (0, self.shape[3]), (0, self.shape[4]),
        )  # fmt: skip

    def _read_window(self, window: Window, max_workers: int | None = None) -> np.ndarray:
        height, width = window.y[1] - window.y[0], window.x[1] - window.x[0]
        out_shape = (len(window.t), len(window.c), len(window.z), height, width, *self.shape[5:])
        out = np.empty(out_shape, dtype=self.dtype)
        if out.size == 0:
            return out
        jobs = list(self._jobs(window, out))
        workers = 1 if getattr(_thread_state, "serial", False) else min(len(jobs), max_workers or self._file.pool_size)
        if workers <= 1:
            for job in jobs:
                self._run(job)
            return out
        pending = iter(jobs)  # each worker pulls the next job; next() on a list iterator is atomic
        failed = threading.Event()

        def drain() -> None:
            for job in pending:
                if failed.is_set():
                    return
                try:
                    self._run(job)
                except BaseException:
                    failed.set()
                    raise

        futures = [_shared_executor().submit(drain) for _ in range(workers)]
        wait(futures)  # no read may outlive this call, even when one of them failed
        for future in futures:
            future.result()
        return out

    def _jobs(self, window: Window, out: np.ndarray):
        """One job per physical plane and strip: (plane, y0, y1, x0, x1, [(channel, sample, view)])."""
        step = self._samples if self._file.spec.fold_rgb else 1
        fold = step > 1  # fold_rgb only changes series that have samples
        groups: dict[tuple[int, int, int], list[tuple[int | None, np.ndarray]]] = {}
        for ti, t in enumerate(window.t):
            for ci, c in enumerate(window.c):
                for zi, z in enumerate(window.z):
                    physical, sample = divmod(c, step) if fold else (c, None)
                    groups.setdefault((t, physical, z), []).append((sample, out[ti, ci, zi]))
        y0, y1 = window.y
        x0, x1 = window.x
        pixel_bytes = self._layout.nbytes(1, 1) * (3 if self._palette else 1)
        region_bytes = pixel_bytes * (y1 - y0) * (x1 - x0)
        budget = pixels.MIN_TILE_BUDGET
        if region_bytes > budget:  # only big regions need the (three Java calls) heap check
            budget = pixels.tile_budget(self._file.pool_size)
        tile_height = self.tile_size[0]
        for (t, c, z), targets in groups.items():
            number = plane_index(self._info, t, c, z)
            for top, bottom, left, right in pixels.strips(y0, y1, x0, x1, pixel_bytes, budget, tile_height):
                views = [(s, v[top - y0 : bottom - y0, left - x0 : right - x0]) for s, v in targets]
                yield number, top, bottom, left, right, views

    def _run(self, job) -> None:
        number, top, bottom, left, right, views = job
        direct = len(views) == 1 and views[0][0] is None and not self._palette

        def read(reader: _Reader) -> np.ndarray:
            data = pixels.read_region(
                reader.java, reader.buffers, self._layout, number,
                left, top, right - left, bottom - top, views[0][1] if direct else None,
            )  # fmt: skip
            return self._colour(reader.java, data) if self._palette else data

        data = self._file._use_reader(read, self.index, self.level_index, f"reading plane {number} of")
        if direct:
            return
        for sample, view in views:
            view[...] = data if sample is None else data[..., sample]

    def _colour(self, java_reader, indices: np.ndarray) -> np.ndarray:
        table = pixels.lookup_table(java_reader)
        if table is None:
            path = self._file.path
            raise FormatError(f"{path}: palette series {self.index} lost its colour table", path=path)
        colours = np.ascontiguousarray(table[:3].T.astype(self.dtype, copy=False))  # (entries, 3)
        if indices.dtype.kind == "i":  # signed pixel types index the table by their unsigned bits
            indices = indices.view(indices.dtype.str.replace("i", "u"))
        return colours[np.minimum(indices, len(colours) - 1)]

    # ------------------------------------------------------------- xarray

    def to_xarray(self, lazy: bool = True):
        """An ``xarray.DataArray`` with named dims, physical coordinates and OME attrs.

        ``lazy=True`` (default) wraps the dask array; ``lazy=False`` reads into numpy.
        """
        return to_dataarray(self, self.to_dask() if lazy else self.to_numpy())


def supported_formats() -> list[dict[str, Any]]:
    """Every Bio-Formats reader: its class, format name and file suffixes."""
    jvm.ensure_started()
    formats = []
    for java_reader in jpype.JClass("loci.formats.ImageReader")().getReaders():
        # some readers list several suffixes in one string ("tif, tiff")
        parts = (part.strip().lower() for suffix in java_reader.getSuffixes() for part in str(suffix).split(","))
        formats.append(
            {
                "reader": str(type(java_reader).__name__).rsplit(".", 1)[-1],
                "format": str(java_reader.getFormat()),
                "suffixes": sorted({part for part in parts if part}),
            }
        )
    return formats
