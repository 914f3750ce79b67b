"""The source's OME-XML, updated to describe the converted file.

Everything Bio-Formats knows about the source (instrument, channels, planes,
annotations, ROIs) is kept. What changes is what the new file stores: the chosen
series only, the pixel type and channel layout actually written (RGB samples
folded into channels for OME-Zarr, colours for palette images), and where the
planes are (TiffData for OME-TIFF, MetadataOnly for OME-Zarr).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import numpy as np
import ome_types
from ome_types import model

from .._version import __version__

_PIXEL_TYPES = {
    "int8": "int8", "int16": "int16", "int32": "int32", "uint8": "uint8", "uint16": "uint16",
    "uint32": "uint32", "float32": "float", "float64": "double",
}  # fmt: skip


def _image(images: Sequence[model.Image], series) -> model.Image:
    """The source's Image for ``series``, or a minimal one when its OME-XML could not be parsed."""
    if series.index < len(images):
        return images[series.index]
    size_t, channels, size_z, size_y, size_x = series.shape[:5]
    return model.Image(
        id=f"Image:{series.index}",
        name=series.name or None,
        pixels=model.Pixels(
            id=f"Pixels:{series.index}",
            dimension_order="XYZCT",
            type=_PIXEL_TYPES[series.dtype.name],
            size_x=size_x, size_y=size_y, size_z=size_z, size_c=channels, size_t=size_t,
            metadata_only=model.MetadataOnly(),
        ),
    )  # fmt: skip


def _fit_pixels(pixels: model.Pixels, position: int, series, channels: int, samples: int) -> None:
    """Make Pixels describe ``channels`` channels of ``samples`` samples each, in ``series.dtype``."""
    pixel_type = _PIXEL_TYPES[series.dtype.name]
    if pixels.type.value != pixel_type:
        pixels.type = pixel_type
        pixels.significant_bits = None
    pixels.size_c = channels * samples
    pixels.dimension_order = "XYZCT"
    pixels.big_endian = False
    pixels.interleaved = samples > 1
    pixels.bin_data_blocks = []
    pixels.tiff_data_blocks = []
    pixels.metadata_only = None
    pixels.channels = _channels(pixels.channels, channels, samples, position)


def _channels(original: Sequence[model.Channel], count: int, samples: int, position: int) -> list[model.Channel]:
    """``count`` channels: the originals, each split into equal parts when there are fewer of them."""
    split = count // len(original) if original and count % len(original) == 0 else 1
    result = []
    for index in range(count):
        source = index // split
        channel = original[source].model_copy(deep=True) if source < len(original) else model.Channel()
        if split > 1 and split in (3, 4):
            channel.color = model.Color(("red", "green", "blue", "white")[index % split])
        channel.id = f"Channel:{position}:{index}"
        channel.samples_per_pixel = samples
        result.append(channel)
    return result


def _selected(ome: model.OME, picked: Sequence) -> model.OME:
    """A copy of ``ome`` with only the picked series' images, and references to others dropped."""
    result = ome.model_copy(deep=True)
    result.images = [_image(result.images, series) for series in picked]
    kept = {image.id for image in result.images}
    for plate in result.plates:
        for well in plate.wells:
            well.well_samples = [s for s in well.well_samples if s.image_ref is None or s.image_ref.id in kept]
    for holder in (*result.datasets, *result.folders):
        holder.image_refs = [ref for ref in holder.image_refs if ref.id in kept]
    result.creator = f"bfbridge {__version__}"
    result.binary_only = None
    return result


def for_zarr(ome: model.OME, picked: Sequence) -> str:
    """OME-XML for ``OME/METADATA.ome.xml``: samples folded into channels, pixels in the Zarr arrays."""
    result = _selected(ome, picked)
    for position, (image, series) in enumerate(zip(result.images, picked, strict=True)):
        _fit_pixels(image.pixels, position, series, series.shape[1], 1)
        image.pixels.metadata_only = model.MetadataOnly()
    return ome_types.to_xml(result)


def for_tiff(ome: model.OME, picked: Sequence, first_ifds: Sequence[int]) -> str:
    """OME-XML for the first IFD: each series' planes are consecutive IFDs in XYZCT order."""
    result = _selected(ome, picked)
    result.uuid = f"urn:uuid:{uuid.uuid4()}"
    for position, (image, series, first) in enumerate(zip(result.images, picked, first_ifds, strict=True)):
        samples = series.shape[5] if series.ndim == 6 else 1
        _fit_pixels(image.pixels, position, series, series.shape[1], samples)
        planes = int(np.prod(series.shape[:3]))
        image.pixels.tiff_data_blocks = [model.TiffData(ifd=first, plane_count=planes)]
    return ome_types.to_xml(result)
