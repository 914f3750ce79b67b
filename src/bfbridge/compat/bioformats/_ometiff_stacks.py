"""OME-TIFF stacks written one ``write_image`` call per plane.

Bio-Formats' TIFF and PNG writers add a plane to a file that already holds some, which
is how CellProfiler's SaveImages builds stacks and movies from one ``write_image``
call per plane. Its ``OMETiffWriter`` cannot: a writer that did not write the file's
first planes fails on ``close()`` ("Negative position") and leaves a broken file,
because the OME-XML it puts in the first IFD only knows the planes of its own session.

So the ``OMETiffWriter`` of an OME-TIFF stack stays open between calls, and closes
(which writes the OME-XML) when the stack's last plane arrives, when the compat
readers open the file, on :func:`finish`, or when Python exits. It takes planes in
plane order only, so planes that come early wait (in the JVM) for their turn, and
planes never written are written as zeros when it closes early: Bio-Formats cannot
read an OME-TIFF with planes missing. A call for an OME-TIFF that exists while no
writer is open (written by an earlier run, or read in between) reads its planes back
and writes them again with the new one.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import bfbridge

from ._errors import java_call
from ._java import java_class, omexml_service
from ._pixel_buffer import pixel_buffer
from .omexml import OMEXML

log = logging.getLogger("bfbridge.compat")

OME_TIFF_SUFFIXES = (".ome.tif", ".ome.tiff", ".ome.tf2", ".ome.tf8", ".ome.btf")


@dataclass
class _Stack:
    """An open ``OMETiffWriter``, which takes planes in plane order only (else it fails on close)."""

    writer: Any
    layout: tuple  # (plane shape, pixel type, (size_c, size_z, size_t)): what every plane must share
    next: int = 0  # the next plane index the writer takes
    waiting: dict[int, Any] = field(default_factory=dict)  # planes that came early, as Java byte[]

    @property
    def total(self) -> int:
        size_c, size_z, size_t = self.layout[2]
        return size_c * size_z * size_t

    def add(self, index: int, buffer: Any) -> None:
        self.waiting[index] = buffer
        self._drain()

    def _drain(self) -> None:
        while self.next in self.waiting:
            self.writer.saveBytes(self.next, self.waiting.pop(self.next))
            self.next += 1

    def close(self, path: str) -> None:
        """Write the planes still missing as zeros (an OME-TIFF must hold all its planes) and close."""
        missing = [index for index in range(self.next, self.total) if index not in self.waiting]
        if missing:
            log.warning(
                "%s: %d of its %d planes were never written; they are written as zeros", path, len(missing), self.total
            )
            zeros = pixel_buffer(np.zeros(self.layout[0], np.uint8), self.layout[1])
            for index in missing:
                self.waiting[index] = zeros
        self._drain()
        self.writer.close()


_lock = threading.RLock()
_stacks: dict[str, _Stack] = {}
_exit_hook: list[bool] = []


def is_ome_tiff(path: str) -> bool:
    """Whether Bio-Formats' ``ImageWriter`` picks its ``OMETiffWriter`` for ``path``."""
    return path.lower().endswith(OME_TIFF_SUFFIXES)


def _earlier_planes(path: str, document: OMEXML, layout: tuple) -> dict[int, np.ndarray]:
    """The planes already in the OME-TIFF at ``path``, by plane index, read back with Bio-Formats."""
    with bfbridge.open(path, memoize=False) as image:
        written = OMEXML(image.ome_xml)
        if image.series_count != 1 or written.image().Pixels.tiffdata_count == 0:
            raise ValueError(f"{path} exists but is not a one-image OME-TIFF; remove it before writing its first plane")
        series = image.series[0]
        pixels, found = written.image().Pixels, {}
        for block in range(pixels.tiffdata_count):
            z, c, t = (getattr(pixels.tiffdata(block), axis) or 0 for axis in ("FirstZ", "FirstC", "FirstT"))
            plane = series[t, c, z]
            if plane.shape != layout[0]:
                raise ValueError(f"{path} holds {plane.shape} planes, not {layout[0]}; remove it to start a new stack")
            found[_index_of(document, z, c, t)] = plane
    return found


def _index_of(document: OMEXML, z: int, c: int, t: int) -> int:
    size_c, size_z = document.image().Pixels.SizeC, document.image().Pixels.SizeZ
    samples = document.image().Pixels.Channel(0).SamplesPerPixel or 1
    return c + size_c // samples * (z + size_z * t)


def _start(path: str, document: OMEXML, layout: tuple) -> _Stack:
    writer = java_class("loci.formats.ImageWriter")()
    writer.setMetadataRetrieve(omexml_service().createOMEXMLMetadata(str(document)))
    writer.setId(path)
    writer.setInterleaved(True)
    if not _exit_hook:  # after JPype's own exit hook, so this one runs first, while the JVM is up
        atexit.register(finish)
        _exit_hook.append(True)
    return _Stack(writer, layout)


def write_plane(path: str, document: OMEXML, index: int, buffer: Any, layout: tuple) -> None:
    """Add plane ``index`` (a Java ``byte[]``) to the OME-TIFF stack at ``path``."""
    with _lock, java_call(path, "writing"):
        stack = _stacks.get(path)
        if stack is not None and (stack.layout != layout or index < stack.next):
            finish(path)  # another stack, or a plane written again: start over from the file
            stack = None
        if stack is None:
            earlier = _earlier_planes(path, document, layout) if os.path.isfile(path) else {}
            if os.path.exists(path):
                os.remove(path)
            stack = _stacks[path] = _start(path, document, layout)
            for number, plane in sorted(earlier.items()):
                if number != index:
                    stack.add(number, pixel_buffer(plane, layout[1]))
        stack.add(index, buffer)
        if stack.next == stack.total:
            finish(path)


def finish(path: str | os.PathLike | None = None) -> None:
    """Close the OME-TIFF writers still waiting for planes (all of them, or the one of ``path``)."""
    with _lock:
        paths = list(_stacks) if path is None else [os.path.abspath(os.fspath(path))]
        for name in paths:
            stack = _stacks.pop(name, None)
            if stack is not None:
                with java_call(name, "finishing"):
                    stack.close(name)
