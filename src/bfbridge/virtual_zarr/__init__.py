"""Any Bio-Formats file as a read-only OME-Zarr, without converting it, and ``bfbridge serve``.

>>> import zarr, bfbridge as bf
>>> store = bf.open("cells.czi").to_zarr_store()
>>> zarr.open_group(store, mode="r")["0/0"][...]      # equals series 0's to_numpy()

One job a module:

- ``chunking``: chunk shapes from the reader's tiles;
- ``levels``: pixels of any level, read from the file or computed from the level above;
- ``documents``: the zarr.json documents and OME-XML, made by convert's own code;
- ``image``: one series as an OME-Zarr image: its keys, documents and chunk bytes;
- ``hierarchy``: every key of the store (the bioformats2raw layout) and its value;
- ``byteranges``: byte ranges as zarr and HTTP ask for them;
- ``store``: :class:`OmeZarrStore`, the zarr v3 ``Store``;
- ``server``: the HTTP server behind ``bfbridge serve``.
"""

from .store import OmeZarrStore, ReadOnlyStoreError

__all__ = ["OmeZarrStore", "ReadOnlyStoreError"]
