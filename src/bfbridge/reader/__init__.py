"""Opening files through Bio-Formats and reading their series.

A file is opened by one Bio-Formats reader; more readers of the same file are made on
demand, up to ``max_workers``, so that threads read in parallel (Bio-Formats readers are
not thread-safe, and JPype releases the GIL during Java calls). Extra readers are cheap:
they load the first reader's memo file when the first open was slow. Switching series or
resolution level is a ``setSeries``/``setResolution`` on a reader that stays open.

One job a module:

- ``source``: the file spec, the file's identity and its memo folder;
- ``opening``: one reader with ``setId`` done, and the first open's fallbacks;
- ``detection``: the list of Bio-Formats readers, and whether one claims a file;
- ``warm_up``: a serial first use of JPype before parallel reads;
- ``pool``: lending readers to threads, replacing broken ones;
- ``series_info``: core facts of a series, read once at open;
- ``parallel``: the shared read threads;
- ``image_file``: :class:`ImageFile` and :func:`open_file`;
- ``series``: :class:`Series`, the lazy array of one series and level.
"""

from .detection import recognised, supported_formats
from .image_file import ImageFile, open_file
from .parallel import serial_reads
from .series import Series, SeriesTuple
from .source import FileSpec

__all__ = [
    "FileSpec",
    "ImageFile",
    "Series",
    "SeriesTuple",
    "open_file",
    "recognised",
    "serial_reads",
    "supported_formats",
]
