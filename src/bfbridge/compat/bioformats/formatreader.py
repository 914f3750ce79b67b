"""python-bioformats' ``bioformats.formatreader``: ``ImageReader``, ``load_using_bioformats``, the reader cache.

``ImageReader`` reads one plane per ``read()`` by python-bioformats' rules. The pixels
come from :class:`bfbridge.Series` slicing, so ``read()`` gets bfbridge's reader pool,
byte-order handling and region reads; only python-bioformats' choice of *which* plane
and *which shape* is reproduced here. ``ImageReader.rdr`` stands in for the Java reader
python-bioformats exposed: every ``IFormatReader`` method runs on one of the file's real
Bio-Formats readers, at the series that ``setSeries`` picked. Files that cannot be read
raise errors that are also ``OSError``, as python-bioformats' ``IOError`` were.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import operator
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

import jpype
import numpy as np

from ... import errors, metadata, pixels
from ...reader import ImageFile, Series, open_file

log = logging.getLogger("bfbridge.compat")

#: What python-bioformats divides by when ``rescale=True``, by Bio-Formats pixel type.
#: (It has no entry for ``bit``; bit planes hold 0 and 1, so they are divided by 1.)
SCALES: dict[str, int] = {
    "int8": 255,
    "uint8": 255,
    "int16": 65535,
    "uint16": 65535,
    "int32": 2**32 - 1,
    "uint32": 2**32,
    "float": 1,
    "double": 1,
    "bit": 1,
}


class ReaderStateError(errors.BioFormatsError, NotImplementedError):
    """A Java reader method that would change state bfbridge manages (``setId``, ``setGroupFiles``, ...)."""


class FormatError(errors.FormatError, OSError):
    """:class:`bfbridge.FormatError` that is also an ``OSError`` (errno ``EINVAL``).

    python-bioformats raised ``IOError`` for files it could not read, so migrated code
    catches ``IOError``/``OSError``; ``except bfbridge.FormatError`` works as well.
    """

    def __init__(self, message: str, path: str | None = None, java_message: str | None = None):
        super().__init__(message, path, java_message)
        self.errno = errno.EINVAL


class UnsupportedFormatError(errors.UnsupportedFormatError, FormatError):
    """:class:`bfbridge.UnsupportedFormatError` that is also an ``OSError``, like :class:`FormatError`."""


@contextlib.contextmanager
def _os_errors() -> Iterator[None]:
    """Re-raise bfbridge's format errors as the compat classes above, which are also ``OSError``."""
    try:
        yield
    except errors.FormatError as error:
        if isinstance(error, OSError):
            raise
        kind = UnsupportedFormatError if isinstance(error, errors.UnsupportedFormatError) else FormatError
        raise kind(str(error), error.path, error.java_message) from error


def _local_path(path: str | os.PathLike | None, url: str | None) -> str:
    """The id to open: a ``file:`` URL becomes a path; other URLs are read remotely by bfbridge."""
    if url is not None:
        url = str(url)
        if url.lower().startswith("file:"):
            return url2pathname(urlparse(url).path)
        return url
    if path is None:
        raise TypeError("ImageReader needs a path or a url")
    return os.fspath(path)


def _is_local(path: str) -> bool:
    return "://" not in path and not path.endswith((".fake", ".fake.ini"))


class ImageReader:
    """A file opened the way python-bioformats opened it (``setGroupFiles(false)``).

    Use it as a context manager or call :meth:`close`. ``perform_init=False`` defers
    opening until the first read or ``rdr`` call (a missing file still raises at once).
    """

    def __init__(self, path: str | os.PathLike | None = None, url: str | None = None, perform_init: bool = True):
        self.path = _local_path(path, url)
        if _is_local(self.path) and not os.path.exists(self.path):
            raise FileNotFoundError(errno.ENOENT, f'The file, "{self.path}", does not exist.', self.path)
        self._file: ImageFile | None = None
        self._opening = threading.Lock()
        self._closed = False
        self.series_index = 0
        self.rdr = FormatReader(self)
        if perform_init:
            self.init_reader()

    @_os_errors()
    def init_reader(self) -> None:
        """Open the file (``setId``); reads call this when ``perform_init`` was False."""
        with self._opening:
            if self._file is None:
                self._file = open_file(self.path, group_files=False, apply_lut=False)

    @property
    def file(self) -> ImageFile:
        """The :class:`bfbridge.ImageFile` behind this reader (opened on first use)."""
        if self._closed:
            raise errors.FileClosedError(f"{self.path} is closed; make a new ImageReader to read it again")
        self.init_reader()
        return self._file

    def close(self) -> None:
        self._closed = True
        if self._file is not None:
            self._file.close()

    def __enter__(self) -> ImageReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<bfbridge.compat ImageReader {self.path!r} series {self.series_index}>"

    # ------------------------------------------------------------------ reading

    @_os_errors()
    def read(
        self,
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
        """Read one plane, python-bioformats style.

        Shapes: ``index`` gives that raw plane (H×W, or H×W×S for RGB); an RGB series
        gives H×W×3 (``c`` is ignored, extra samples dropped, a missing third added as
        zeros); a given ``c`` gives H×W; several channels stack as H×W×C and extend
        ``channel_names``; a true palette image gives its colours as H×W×3.
        ``series`` sticks for later reads. ``XYWH`` = (x, y, width, height) reads a region.

        ``rescale`` divides by the pixel type's scale (see :data:`SCALES`) or by the
        file's ``MaxSampleValue``, giving float32; ``wants_max_intensity`` also returns
        that scale.
        """
        if series is not None:
            self.rdr.setSeries(series)
        image_series = self.file.series[self.series_index]
        rows, columns = _region(XYWH, image_series)
        if index is not None:
            image = self._raw_plane(image_series, index, rows, columns)
        elif image_series.is_rgb:
            image = _three_samples(image_series[t, 0, z, rows, columns])
        elif c is not None:
            image = image_series[t, c, z, rows, columns]
        elif image_series.shape[1] > 1:
            image = np.ascontiguousarray(np.moveaxis(image_series[t, :, z, rows, columns], 0, -1))
            if channel_names is not None:
                channel_names.extend(self._channel_names(image_series))
        elif image_series.indexed and not image_series.false_color:
            image = self._palette_colours(image_series, t, z, rows, columns)
        else:
            image = image_series[t, 0, z, rows, columns]
        scale = self._scale(image_series)
        if rescale:
            image = image.astype(np.float32) / float(scale)
        return (image, scale) if wants_max_intensity else image

    def _raw_plane(self, image_series: Series, index: int, rows: slice, columns: slice) -> np.ndarray:
        count = int(np.prod(image_series.shape[:3]))
        if not 0 <= index < count:
            raise IndexError(f"plane index {index} is out of range: series {image_series.index} has {count} planes")
        z, c, t = self.rdr.getZCTCoords(int(index))
        return image_series[t, c, z, rows, columns]

    def _palette_colours(self, image_series: Series, t: int, z: int, rows: slice, columns: slice) -> np.ndarray:
        """The plane's colours through its own lookup table, unless that table is the identity."""
        indices = image_series[t, 0, z, rows, columns]
        number = int(self.rdr.getIndex(z, 0, t))

        def plane_table(java):
            java.openBytes(number, jpype.JArray(jpype.JByte)(image_series.dtype.itemsize), 0, 0, 1, 1)
            return pixels.lookup_table(java)

        table = self.rdr.call_java(plane_table)
        if table is None or np.array_equal(table, np.broadcast_to(np.arange(table.shape[1]), table.shape)):
            return indices
        return np.take(np.ascontiguousarray(table.T), indices, axis=0, mode="clip")

    def _channel_names(self, image_series: Series) -> list[str]:
        """Channel names of the series, or the channel IDs where a channel has no name."""
        names = list(image_series.channel_names)
        if any(name is None for name in names):
            channels = self.file.ome.images[image_series.index].pixels.channels
            names = [name if name is not None else channels[i].id for i, name in enumerate(names)]
        return names

    def _scale(self, image_series: Series) -> int:
        """The pixel type's scale, unless the file states a ``MaxSampleValue``."""
        scale = SCALES[image_series.pixel_type]
        stated = self.rdr.getSeriesMetadataValue("MaxSampleValue")
        if stated is None:
            stated = self.rdr.getMetadataValue("MaxSampleValue")
        if stated is None:
            return scale
        try:
            value = int(float(stated))
        except (TypeError, ValueError):
            value = 0
        if value <= 0:
            log.warning("%s: ignoring MaxSampleValue %r; intensities are scaled by %d", self.path, stated, scale)
            return scale
        return value


def _region(xywh: Sequence[int] | None, image_series: Series) -> tuple[slice, slice]:
    """Row and column slices for ``XYWH`` = (x, y, width, height); the whole plane for None."""
    if xywh is None:
        return slice(None), slice(None)
    if len(xywh) != 4:
        raise ValueError(f"XYWH must be (x, y, width, height), got {xywh!r}")
    x, y, width, height = (operator.index(v) for v in xywh)
    size_y, size_x = image_series.shape[3], image_series.shape[4]
    if x < 0 or y < 0 or width < 1 or height < 1 or x + width > size_x or y + height > size_y:
        raise ValueError(f"XYWH {tuple(xywh)} is not inside the {size_x}×{size_y} plane of series {image_series.index}")
    return slice(y, y + height), slice(x, x + width)


def _three_samples(image: np.ndarray) -> np.ndarray:
    """python-bioformats' RGB: the first three samples; two samples get a zero third."""
    samples = image.shape[-1]
    if samples > 3:
        return np.ascontiguousarray(image[..., :3])
    if samples == 2:
        return np.concatenate([image, np.zeros_like(image[..., :1])], axis=-1)
    return image


# ---------------------------------------------------------------------- one-shot reads


def load_using_bioformats(
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


def load_using_bioformats_url(url: str, *args, **kwargs) -> np.ndarray | tuple[np.ndarray, int]:
    """:func:`load_using_bioformats` for a URL: ``file:`` URLs, and the URLs bfbridge reads remotely."""
    with ImageReader(url=url) as reader:
        return reader.read(*args, **kwargs)


def get_omexml_metadata(path: str | os.PathLike | None = None, url: str | None = None) -> str:
    """The OME-XML Bio-Formats makes for the file, as text (parse it with :class:`~.omexml.OMEXML`)."""
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


# ---------------------------------------------------------------------- the Java reader


class FormatReader:
    """``ImageReader.rdr``: Bio-Formats ``IFormatReader`` methods on the file's real readers.

    ``getSizeX()``, ``getImageCount()``, ``isRGB()``, ``getPixelType()``,
    ``getSeriesMetadata()``, ``getIndex(z, c, t)``, ``openBytes(no)``, ... run on one of
    bfbridge's pooled Bio-Formats readers, positioned at this reader's series. Results
    come back as Python values: ``int``, ``bool``, ``str``, ``dict`` for metadata
    tables, ``list`` for string arrays and numpy arrays (``uint8`` for bytes) for
    primitive arrays. ``setSeries`` is remembered here; other setters are refused.
    """

    def __init__(self, owner: ImageReader) -> None:
        self._owner = owner

    def setSeries(self, series: int) -> None:
        count = self._owner.file.series_count
        series = operator.index(series)
        if not 0 <= series < count:
            raise IndexError(f"series {series} is out of range: {self._owner.path} has {count} series")
        self._owner.series_index = series

    def getSeries(self) -> int:
        return self._owner.series_index

    def close(self) -> None:
        self._owner.close()

    def openBytesXYWH(self, index: int, x: int, y: int, width: int, height: int) -> np.ndarray:
        """python-bioformats' name for ``openBytes(index, x, y, width, height)``."""
        return self.openBytes(index, x, y, width, height)

    @_os_errors()
    def call_java(self, function: Callable[[Any], Any]) -> Any:
        """Run ``function(java_reader)`` on one reader positioned at the current series.

        Like bfbridge's own reads, it gives up after the ``read_timeout`` setting.
        """
        return self._owner.file.run_java(function, self._owner.series_index)

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("_"):
            raise AttributeError(name)
        if name.startswith("set"):  # setSeries is a method of this class
            raise ReaderStateError(
                f"rdr.{name}() is not available: bfbridge opens and positions the Bio-Formats readers itself "
                "(files are opened with setGroupFiles(false); pick a series with rdr.setSeries or read(series=))"
            )

        def method(*args):
            return self.call_java(lambda java: to_python(getattr(java, name)(*args)))

        method.__name__ = name
        return method


def to_python(value: Any) -> Any:
    """A value returned by a Java reader method as a plain Python or numpy value."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, jpype.JArray):
        component = value.getClass().getComponentType()
        if component.isPrimitive():
            array = np.array(value)
            return array.view(np.uint8) if array.dtype == np.int8 else array
        items = [to_python(item) for item in value]
        return np.stack(items) if component.isArray() and items else items
    if isinstance(value, jpype.JClass("java.util.Map")):
        return metadata.hashtable_to_dict(value)
    if isinstance(value, jpype.JString):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return value
