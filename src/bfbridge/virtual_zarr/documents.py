"""The metadata documents of the virtual store, written by the very code ``bf.convert`` uses.

Each document is produced by zarr-python into an in-memory store, with convert's NGFF
attributes (``convert.ngff``), array creation (``convert.store.create_levels``) and OME-XML
(``convert.omexml``), so the store describes a file exactly as a conversion would. Only the
chunk shapes (the reader's tiles), the codec (none by default) and the display windows
(see ``image.VirtualImage.display_ranges``) differ.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import zarr

from ..convert import ngff, omexml, options, store
from ..convert.pyramid import Level
from .levels import METHOD

VERSION = "0.5"


def _written(attributes: dict[str, Any], build=None) -> dict[str, bytes]:
    """Every document zarr writes for a group with ``attributes`` and whatever ``build(group)`` adds."""
    contents: dict = {}
    group = zarr.open_group(zarr.storage.MemoryStore(contents), mode="w", zarr_format=3, attributes=attributes)
    if build is not None:
        build(group)
    return {key: value.to_bytes() for key, value in contents.items()}


def collection(series_paths: Sequence[str]) -> dict[str, bytes]:
    """The bioformats2raw root group and its ``OME`` group."""

    def add_ome_group(root: zarr.Group) -> None:
        root.create_group("OME", attributes=ngff.ome_group_attributes(series_paths, VERSION))

    return _written(ngff.root_attributes(VERSION), add_ome_group)


def metadata_xml(ome, picked: Sequence) -> bytes:
    """``OME/METADATA.ome.xml``: the file's OME-XML for the picked series, RGB folded into channels."""
    return omexml.for_zarr(ome, picked).encode("utf-8")


def image_group(series, levels: Sequence[Level], ranges: Sequence[tuple[float, float]]) -> bytes:
    """The image group's ``zarr.json``: multiscales and omero."""
    return _written(ngff.series_attributes(series, levels, ranges, METHOD, VERSION))["zarr.json"]


def level_arrays(
    levels: Sequence[Level], chunks: Sequence[tuple[int, ...]], dtype: np.dtype, compression: str
) -> tuple[dict[str, bytes], list]:
    """Each level's array ``zarr.json`` (keyed ``"<level>/zarr.json"``), and each level's numcodecs codec."""
    arrays: list[zarr.Array] = []

    def add_levels(group: zarr.Group) -> None:
        for level, chunk in zip(levels, chunks, strict=True):
            chosen = options.Options(
                format=options.ZARR, ngff_version=VERSION, compression=compression, compression_level=None,
                chunks=chunk, levels=None, downsample_method=METHOD, series=None, max_workers=None,
            )  # fmt: skip
            arrays.extend(store.create_levels(group, (level,), dtype, chosen, dimension_names=tuple(ngff.AXES)))

    written = _written({}, add_levels)
    del written["zarr.json"]
    return written, [store.numcodec_of(array) for array in arrays]
