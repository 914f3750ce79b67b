"""A drop-in for python-bioformats 4.x: ``import bfbridge.compat.bioformats as bioformats``.

python-bioformats needs javabridge, a C extension that no longer builds easily. This
package offers its reading API on bfbridge's JPype JVM, laid out as python-bioformats
is, so ``bioformats.formatreader.ImageReader`` and ``import bioformats.omexml`` keep
working: ``load_image``, ``ImageReader``, the reader cache that CellProfiler-style
pipelines use, ``get_omexml_metadata``, ``omexml.OMEXML``, the ``PT_*`` constants and
a no-op ``log4j.basic_config``. ``start_vm``/``kill_vm`` stand in for javabridge's and
map onto :func:`bfbridge.configure`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

from ... import config, jvm
from ...errors import JVMAlreadyStartedError
from . import formatreader, log4j, omexml
from .formatreader import (
    SCALES,
    FormatError,
    FormatReader,
    ImageReader,
    ReaderStateError,
    UnsupportedFormatError,
    clear_image_reader_cache,
    get_image_reader,
    get_omexml_metadata,
    load_using_bioformats,
    load_using_bioformats_url,
    release_image_reader,
)
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

# python-bioformats' names for the formatreader functions.
load_image = load_using_bioformats
load_image_url = load_using_bioformats_url

#: python-bioformats 1.x's ``bioformats.init_logger()``, which scripts still call.
init_logger = log4j.basic_config


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
    "FormatError",
    "FormatReader",
    "ImageReader",
    "ReaderStateError",
    "UnsupportedFormatError",
    "clear_image_reader_cache",
    "formatreader",
    "get_image_reader",
    "get_omexml_metadata",
    "init_logger",
    "kill_vm",
    "load_image",
    "load_image_url",
    "load_using_bioformats",
    "load_using_bioformats_url",
    "log4j",
    "omexml",
    "release_image_reader",
    "start_vm",
]
