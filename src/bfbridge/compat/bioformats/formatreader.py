"""python-bioformats' ``bioformats.formatreader``: ``ImageReader``, ``load_using_bioformats``, the reader cache.

``ImageReader`` reads one plane per ``read()`` by python-bioformats' rules. The pixels
come from :class:`bfbridge.Series` slicing, so ``read()`` gets bfbridge's reader pool,
byte-order handling and region reads; only python-bioformats' choice of *which* plane
and *which shape* is reproduced here. ``ImageReader.rdr`` stands in for the Java reader
python-bioformats exposed: every ``IFormatReader`` method runs on one of the file's real
Bio-Formats readers, at the series that ``setSeries`` picked. Files that cannot be read
raise errors that are also ``OSError``, as python-bioformats' ``IOError`` were.

The factories of raw Bio-Formats readers (``make_image_reader_class``, ...) and the
OMERO helpers live in private modules and are offered here under python-bioformats' names.
"""

from __future__ import annotations

import errno
import functools
import logging
import operator
import os
import threading
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

import jpype
import numpy as np

import bfbridge

from ... import errors, pixels
from ._errors import FormatError, ReaderStateError, UnsupportedFormatError, java_call, os_errors
from ._java import omexml_service
from ._omero import (
    K_OMERO_CONFIG_FILE,
    K_OMERO_PASSWORD,
    K_OMERO_PORT,
    K_OMERO_SERVER,
    K_OMERO_SESSION_ID,
    K_OMERO_USER,
    get_omero_credentials,
    get_omero_reader,
    has_omero_packages,
    omero_login,
    omero_logout,
    set_omero_credentials,
    set_omero_login_hook,
    use_omero_credentials,
)
from ._ometiff_stacks import finish as finish_ome_tiff
from ._pooled_reader import FormatReader
from ._reader_cache import clear_image_reader_cache, get_image_reader, release_image_reader
from ._reader_classes import (
    get_class_list,
    make_format_tools_class,
    make_iformat_reader_class,
    make_image_reader_class,
    make_reader_wrapper_class,
    populated_omexml,
)

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


def _local_path(path: str | os.PathLike | None, url: str | None) -> str:
    """The id to open: a ``file:`` URL becomes a path; other URLs are read remotely by bfbridge."""
    if url is not None:
        url = str(url)
        if url.lower().startswith("omero:"):
            raise UnsupportedFormatError(
                f"{url}: bfbridge.compat does not read OMERO URLs (python-bioformats read them through OMERO's "
                "Java client); export the image from OMERO, or read it with omero-py",
                path=url,
            )
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
        self._file: bfbridge.ImageFile | None = None
        self._opening = threading.Lock()
        self._closed = False
        self.series_index = 0
        self.rdr = FormatReader(self)
        if perform_init:
            self.init_reader()

    @os_errors()
    def init_reader(self) -> None:
        """Open the file (``setId``); reads call this when ``perform_init`` was False."""
        with self._opening:
            if self._file is None:
                if _is_local(self.path):
                    finish_ome_tiff(self.path)  # an OME-TIFF this process is still writing
                self._file = bfbridge.open(self.path, group_files=False, apply_lut=False)

    @property
    def file(self) -> bfbridge.ImageFile:
        """The :class:`bfbridge.ImageFile` behind this reader (opened on first use)."""
        if self._closed:
            raise errors.FileClosedError(f"{self.path} is closed; make a new ImageReader to read it again")
        self.init_reader()
        return self._file

    @functools.cached_property
    def metadata(self) -> Any:
        """The file's OME metadata as a Bio-Formats ``IMetadata``, as python-bioformats' reader kept it.

        Read it with ``metadatatools.wrap_imetadata_object(reader.metadata)`` or its Java methods.
        """
        xml = self.file.ome_xml
        with java_call(self.path, "reading the metadata of"):
            return omexml_service().createOMEXMLMetadata(xml)

    def ome_xml_with_original_metadata(self) -> str:
        """The OME-XML with the file's original metadata added as annotations, as Bio-Formats adds it.

        Global keys keep their names; series keys get the image name (or ``Series <n>``)
        and a space in front, as a Bio-Formats reader with ``setOriginalMetadataPopulated(true)``
        does; unlike that reader, bfbridge's do not filter the metadata (empty values stay).
        """
        image = self.file
        service = omexml_service()
        with java_call(self.path, "reading the original metadata of"):
            store = service.createOMEXMLMetadata(image.ome_xml)
            table = jpype.JClass("java.util.Hashtable")(image.run_java(lambda java: java.getGlobalMetadata()))
            merge = jpype.JClass("loci.formats.MetadataTools").merge
            for series in range(image.series_count):
                name = str(store.getImageName(series) or "").strip() or f"Series {series}"
                image.run_java(lambda java, prefix=f"{name} ": merge(java.getSeriesMetadata(), table, prefix), series)
            service.populateOriginalMetadata(store, table)
            return str(service.getOMEXML(store))

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

    @os_errors()
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

    def _raw_plane(self, image_series: bfbridge.Series, index: int, rows: slice, columns: slice) -> np.ndarray:
        count = int(np.prod(image_series.shape[:3]))
        if not 0 <= index < count:
            raise IndexError(f"plane index {index} is out of range: series {image_series.index} has {count} planes")
        z, c, t = self.rdr.getZCTCoords(int(index))
        return image_series[t, c, z, rows, columns]

    def _palette_colours(
        self, image_series: bfbridge.Series, t: int, z: int, rows: slice, columns: slice
    ) -> np.ndarray:
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

    def _channel_names(self, image_series: bfbridge.Series) -> list[str]:
        """Channel names of the series, or the channel IDs where a channel has no name."""
        names = list(image_series.channel_names)
        if any(name is None for name in names):
            channels = self.file.ome.images[image_series.index].pixels.channels
            names = [name if name is not None else channels[i].id for i, name in enumerate(names)]
        return names

    def _scale(self, image_series: bfbridge.Series) -> int:
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


def _region(xywh: Sequence[int] | None, image_series: bfbridge.Series) -> tuple[slice, slice]:
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
    """The file's OME-XML, original metadata included, as text (parse it with :class:`~.omexml.OMEXML`).

    This is the XML python-bioformats returned, made the same way: Bio-Formats' metadata
    with every original-metadata key as an annotation
    (``OMEXML(xml).structured_annotations.OriginalMetadata``). For URLs that bfbridge
    reads remotely it comes from bfbridge's readers, whose original metadata is not
    filtered (empty values are kept).
    """
    with ImageReader(path=path, url=url, perform_init=False) as reader:
        if "://" in reader.path or os.path.isdir(reader.path):  # bfbridge reads URLs, and explains folders
            return reader.ome_xml_with_original_metadata()
        return populated_omexml(reader.path)


__all__ = [
    "K_OMERO_CONFIG_FILE",
    "K_OMERO_PASSWORD",
    "K_OMERO_PORT",
    "K_OMERO_SERVER",
    "K_OMERO_SESSION_ID",
    "K_OMERO_USER",
    "SCALES",
    "FormatError",
    "FormatReader",
    "ImageReader",
    "ReaderStateError",
    "UnsupportedFormatError",
    "clear_image_reader_cache",
    "get_class_list",
    "get_image_reader",
    "get_omero_credentials",
    "get_omero_reader",
    "get_omexml_metadata",
    "has_omero_packages",
    "load_using_bioformats",
    "load_using_bioformats_url",
    "make_format_tools_class",
    "make_iformat_reader_class",
    "make_image_reader_class",
    "make_reader_wrapper_class",
    "omero_login",
    "omero_logout",
    "release_image_reader",
    "set_omero_credentials",
    "set_omero_login_hook",
    "use_omero_credentials",
]
