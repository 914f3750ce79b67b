"""Every key of the virtual store and its value, for the zarr Store and the HTTP server alike.

A whole file is the bioformats2raw layout that ``bf.convert`` writes::

    zarr.json                 root group: bioformats2raw.layout = 3
    OME/zarr.json             the list of series
    OME/METADATA.ome.xml      the file's OME-XML
    0/ 1/ ...                 one image per series (see ``image``)

One series (``Series.to_zarr_store()``) is a single image at the root. Keys are parsed, never
used as paths: nothing outside these keys can be named.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING

from ..convert.options import ZARR_COMPRESSIONS
from . import documents
from .image import Entry, VirtualImage, number

if TYPE_CHECKING:
    from ..reader import ImageFile

OME_FOLDER = "OME"
OME_XML = "METADATA.ome.xml"
#: The keys of a whole file's store outside its images.
COLLECTION_KEYS = ("zarr.json", f"{OME_FOLDER}/zarr.json", f"{OME_FOLDER}/{OME_XML}")


def _folded(file: ImageFile, picked: list[int]) -> tuple[ImageFile, bool]:
    """``file``, or a view of it with RGB samples folded into C (NGFF has no S axis); True if opened here."""
    if file.spec.fold_rgb or all(file.series[i].ndim == 5 for i in picked):
        return file, False
    from ..reader import ImageFile

    return ImageFile(replace(file.spec, fold_rgb=True)), True


class Hierarchy:
    """The keys and values of one file (``series=None``) or one series of it, as OME-Zarr 0.5."""

    def __init__(self, file: ImageFile, series: int | None, compression: str) -> None:
        if compression not in ZARR_COMPRESSIONS:
            raise ValueError(f"compression must be one of {', '.join(ZARR_COMPRESSIONS)}, got {compression!r}")
        picked = list(range(len(file.series))) if series is None else [file.series[series].index]
        self.file, self._owns_file = _folded(file, picked)
        self.series = series
        self.compression = compression
        self.images = [VirtualImage(self.file.series[i], compression) for i in picked]
        self.version = self.file.spec.token()  # changes with the file's size and modification time
        self._collection: dict[str, bytes] | None = None
        self._xml: bytes | None = None

    def close(self) -> None:
        if self._owns_file:
            self.file.close()

    @property
    def identity(self) -> tuple:
        return (self.file.spec, self.series, self.compression)

    # ------------------------------------------------------------- values

    def _collection_value(self, key: str) -> bytes | None:
        """A value outside the images, made on first use (a race only makes the same document twice)."""
        if key == COLLECTION_KEYS[2]:
            if self._xml is None:
                self._xml = documents.metadata_xml(self.file.ome, [image.series for image in self.images])
            return self._xml
        if self._collection is None:
            self._collection = documents.collection([str(i) for i in range(len(self.images))])
        return self._collection.get(key)

    def _route(self, key: str) -> tuple[VirtualImage | None, list[str]]:
        """The image a key belongs to and the key's parts within it (image None: a collection key)."""
        parts = key.split("/")
        if self.series is not None:
            return self.images[0], parts
        found = number(parts[0], len(self.images))
        return (None, parts) if found is None else (self.images[found], parts[1:])

    def get(self, key: str) -> bytes | memoryview | None:
        """The value at ``key``, or None if the store has no such key. Chunks are read now."""
        image, parts = self._route(key)
        if image is not None:
            return image.get(parts)
        return self._collection_value(key) if key in COLLECTION_KEYS else None

    def size(self, key: str) -> int | None:
        """The length of the value at ``key`` (uncompressed chunks: without reading them); None if absent."""
        image, parts = self._route(key)
        if image is not None:
            return image.size(parts)
        value = self.get(key)
        return None if value is None else len(value)

    def exists(self, key: str) -> bool:
        """Whether ``key`` is in the store, without making or reading anything (zarr may ask on its event loop)."""
        image, parts = self._route(key)
        return image.has(parts) if image is not None else key in COLLECTION_KEYS

    # ------------------------------------------------------------- listing

    def entries(self, folder: str) -> list[Entry] | None:
        """The names in ``folder`` ("" for the root; no trailing slash), or None if it is not a folder."""
        parts = folder.split("/") if folder else []
        if self.series is not None:
            return self.images[0].entries(parts)
        if not parts:
            return [("zarr.json", False), (OME_FOLDER, True)] + [(str(i), True) for i in range(len(self.images))]
        if parts == [OME_FOLDER]:
            return [("zarr.json", False), (OME_XML, False)]
        image, inner = self._route(folder)
        return None if image is None else image.entries(inner)

    def walk(self, folder: str = "") -> Iterator[str]:
        """Every key under ``folder``, depth first, lazily (a large file has millions of chunks)."""
        for name, is_folder in self.entries(folder) or []:
            path = f"{folder}/{name}" if folder else name
            if is_folder:
                yield from self.walk(path)
            else:
                yield path
