"""OmeZarrStore: a read-only zarr v3 store that shows a Bio-Formats file as OME-Zarr, converting nothing.

zarr asks for keys asynchronously; each value is made on a worker thread, so that many chunks
are read at once through the file's pool of readers (Java releases the GIL). Pickling gives a
store that reopens the file lazily where it is unpickled (a dask worker).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from typing import TYPE_CHECKING

from zarr.abc.store import ByteRequest, Store
from zarr.core.buffer import Buffer, BufferPrototype

from .byteranges import span
from .hierarchy import Hierarchy

if TYPE_CHECKING:
    from ..reader import ImageFile


class ReadOnlyStoreError(PermissionError):
    """A write to the virtual OME-Zarr store, which only ever reads the file."""


class OmeZarrStore(Store):
    """A Bio-Formats file (or one series of it) as a read-only OME-Zarr 0.5 store.

    Made by :meth:`ImageFile.to_zarr_store` and :meth:`Series.to_zarr_store`. Open it with
    ``zarr.open_group(store, mode="r")``. Chunks are read from the file when asked for, one
    ``openBytes`` each; levels the file lacks are computed from the level above.
    """

    supports_writes = False
    supports_deletes = False
    supports_listing = True

    def __init__(self, file: ImageFile, series: int | None = None, compression: str = "none") -> None:
        super().__init__(read_only=True)
        self._hierarchy = Hierarchy(file, series, compression)
        self._is_open = True

    @property
    def hierarchy(self) -> Hierarchy:
        """The keys and values, for callers without an event loop (the HTTP server)."""
        return self._hierarchy

    @property
    def supports_consolidated_metadata(self) -> bool:  # consolidating would write
        return False

    def __eq__(self, other: object) -> bool:
        return isinstance(other, OmeZarrStore) and other._hierarchy.identity == self._hierarchy.identity

    def __hash__(self) -> int:
        return hash(self._hierarchy.identity)

    def __repr__(self) -> str:
        hierarchy = self._hierarchy
        what = "all series" if hierarchy.series is None else f"series {hierarchy.series}"
        return f"<bfbridge.OmeZarrStore {hierarchy.file.path!r} ({what}, read-only)>"

    def __reduce__(self):
        hierarchy = self._hierarchy
        return (OmeZarrStore, (hierarchy.file, hierarchy.series, hierarchy.compression))

    def with_read_only(self, read_only: bool = False) -> OmeZarrStore:
        if not read_only:
            self._refuse("open it for writing")
        return self

    def close(self) -> None:
        """Release the readers the store opened itself (RGB folded into C); the caller's file stays open."""
        self._hierarchy.close()
        super().close()

    # ------------------------------------------------------------- reading

    async def get(self, key: str, prototype: BufferPrototype, byte_range: ByteRequest | None = None) -> Buffer | None:
        value = await asyncio.to_thread(self._hierarchy.get, key)
        if value is None:
            return None
        start, stop = span(len(value), byte_range)
        return prototype.buffer.from_bytes(memoryview(value)[start:stop])

    async def get_partial_values(
        self, prototype: BufferPrototype, key_ranges: Iterable[tuple[str, ByteRequest | None]]
    ) -> list[Buffer | None]:
        return list(await asyncio.gather(*(self.get(key, prototype, part) for key, part in key_ranges)))

    async def exists(self, key: str) -> bool:
        return self._hierarchy.exists(key)

    async def getsize(self, key: str) -> int:
        size = await asyncio.to_thread(self._hierarchy.size, key)
        if size is None:
            raise FileNotFoundError(key)
        return size

    # ------------------------------------------------------------- listing

    async def list(self) -> AsyncIterator[str]:
        for key in self._hierarchy.walk():
            yield key

    async def list_prefix(self, prefix: str) -> AsyncIterator[str]:
        folder = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        while folder and self._hierarchy.entries(folder) is None:  # a prefix inside a name
            folder = folder.rsplit("/", 1)[0] if "/" in folder else ""
        for key in self._hierarchy.walk(folder):
            if key.startswith(prefix):
                yield key

    async def list_dir(self, prefix: str) -> AsyncIterator[str]:
        for name, _ in self._hierarchy.entries(prefix.rstrip("/")) or []:
            yield name

    # ------------------------------------------------------------- writing: refused

    def _refuse(self, action: str):
        path = self._hierarchy.file.path
        raise ReadOnlyStoreError(
            f"cannot {action}: the OME-Zarr store of {path} is a read-only view of the file; "
            f"to get a writable OME-Zarr, convert it: bfbridge.convert({path!r}, 'out.ome.zarr')"
        )

    async def set(self, key: str, value: Buffer) -> None:
        self._refuse(f"write {key!r}")

    async def set_if_not_exists(self, key: str, value: Buffer) -> None:
        self._refuse(f"write {key!r}")

    async def delete(self, key: str) -> None:
        self._refuse(f"delete {key!r}")

    async def delete_dir(self, prefix: str) -> None:
        self._refuse(f"delete {prefix!r}")

    async def clear(self) -> None:
        self._refuse("clear the store")
