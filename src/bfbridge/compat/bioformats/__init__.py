"""A drop-in for python-bioformats 4.x: ``import bfbridge.compat.bioformats as bioformats``.

python-bioformats needs javabridge, a C extension that no longer builds easily. This
package offers its whole public API on bfbridge's JPype JVM, laid out as
python-bioformats is (``formatreader``, ``formatwriter``, ``metadatatools``,
``omexml``, ``log4j``/``logback``): reading (``load_image``, ``ImageReader`` and the
reader cache), the OME-XML model (``OMEXML``), writing (``write_image``), the raw
Bio-Formats reader and writer classes, and ``start_vm``/``kill_vm``, which map onto
:func:`bfbridge.configure`. Nothing here starts the JVM on import.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

from ... import config, jvm
from ...errors import JVMAlreadyStartedError
from . import formatreader, formatwriter, log4j, logback, metadatatools, omexml
from ._java import java_class
from .formatreader import *  # noqa: F403 - python-bioformats' bioformats offers formatreader's API
from .formatreader import clear_image_reader_cache, load_using_bioformats, load_using_bioformats_url
from .formatwriter import write_image
from .metadatatools import createOMEXMLMetadata as create_ome_xml_metadata
from .metadatatools import get_metadata_options, wrap_imetadata_object
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

OMETiffWriter = formatwriter.make_ome_tiff_writer_class()
ChannelSeparator = formatreader.make_reader_wrapper_class("loci/formats/ChannelSeparator")
PixelType = metadatatools.make_pixel_type_class()


def _bioformats_facts() -> dict[str, object]:
    """The facts python-bioformats listed by hand, asked of the Bio-Formats that is loaded."""
    suffixes = java_class("loci.formats.ImageReader")().getSuffixes()
    return {
        "JAR_VERSION": str(java_class("loci.formats.FormatTools").VERSION),
        "READABLE_FORMATS": tuple(sorted({str(suffix) for suffix in suffixes})),
        "WRITABLE_FORMATS": tuple(
            sorted({str(suffix) for suffix in java_class("loci.formats.ImageWriter")().getSuffixes()})
        ),
    }


def __getattr__(name: str) -> object:
    """``JAR_VERSION``, ``READABLE_FORMATS`` and ``WRITABLE_FORMATS``, which start the JVM when first read."""
    if name in ("JAR_VERSION", "READABLE_FORMATS", "WRITABLE_FORMATS"):
        facts = _bioformats_facts()
        globals().update(facts)
        return facts[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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


__all__ = [  # formatreader's names, then these
    *formatreader.__all__,
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
    "ChannelSeparator",
    "OMETiffWriter",
    "PixelType",
    "create_ome_xml_metadata",
    "formatreader",
    "formatwriter",
    "get_metadata_options",
    "init_logger",
    "kill_vm",
    "load_image",
    "load_image_url",
    "log4j",
    "logback",
    "metadatatools",
    "omexml",
    "start_vm",
    "wrap_imetadata_object",
    "write_image",
]
