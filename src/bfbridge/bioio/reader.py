"""The bioio Reader: one Bio-Formats file, its scenes (series) and resolution levels.

The file is opened once, when the Reader is made, and stays open until :meth:`Reader.close`
(or until the Reader is garbage-collected): switching scene or level only points at another
:class:`~bfbridge.Series` of the same :class:`~bfbridge.ImageFile`, so a file with hundreds
of scenes is never parsed twice. The price is that Bio-Formats keeps its file handles while
the Reader lives, where bioio's convention is to hold none between calls; Bio-Formats 7.3.1
cannot release and reacquire them reliably (its TIFF readers fail to reopen).
"""

from __future__ import annotations

import operator
import os
from collections import Counter
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pint
import xarray as xr
from bioio_base import constants, exceptions, io, reader, types
from fsspec.implementations.local import LocalFileSystem
from fsspec.spec import AbstractFileSystem
from ome_types import OME, to_xml

from ..array import to_dataarray
from ..errors import BioFormatsError, FormatError
from ..metadata import Quantity
from ..reader import FileSpec, ImageFile, Series, detection, open_file
from .original_metadata import with_original_metadata

NAME = "bfbridge"


def _is_fake(text: str) -> bool:
    """A Bio-Formats ``.fake`` id: a synthetic image that needs no file."""
    return FileSpec(path=text).is_fake


class Reader(reader.Reader):
    """Read any Bio-Formats file (or ``.fake`` id, or fsspec URL) through bfbridge.

    Args:
        image: a path, an fsspec URL (``memory://``, ``https://``, ``s3://``...) or a
            Bio-Formats ``.fake`` id.
        fs_kwargs: fsspec options for URLs (bfbridge's ``storage_options``).
        fold_rgb: fold RGB samples into C (``TCZYX``) instead of a trailing S axis.
        apply_lut: give colour values for true palette images (GIF); ``False`` gives indices.
        group_files: let Bio-Formats group companion files (``setGroupFiles``).
        memoize: memo-file threshold in ms; ``0`` or ``False`` turns memo files off (as in
            bioio-bioformats), ``None`` uses bfbridge's ``memoize_ms`` setting (100 ms). Memo
            files go to bfbridge's cache directory, never beside the data.
        max_workers: readers (and threads) per whole-array read.
        original_meta: add the format's own metadata to :attr:`ome_metadata` as
            ``OriginalMetadata`` XML annotations, as Bio-Formats' OME-XML export does.
        dask_tiles: chunk dask arrays by tiles instead of whole planes (bfbridge splits
            planes above 64 MB into tiles anyway).
        tile_size: (Y, X) of those tiles; default the reader's optimal tile size.

    Raises:
        FileNotFoundError: the file does not exist.
        bioio_base.exceptions.UnsupportedFileFormatError: Bio-Formats cannot read it; the
            bfbridge error (with Bio-Formats' message) is its ``__cause__``.
    """

    _fs: AbstractFileSystem
    _path: str

    @classmethod
    def is_supported_image(cls, image: types.ImageLike, fs_kwargs: dict[str, Any] | None = None, **kwargs) -> bool:
        """True if Bio-Formats claims the file; raises ``UnsupportedFileFormatError`` if not.

        ``.fake`` ids name no file, so they are taken without looking for one.
        """
        if not isinstance(image, (str, Path)):
            raise exceptions.UnsupportedFileFormatError(NAME, str(type(image)), "bfbridge reads files and URLs")
        if _is_fake(os.fspath(image)):
            return True
        return super().is_supported_image(image, fs_kwargs=fs_kwargs or {}, **kwargs)

    @staticmethod
    def _is_supported_image(fs: AbstractFileSystem, path: str, **kwargs) -> bool:
        name = path if isinstance(fs, LocalFileSystem) else fs.unstrip_protocol(path)
        try:
            claimed = detection.claims(name)
        except (BioFormatsError, OSError) as error:
            raise exceptions.UnsupportedFileFormatError(NAME, name, f"Bio-Formats could not tell: {error}") from error
        if not claimed:
            raise exceptions.UnsupportedFileFormatError(NAME, name, "No Bio-Formats reader claims it.")
        return True

    def __init__(
        self,
        image: types.PathLike,
        *,
        fs_kwargs: dict[str, Any] | None = None,
        fold_rgb: bool = False,
        apply_lut: bool = True,
        group_files: bool = True,
        memoize: bool | int | None = None,
        max_workers: int | None = None,
        original_meta: bool = False,
        dask_tiles: bool = False,
        tile_size: tuple[int, int] | None = None,
    ) -> None:
        if tile_size is not None and (len(tile_size) != 2 or min(operator.index(n) for n in tile_size) < 1):
            raise ValueError(f"tile_size must be two positive ints (Y, X), got {tile_size!r}")
        text = os.fspath(image)
        storage_options = None
        if _is_fake(text):
            self._fs, self._path, target = LocalFileSystem(), text, text
        else:
            self._fs, self._path = io.pathlike_to_fs(image, enforce_exists=True, fs_kwargs=fs_kwargs or {})
            local = isinstance(self._fs, LocalFileSystem)
            target = self._path if local else text
            storage_options = None if local else dict(fs_kwargs or {})
        try:
            self._file = open_file(
                target,
                group_files=group_files,
                memoize=False if memoize is not None and memoize == 0 else memoize,
                fold_rgb=fold_rgb,
                apply_lut=apply_lut,
                max_workers=max_workers,
                storage_options=storage_options,
            )
        except FormatError as error:
            raise exceptions.UnsupportedFileFormatError(NAME, target, str(error)) from error
        self._original_meta = original_meta
        self._dask_tiles = dask_tiles
        self._tile_size = tile_size
        self._levels: dict[tuple[int, int], Series] = {}
        try:
            self._scenes = scene_ids(self._file)
        except BaseException:
            self._file.close()
            raise

    # ------------------------------------------------------------- file

    @property
    def image_file(self) -> ImageFile:
        """The open :class:`bfbridge.ImageFile`, for everything bioio has no name for."""
        return self._file

    def close(self) -> None:
        """Release Bio-Formats' readers and file handles. Arrays already read stay valid."""
        self._file.close()

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------- scenes and levels

    @property
    def scenes(self) -> tuple[str, ...]:
        return self._scenes

    @property
    def resolution_levels(self) -> tuple[int, ...]:
        return tuple(range(self._file.series[self.current_scene_index].resolution_count))

    def set_scene(self, scene_id: str | int) -> None:
        """Switch scene without reopening the file; the level stays if the new scene has it, else 0."""
        super().set_scene(scene_id)
        if self._current_resolution_level not in self.resolution_levels:
            self._current_resolution_level = 0

    @property
    def series(self) -> Series:
        """The current scene at the current resolution level, as a :class:`bfbridge.Series`."""
        key = (self.current_scene_index, self.current_resolution_level)
        if key not in self._levels:
            self._levels[key] = self._file.series[key[0]].level(key[1])
        return self._levels[key]

    # ------------------------------------------------------------- pixels

    def _read_delayed(self) -> xr.DataArray:
        series = self.series
        return self._annotated(series, series.to_dask(chunks=self._chunks(series)))

    def _read_immediate(self) -> xr.DataArray:
        series = self.series
        return self._annotated(series, series.to_numpy())

    def _read_indexed(self, given_dims: str, dim_specs: list[types.DimSpec]) -> np.ndarray:
        """Read only the planes and the Y/X rectangle a ``get_image_data`` selection needs.

        Ints and slices index the series directly; a list is read as the span of its items
        and then taken from it. Lists select along their own axis (outer indexing), as the
        dask path of bioio does, whatever other axes hold.
        """
        series = self.series
        window: list[int | slice] = []
        picks: list[tuple[int, list[int]]] = []  # (axis of the result, items relative to the span read)
        for spec, size, name in zip(dim_specs, series.shape, given_dims, strict=True):
            if isinstance(spec, list):
                items = [_within(item, size, name) for item in spec]
                low = min(items, default=0)
                picks.append((sum(isinstance(key, slice) for key in window), [item - low for item in items]))
                window.append(slice(low, max(items, default=-1) + 1))
            else:
                window.append(spec)
        data = series[tuple(window)]
        for axis, items in picks:
            data = np.take(data, items, axis=axis)
        return data

    def _chunks(self, series: Series) -> tuple[int, ...] | None:
        if not self._dask_tiles:
            return None
        tile_y, tile_x = self._tile_size or series.tile_size
        planes = series.chunks
        return (*planes[:3], min(tile_y, series.shape[3]), min(tile_x, series.shape[4]), *planes[5:])

    def _annotated(self, series: Series, data) -> xr.DataArray:
        """bfbridge's DataArray with bioio's channel names and metadata attrs."""
        array = to_dataarray(series, data)
        labels = self._channel_labels(series)
        if labels is not None:
            array = array.assign_coords(C=labels)
        array.attrs = {constants.METADATA_UNPROCESSED: self.ome_xml, constants.METADATA_PROCESSED: self.ome_metadata}
        return array

    def _channel_labels(self, series: Series) -> list[str] | None:
        """Channel names, or their OME channel IDs (``Channel:0:1``) where a channel has none, as
        bioio-bioformats gives; None when channels and OME channels do not pair up (``fold_rgb``)."""
        names = series.channel_names
        if len(names) != series.shape[1]:
            return None
        images = self.ome_metadata.images
        channels = images[series.index].pixels.channels if series.index < len(images) else []
        ids = [channel.id for channel in channels] if len(channels) == len(names) else []
        return [name or (ids[c] if ids else f"Channel:{series.index}:{c}") for c, name in enumerate(names)]

    # ------------------------------------------------------------- metadata

    @cached_property
    def ome_metadata(self) -> OME:
        """The file's OME metadata (``ome_types.OME``), parsed once for all scenes."""
        if self._original_meta:
            return with_original_metadata(self._file.ome, self._file.original_metadata)
        return self._file.ome

    @cached_property
    def ome_xml(self) -> str:
        """The OME-XML behind :attr:`ome_metadata`."""
        return to_xml(self.ome_metadata) if self._original_meta else self._file.ome_xml

    @property
    def physical_pixel_sizes(self) -> types.PhysicalPixelSizes:
        """Z, Y, X pixel sizes in micrometres at the current level (None where unknown or not a length)."""
        sizes = self.series.physical_size
        return types.PhysicalPixelSizes(*(_converted(sizes.get(axis), "micrometer") for axis in "ZYX"))

    @property
    def time_interval(self) -> types.TimeInterval:
        """The OME ``TimeIncrement`` of the current scene, if the file records one."""
        images = self.ome_metadata.images
        if self.current_scene_index >= len(images):
            return None
        pixels = images[self.current_scene_index].pixels
        if pixels.time_increment is None:
            return None
        seconds = _converted(Quantity(pixels.time_increment, pixels.time_increment_unit.value), "second")
        return None if seconds is None else timedelta(seconds=seconds)

    @property
    def dimension_properties(self) -> types.DimensionProperties:
        """bioio's per-axis types, with units: micrometres for Z, Y, X and seconds for T where known."""
        base = super().dimension_properties
        micrometre = types.ureg.micrometer
        changed = {}
        for axis, unit in (("T", types.ureg.second), ("Z", micrometre), ("Y", micrometre), ("X", micrometre)):
            known = getattr(base, axis)
            if known.type is not None:
                changed[axis] = known._replace(unit=unit)
        return base._replace(**changed)


def scene_ids(image: ImageFile) -> tuple[str, ...]:
    """A unique id per series: its name, or ``Image:<index>`` where the name is empty or shared."""
    names = [series.name for series in image.series]
    counts = Counter(names)
    ids = [name if name and counts[name] == 1 else f"Image:{index}" for index, name in enumerate(names)]
    if len(set(ids)) < len(ids):  # a name that looks like another series' fallback id
        ids = [f"Image:{index}" for index in range(len(names))]
    return tuple(ids)


def _within(index, size: int, axis: str) -> int:
    """``index`` as a non-negative position on an axis of ``size``, as numpy checks it."""
    position = operator.index(index)
    if not -size <= position < size:
        raise IndexError(f"index {position} is out of bounds for axis {axis} with size {size}")
    return position % size


def _converted(quantity: Quantity | None, unit: str) -> float | None:
    """``quantity`` in ``unit``, or None if absent or of another kind (pixels, reference frames)."""
    if quantity is None:
        return None
    try:
        return float(types.ureg.Quantity(quantity.value, quantity.unit).to(unit).magnitude)
    except (pint.errors.PintError, ValueError, TypeError):
        return None
