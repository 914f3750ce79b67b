"""napari reader plugin: every Bio-Formats file as lazy image layers.

Each series becomes one layer, which napari splits per channel (``channel_axis``):
a list of dask arrays, largest first, for pyramids; ``scale`` in micrometres from the
physical pixel sizes; channel names; colormaps from the OME channel colours; and
``rgb=True`` for RGB. Nothing is read until napari asks for a plane, so the file stays
open while its layers exist. Only the first series of a file starts visible (the
others are often thumbnails, labels or overviews).

napari finds this reader through ``napari.yaml``, whose filename patterns are every
suffix of every Bio-Formats reader. Regenerate it after a Bio-Formats upgrade with
``python -m bfbridge.napari_reader --write-manifest``. Those patterns include suffixes
that non-image files use too (``.txt``, ``.csv``, ``.xml``, ``.zip``...), so
:func:`get_reader` takes a file only if Bio-Formats claims it, and :func:`read_layers`
returns None (napari's "not mine", so napari tries its other readers) when Bio-Formats
then fails to read it.
"""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import jvm
from .errors import BioFormatsError
from .reader import ImageFile, Series, open_file
from .reader.detection import claims, suffix_readers

log = logging.getLogger(__name__)

LayerData = tuple[Any, dict[str, Any], str]
PathOrPaths = str | os.PathLike | Sequence[str | os.PathLike]

MANIFEST = Path(__file__).with_name("napari.yaml")

#: Length units in micrometres, so that X, Y and Z scales are comparable.
_MICROMETRES = {"m": 1e6, "cm": 1e4, "mm": 1e3, "µm": 1.0, "nm": 1e-3, "Å": 1e-4, "pm": 1e-6}

#: OME channel colours that napari has a colormap of the same name for.
_NAMED_COLOURS = {
    (255, 0, 0): "red",
    (0, 255, 0): "green",
    (0, 0, 255): "blue",
    (0, 255, 255): "cyan",
    (255, 0, 255): "magenta",
    (255, 255, 0): "yellow",
    (255, 255, 255): "gray",
}


def _paths(path: PathOrPaths) -> list[str]:
    return [os.fspath(path)] if isinstance(path, (str, os.PathLike)) else [os.fspath(p) for p in path]


def get_reader(path: PathOrPaths) -> Callable[[PathOrPaths], list[LayerData] | None] | None:
    """napari's ``get_reader`` hook: :func:`read_layers` if Bio-Formats claims every file, else None."""
    paths = _paths(path)
    if not paths or not all(map(_claims, paths)):
        return None
    return read_layers


def read_layers(path: PathOrPaths) -> list[LayerData] | None:
    """One ``(data, kwargs, "image")`` layer per series of each file, or None if a file fails.

    None tells napari to try its other readers instead of showing a traceback; the
    Bio-Formats error goes to the ``bfbridge.napari_reader`` log.
    """
    images: list[ImageFile] = []
    try:
        for each in _paths(path):
            images.append(open_file(each))  # stays open: the layers read from it lazily
        return [series_layer(series, visible=series.index == 0) for image in images for series in image.series]
    except (BioFormatsError, OSError) as error:
        log.warning("bfbridge could not read %s: %s", path, error)
        for image in images:
            image.close()
        return None


def _claims(path: str) -> bool:
    """Whether Bio-Formats would read ``path`` (see :func:`bfbridge.reader.detection.claims`)."""
    try:
        return claims(path)
    except (BioFormatsError, OSError) as error:
        log.warning("bfbridge could not tell whether it reads %s: %s", path, error)
        return False


def series_layer(series: Series, visible: bool = True) -> LayerData:
    """The napari layer of one series: data (a dask array, or a list for pyramids) and kwargs."""
    levels = [level.to_dask() for level in series.levels]
    channels = series.shape[1]
    if channels == 1:
        levels = [level[:, 0] for level in levels]
    rgb = series.dims.endswith("S")
    base = series.name or Path(series.file.path).name
    labels = [name or (f"C{c}" if channels > 1 else "") for c, name in enumerate(series.channel_names)]
    names = [f"{base}: {label}" if label else base for label in labels]
    kwargs: dict[str, Any] = {
        "name": names if channels > 1 else names[0],
        "scale": _scale(series),
        "visible": visible,
        "metadata": {"path": series.file.path, "series": series.index, "format": series.file.format},
    }
    if channels > 1:
        kwargs["channel_axis"] = 1
    if len(levels) > 1:
        kwargs["multiscale"] = True
    if rgb:
        kwargs["rgb"] = True
    colormaps = [_colormap(colour) for colour in series.channel_colors]
    if not rgb and all(colormaps):
        kwargs["colormap"] = colormaps if channels > 1 else colormaps[0]
    return (levels if len(levels) > 1 else levels[0]), kwargs, "image"


def _scale(series: Series) -> tuple[float, float, float, float]:
    """(T, Z, Y, X) scale: pixel sizes in micrometres where known, 1 elsewhere."""
    sizes = series.physical_size

    def micrometres(axis: str) -> float:
        quantity = sizes.get(axis)
        if quantity is None:
            return 1.0
        return quantity.value * _MICROMETRES.get(quantity.unit, 1.0)

    return 1.0, micrometres("Z"), micrometres("Y"), micrometres("X")


def _colormap(colour: int | None) -> str | dict[str, Any] | None:
    """A napari colormap (a name, or a black-to-colour ramp) for an OME RGBA colour."""
    if colour is None:
        return None
    rgba = colour & 0xFFFFFFFF
    rgb = ((rgba >> 24) & 0xFF, (rgba >> 16) & 0xFF, (rgba >> 8) & 0xFF)
    if rgb == (0, 0, 0):  # a black ramp would hide the channel
        return None
    if rgb in _NAMED_COLOURS:
        return _NAMED_COLOURS[rgb]
    return {
        "name": "#{:02x}{:02x}{:02x}".format(*rgb),
        "colors": [[0.0, 0.0, 0.0, 1.0], [rgb[0] / 255, rgb[1] / 255, rgb[2] / 255, 1.0]],
    }


# ---------------------------------------------------------------------- manifest


def filename_patterns() -> list[str]:
    """``*.<suffix>`` for every suffix any Bio-Formats reader claims."""
    return [f"*.{suffix}" for suffix in sorted(suffix_readers())]


def manifest_text() -> str:
    """The npe2 manifest, with the filename patterns of the Bio-Formats version in use."""
    patterns = "\n".join(f"        - '{pattern}'" for pattern in filename_patterns())
    return (
        f"# Generated by `python -m bfbridge.napari_reader --write-manifest` from the readers of\n"
        f"# Bio-Formats {jvm.jvm_info()['bioformats_version']}. Do not edit by hand.\n"
        "name: bfbridge\n"
        "display_name: bfbridge Bio-Formats reader\n"
        "contributions:\n"
        "  commands:\n"
        "    - id: bfbridge.get_reader\n"
        "      python_name: bfbridge.napari_reader:get_reader\n"
        "      title: Open with Bio-Formats (bfbridge)\n"
        "  readers:\n"
        "    - command: bfbridge.get_reader\n"
        "      accepts_directories: false\n"
        "      filename_patterns:\n"
        f"{patterns}\n"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bfbridge.napari_reader", description="Write the napari manifest from Bio-Formats' readers."
    )
    parser.add_argument(
        "--write-manifest",
        nargs="?",
        const=str(MANIFEST),
        metavar="PATH",
        help=f"write the manifest (default {MANIFEST})",
    )
    args = parser.parse_args(argv)
    if args.write_manifest is None:
        parser.print_help()
        return 2
    Path(args.write_manifest).write_text(manifest_text(), encoding="utf-8")
    print(f"wrote {args.write_manifest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
