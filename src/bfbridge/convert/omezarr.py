"""OME-Zarr output in the bioformats2raw layout (NGFF 0.5 on zarr v3, or 0.4 on zarr v2).

::

    out.ome.zarr/            root group: bioformats2raw.layout = 3
      OME/                   group listing the series; METADATA.ome.xml beside its metadata
      0/ 1/ ...              one image group per series: multiscales + omero
        0/ 1/ ...            one array per resolution level, axes t, c, z, y, x
"""

from __future__ import annotations

from pathlib import Path

import zarr

from ..display.progress import Progress
from . import ngff, omexml, pyramid, store
from .options import Options
from .parallel import Runner


def write(image, picked: list, path: Path, options: Options, runner: Runner, progress: Progress) -> None:
    """Write the picked series of ``image`` (opened with RGB folded into C) to a new store at ``path``."""
    version = options.ngff_version
    root = zarr.open_group(
        zarr.storage.LocalStore(path), mode="w-", zarr_format=options.zarr_format,
        attributes=ngff.root_attributes(version),
    )  # fmt: skip
    names = [str(position) for position in range(len(picked))]
    pyramids = []
    for name, series in zip(names, picked, strict=True):
        levels = pyramid.plan(series, options.levels, options.chunks[3:])
        group = root.create_group(name)
        arrays = store.create_levels(group, levels, series.dtype, options, dimension_names=tuple(ngff.AXES))
        pyramids.append(store.Pyramid(series, levels, arrays))
    progress.expect(sum(entry.nbytes for entry in pyramids))
    store.write_levels(pyramids, runner, progress, options)
    ome = image.ome
    for name, entry in zip(names, pyramids, strict=True):
        attributes = ngff.series_attributes(
            entry.series, entry.levels, entry.channel_ranges(), options.downsample_method, version
        )
        root[name].attrs.update(attributes)
    root.create_group("OME", attributes=ngff.ome_group_attributes(names, version))
    (path / "OME" / "METADATA.ome.xml").write_text(omexml.for_zarr(ome, picked), encoding="utf-8")
