"""``ImageReader.rdr``: the Java reader python-bioformats exposed, on bfbridge's pooled readers.

bfbridge keeps several Bio-Formats readers per file and lends one per call, so the
Java methods run here on whichever reader is free, positioned at the series this
proxy remembers. State that the pool manages (``setId``, ``setGroupFiles``, ...)
cannot be changed through it.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from ._errors import ReaderStateError, os_errors
from ._java import to_java, to_python
from ._reader_classes import IFormatReader


class FormatReader:
    """``ImageReader.rdr``: Bio-Formats ``IFormatReader`` methods on the file's real readers.

    ``getSizeX()``, ``getImageCount()``, ``isRGB()``, ``getPixelType()``,
    ``getSeriesMetadata()``, ``getIndex(z, c, t)``, ``openBytes(no)``, ... run on one of
    bfbridge's pooled Bio-Formats readers, positioned at this reader's series. Results
    come back as Python values: ``int``, ``bool``, ``str``, ``dict`` for metadata
    tables, ``list`` for string arrays and numpy arrays (``uint8`` for bytes) for
    primitive arrays. python-bioformats' aliases (``openBytesXYWH``, ``getMetadata``, ...)
    work too. ``setSeries`` is remembered here; other setters are refused.
    """

    def __init__(self, owner: Any) -> None:
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

    @os_errors()
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

        java_name = IFormatReader.renamed.get(name, name)  # python-bioformats' openBytesXYWH, getMetadata, ...

        def method(*args):
            return self.call_java(lambda java: to_python(getattr(java, java_name)(*(to_java(arg) for arg in args))))

        method.__name__ = name
        return method
