"""Series: one image of a file at one resolution level, as a lazy ``TCZYX[S]`` array.

A read becomes one job per physical plane and strip; the jobs run on the file's reader
pool, each job one ``openBytes`` copied once into the output array.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import metadata, pixels
from ..array import LazyArray, Window, plane_chunks, to_dataarray
from ..display.progress import Progress, ProgressCallback, file_label
from ..errors import FormatError
from .parallel import run_all
from .pool import PooledReader
from .series_info import SeriesInfo, plane_index

if TYPE_CHECKING:
    from ..virtual_zarr import OmeZarrStore
    from .image_file import ImageFile


class SeriesTuple(tuple):
    """The series of a file; an index out of range says how many there are."""

    def __getitem__(self, key):
        try:
            return super().__getitem__(key)
        except IndexError:
            count = len(self)
            raise IndexError(f"the file has {count} series (0 to {count - 1}); there is no series {key}") from None


class Series(LazyArray):
    """One image of a file at one resolution level, as a lazy ``TCZYX[S]`` array.

    Index it like numpy (``s[0, :, 5, 100:200, 100:200]``) to read just that part, or
    call :meth:`to_numpy`, :meth:`to_dask` or :meth:`to_xarray`.
    """

    def __init__(self, file: ImageFile, index: int, level: int, info: SeriesInfo | None = None) -> None:
        self._file = file
        self.index = index
        self.level_index = level
        self._info = info if info is not None else file._state().infos[index]
        if not 0 <= level < len(self._info.levels):
            raise IndexError(f"series {index} has {len(self._info.levels)} resolution level(s), not {level + 1}")
        spec = file.spec
        info = self._info
        self._palette = info.palette and spec.apply_lut
        self._layout = pixels.PlaneLayout(
            pixels.dtype_of(info.pixel_type), info.samples, info.interleaved, info.little_endian
        )
        samples = 3 if self._palette else info.samples
        level_info = info.levels[level]
        channels = info.effective_c * (samples if spec.fold_rgb else 1)
        shape = [info.size_t, channels, info.size_z, level_info.size_y, level_info.size_x]
        if samples > 1 and not spec.fold_rgb:
            shape.append(samples)
        self._samples = samples
        self.shape = tuple(shape)
        self.dims = "TCZYXS"[: len(shape)]
        self.dtype = np.dtype(np.uint8 if info.table_bits == 8 else np.uint16) if self._palette else self._layout.dtype

    # ------------------------------------------------------------- facts

    @property
    def file(self) -> ImageFile:
        return self._file

    @cached_property
    def _meta(self) -> metadata.SeriesMetadata:
        return self._file._series_metadata(self.index)

    @property
    def name(self) -> str:
        return self._meta.name

    @property
    def resolution_count(self) -> int:
        return len(self._info.levels)

    def level(self, n: int) -> Series:
        """Resolution level ``n`` (0 is full resolution); negative counts from the smallest."""
        if n < 0:
            n += self.resolution_count
        return Series(self._file, self.index, n, self._info)

    @property
    def levels(self) -> tuple[Series, ...]:
        return tuple(self.level(n) for n in range(self.resolution_count))

    @property
    def sizes(self) -> dict[str, int]:
        return dict(zip(self.dims, self.shape, strict=True))

    @property
    def samples(self) -> int:
        """Samples per pixel in the file (3 for RGB)."""
        return self._info.samples

    @property
    def is_rgb(self) -> bool:
        return self._info.samples > 1

    @property
    def pixel_type(self) -> str:
        return pixels.PIXEL_TYPE_NAMES[self._info.pixel_type]

    @property
    def dimension_order(self) -> str:
        return self._info.dimension_order

    @property
    def indexed(self) -> bool:
        return self._info.indexed

    @property
    def false_color(self) -> bool:
        return self._info.false_color

    @property
    def little_endian(self) -> bool:
        """Byte order in the file (arrays are always native-endian)."""
        return self._info.little_endian

    @property
    def tile_size(self) -> tuple[int, int]:
        """The reader's optimal (height, width) for region reads at this level."""
        level = self._info.levels[self.level_index]
        return level.tile_y, level.tile_x

    @property
    def modulo(self) -> dict[str, dict[str, Any]]:
        """Modulo axes (e.g. FLIM lifetime bins folded into C), keyed by parent axis."""
        return self._info.modulo

    @property
    def physical_size(self) -> dict[str, metadata.Quantity]:
        """Pixel size by axis (``X``, ``Y``, ``Z``) at this level, with units."""
        sizes = dict(self._meta.physical_size)
        scale = self._level_scale()
        for axis, factor in (("X", scale[1]), ("Y", scale[0])):
            if axis in sizes and factor != 1:
                sizes[axis] = metadata.Quantity(sizes[axis].value * factor, sizes[axis].unit)
        return sizes

    def _level_scale(self) -> tuple[float, float]:
        full, here = self._info.levels[0], self._info.levels[self.level_index]
        return full.size_y / here.size_y, full.size_x / here.size_x

    @property
    def channel_names(self) -> tuple[str | None, ...]:
        return self._meta.channel_names

    @property
    def channel_colors(self) -> tuple[int | None, ...]:
        return self._meta.channel_colors

    @property
    def original_metadata(self) -> dict[str, Any]:
        return self._file.original_metadata["series"][self.index]

    @property
    def lookup_table(self) -> np.ndarray | None:
        """The colour table of the first plane as (colours, entries), if the file has one."""
        if not self._info.indexed:
            return None

        def first_plane_table(reader: PooledReader) -> np.ndarray | None:
            reader.java.openBytes(0, reader.buffers.get(self._layout.nbytes(1, 1)), 0, 0, 1, 1)
            return pixels.lookup_table(reader.java)

        return self._file._use_reader(first_plane_table, self.index, self.level_index, "reading the lookup table of")

    def __repr__(self) -> str:
        from ..display.text import series_text

        return series_text(self)

    def _repr_html_(self) -> str:
        """The notebook view: sizes, levels, pixel sizes, channels and a small thumbnail."""
        from ..display.html import series_html

        return series_html(self)

    def __reduce__(self):
        # The core metadata travels along, so unpickling (e.g. in a dask scheduler) never opens the file.
        return (Series, (self._file, self.index, self.level_index, self._info))

    # ------------------------------------------------------------- reading

    @property
    def chunks(self) -> tuple[int, ...]:
        step = self._samples if self._file.spec.fold_rgb else 1
        return plane_chunks(self.shape, self.dtype.itemsize, step, self.tile_size)

    def _dask_name(self) -> str:
        return f"bfbridge-{self._file.spec.token()}-s{self.index}-l{self.level_index}"

    def to_numpy(self, max_workers: int | None = None, progress: bool | ProgressCallback = False) -> np.ndarray:
        """Read the whole series level, planes in parallel over the reader pool.

        ``progress``: ``True`` for a bar (a widget in Jupyter, text on stderr in a terminal),
        or ``callback(done_bytes, total_bytes)``, called from the read threads.
        """
        return self._read_window(self._full_window(), max_workers, progress)

    def _full_window(self) -> Window:
        return Window(
            tuple(range(self.shape[0])), tuple(range(self.shape[1])), tuple(range(self.shape[2])),
            (0, self.shape[3]), (0, self.shape[4]),
        )  # fmt: skip

    def _read_window(
        self, window: Window, max_workers: int | None = None, progress: bool | ProgressCallback = False
    ) -> np.ndarray:
        height, width = window.y[1] - window.y[0], window.x[1] - window.x[0]
        out_shape = (len(window.t), len(window.c), len(window.z), height, width, *self.shape[5:])
        out = np.empty(out_shape, dtype=self.dtype)
        if out.size == 0:
            return out
        jobs = list(self._jobs(window, out))
        workers = max_workers or self._file.pool_size
        if not progress:
            run_all(jobs, self._run, workers)
            return out
        with Progress(progress, f"{file_label(self._file.path)} [{self.index}]", total=out.nbytes) as bar:

            def run_and_count(job) -> None:
                self._run(job)
                bar.advance(sum(view.nbytes for _, view in job[5]))

            run_all(jobs, run_and_count, workers)
        return out

    def _jobs(self, window: Window, out: np.ndarray):
        """One job per physical plane and strip: (plane, y0, y1, x0, x1, [(channel, sample, view)])."""
        step = self._samples if self._file.spec.fold_rgb else 1
        fold = step > 1  # fold_rgb only changes series that have samples
        groups: dict[tuple[int, int, int], list[tuple[int | None, np.ndarray]]] = {}
        for ti, t in enumerate(window.t):
            for ci, c in enumerate(window.c):
                for zi, z in enumerate(window.z):
                    physical, sample = divmod(c, step) if fold else (c, None)
                    groups.setdefault((t, physical, z), []).append((sample, out[ti, ci, zi]))
        y0, y1 = window.y
        x0, x1 = window.x
        pixel_bytes = self._layout.nbytes(1, 1) * (3 if self._palette else 1)
        region_bytes = pixel_bytes * (y1 - y0) * (x1 - x0)
        budget = pixels.MIN_TILE_BUDGET
        if region_bytes > budget:  # only big regions need the (three Java calls) heap check
            budget = pixels.tile_budget(self._file.pool_size)
        tile_height = self.tile_size[0]
        for (t, c, z), targets in groups.items():
            number = plane_index(self._info, t, c, z)
            for top, bottom, left, right in pixels.strips(y0, y1, x0, x1, pixel_bytes, budget, tile_height):
                views = [(s, v[top - y0 : bottom - y0, left - x0 : right - x0]) for s, v in targets]
                yield number, top, bottom, left, right, views

    def _run(self, job) -> None:
        number, top, bottom, left, right, views = job
        direct = len(views) == 1 and views[0][0] is None and not self._palette

        def read(reader: PooledReader) -> np.ndarray:
            data = pixels.read_region(
                reader.java, reader.buffers, self._layout, number,
                left, top, right - left, bottom - top, views[0][1] if direct else None,
            )  # fmt: skip
            return self._colour(reader.java, data) if self._palette else data

        data = self._file._use_reader(read, self.index, self.level_index, f"reading plane {number} of")
        if direct:
            return
        for sample, view in views:
            view[...] = data if sample is None else data[..., sample]

    def _colour(self, java_reader, indices: np.ndarray) -> np.ndarray:
        table = pixels.lookup_table(java_reader)
        if table is None:
            path = self._file.path
            raise FormatError(f"{path}: palette series {self.index} lost its colour table", path=path)
        colours = np.ascontiguousarray(table[:3].T.astype(self.dtype, copy=False))  # (entries, 3)
        if indices.dtype.kind == "i":  # signed pixel types index the table by their unsigned bits
            indices = indices.view(indices.dtype.str.replace("i", "u"))
        return colours[np.minimum(indices, len(colours) - 1)]

    def to_zarr_store(self, compression: str = "none") -> OmeZarrStore:
        """This series (all its levels) as a read-only OME-Zarr 0.5 image store: ``multiscales`` at the root.

        See :meth:`ImageFile.to_zarr_store`.
        """
        from ..virtual_zarr import OmeZarrStore

        return OmeZarrStore(self._file, series=self.index, compression=compression)

    # ------------------------------------------------------------- xarray

    def to_xarray(self, lazy: bool = True, progress: bool | ProgressCallback = False):
        """An ``xarray.DataArray`` with named dims, physical coordinates and OME attrs.

        ``lazy=True`` (default) wraps the dask array; ``lazy=False`` reads into numpy,
        showing ``progress`` as :meth:`to_numpy` does.
        """
        if lazy and progress:
            raise ValueError(
                "progress applies to to_xarray(lazy=False); a lazy array reads when computed "
                "(use dask.diagnostics.ProgressBar, or the dask dashboard, there)"
            )
        return to_dataarray(self, self.to_dask() if lazy else self.to_numpy(progress=progress))
