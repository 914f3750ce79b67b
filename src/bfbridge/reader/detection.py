"""Which Bio-Formats readers exist, and whether one claims a file.

Reader plug-ins (napari, bioio) ask :func:`claims` before they take a file. Bio-Formats
lists suffixes that non-image files use too (``.txt``, ``.csv``, ``.xml``, ``.zip``...),
so a file with such a suffix, or with one that several readers share, is judged by its
content; any other Bio-Formats suffix is enough.
"""

from __future__ import annotations

import functools
import os
import zipfile
from collections import Counter
from typing import Any

import jpype

from .. import jvm

#: Suffixes that non-image files use too: text, markup, logs, archives and raw data.
#: (``.htm`` and ``.scan`` are left out: Bio-Formats claims every such file by name.)
GENERIC_SUFFIXES = frozenset(
    {"bin", "cfg", "csv", "dat", "db", "env", "exp", "h5", "hdr", "html", "img", "inf", "log", "lut", "map"}
    | {"mdb", "par", "raw", "rec", "seq", "set", "st", "txt", "wav", "xml", "zip"}
)


def recognised(name: str, *, by_content: bool = True, reader_class: str = "loci.formats.ImageReader") -> bool:
    """Whether Bio-Formats (or one reader class) claims ``name``: by its name, or also its first bytes."""
    jvm.ensure_started()
    with jvm.java_errors(name, "detecting the format of"):
        return bool(jpype.JClass(reader_class)().isThisType(name, by_content))


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


@functools.cache
def suffix_readers() -> Counter[str]:
    """How many Bio-Formats readers claim each suffix."""
    return Counter(suffix for entry in supported_formats() for suffix in entry["suffixes"])


def claims(path: str) -> bool:
    """Whether Bio-Formats would read ``path``: by its suffix if specific, else by its content.

    URLs are judged by their suffix alone (their content is not worth fetching here), and
    must not have a generic one. A ``.zip`` is judged by its first entry, the only one
    Bio-Formats reads. Raises :class:`~bfbridge.BioFormatsError` or ``OSError`` when that
    cannot be told.
    """
    if "://" in path:
        suffix = _bioformats_suffix(path.split("?", 1)[0])
        return suffix is not None and suffix not in GENERIC_SUFFIXES
    if os.path.isdir(path):
        return False
    if _has_specific_suffix(path):
        return True
    if not os.path.isfile(path):  # a missing file: no content to look at
        return False
    if path.lower().endswith(".zip"):
        return _zip_claimed(path)
    return recognised(path)


def _bioformats_suffix(name: str) -> str | None:
    """The longest Bio-Formats suffix ``name`` ends with, if any."""
    lower = name.lower()
    suffixes = [suffix for suffix in suffix_readers() if lower.endswith(f".{suffix}")]
    return max(suffixes, key=len) if suffixes else None


def _has_specific_suffix(name: str) -> bool:
    """Whether the longest Bio-Formats suffix of ``name`` is one reader's and not generic."""
    suffix = _bioformats_suffix(name)
    return suffix is not None and suffix_readers()[suffix] == 1 and suffix not in GENERIC_SUFFIXES


def _zip_claimed(path: str) -> bool:
    """Bio-Formats claims every ``.zip`` by name but reads only its first member: judge that."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except zipfile.BadZipFile:
        return False
    return bool(names) and (_has_specific_suffix(names[0]) or recognised(names[0], by_content=False))
