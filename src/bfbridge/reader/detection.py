"""Which Bio-Formats readers exist, and whether one claims a file."""

from __future__ import annotations

from typing import Any

import jpype

from .. import jvm


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
