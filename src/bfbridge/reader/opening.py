"""Opening a file with Bio-Formats: one reader with ``setId`` done, and the first reader's fallbacks.

The first open of a file works around metadata Bio-Formats chokes on (a broken OME-TIFF is
read as a plain TIFF, a rejected ``.ome.xml`` from a repaired copy); the pool's further
readers open the same :class:`Source` the first one settled on.
"""

from __future__ import annotations

import errno
import hashlib
import os
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import jpype

from .. import config, guard, jvm, metadata
from ..errors import FormatError, UnsupportedFormatError
from .detection import recognised
from .pool import PooledReader
from .source import FileSpec, Source


def unwrap(reader):
    """The format-specific reader inside Memoizer / ImageReader wrappers."""
    wrappers = (jpype.JClass("loci.formats.ReaderWrapper"), jpype.JClass("loci.formats.ImageReader"))
    while isinstance(reader, wrappers):
        reader = reader.getReader()
    return reader


def memo_state(java) -> str | None:
    """How the Memoizer served this open: ``"loaded"``, ``"saved"`` or None."""
    if not isinstance(java, jpype.JClass("loci.formats.Memoizer")):
        return None
    if java.isLoadedFromMemo():
        return "loaded"
    return "saved" if java.isSavedToMemo() else None


def _new_java_reader(spec: FileSpec, source: Source, store) -> Any:
    image_class = jpype.JClass("loci.formats.ImageReader")
    if source.skip_readers:  # a new list: the default one is shared by every ImageReader
        classes = jpype.JClass("loci.formats.ClassList")(jpype.JClass("loci.formats.IFormatReader").class_)
        for reader_class in image_class.getDefaultReaderClasses().getClasses():
            if reader_class.getName() not in source.skip_readers:
                classes.addClass(reader_class)
        image_reader = image_class(classes)
    else:
        image_reader = image_class()
    reader = image_reader
    if source.memo_dir is not None:
        memo_dir = jpype.JClass("java.io.File")(str(source.memo_dir))
        reader = jpype.JClass("loci.formats.Memoizer")(image_reader, source.memo_ms, memo_dir)
    reader.setFlattenedResolutions(False)
    reader.setGroupFiles(spec.group_files)
    reader.setMetadataStore(store)
    return reader


def _new_store():
    return jpype.JClass("loci.formats.MetadataTools").createOMEXMLMetadata()


def open_reader(spec: FileSpec, source: Source) -> tuple[PooledReader, Any]:
    """A reader with ``setId`` done; closes it again if ``setId`` fails.

    A remote file gets its own mount per reader, so that readers never share a handle.
    """
    java_id, on_close = source.java_id, None
    if spec.is_remote:
        from .. import remote

        mount = remote.mount(spec.path, remote.thaw_options(spec.storage_options))
        java_id, on_close = mount.java_id, mount.close
    reader = PooledReader(_new_java_reader(spec, source, _new_store()), on_close)
    try:
        with jvm.java_errors(spec.path, "opening"):
            guard.call(lambda: reader.java.setId(java_id), config.resolve().read_timeout, f"opening {spec.path}")
    except BaseException:
        reader.close()
        raise
    return reader, reader.java.getMetadataStore()  # a memo load brings its own store


OME_TIFF_READER = "loci.formats.in.OMETiffReader"


def open_first(spec: FileSpec, source: Source, settings: config.Settings) -> tuple[PooledReader, Any, Source]:
    """The first reader of a file, working around metadata that Bio-Formats chokes on.

    An ``.ome.xml`` file Bio-Formats rejects is read from a repaired copy. An OME-TIFF whose
    OME-XML contradicts its TIFF planes (wrong sizes, duplicate IDs) makes the OME-TIFF
    reader fail inside (a division by zero, say) or find no image; its planes are then read
    as a plain TIFF. Errors the OME-TIFF reader raises on purpose (a missing companion file)
    stay errors: a plain TIFF read would silently drop planes. A file in which no reader
    finds any image is a :class:`FormatError`.
    """
    try:
        first, store = open_reader(spec, source)
    except FormatError as error:
        if error.internal and _is_local_ome_tiff(spec):
            return _open_as_plain_tiff(spec, source, error.java_message or str(error))
        return _open_repaired_omexml(spec, source, settings, error)
    if int(first.java.getSeriesCount()) > 0:
        return first, store, source
    claimed_by = type(unwrap(first.java)).__name__
    first.close()
    if claimed_by == OME_TIFF_READER:
        return _open_as_plain_tiff(spec, source, "its OME-XML describes no image that its TIFF planes hold")
    raise _no_image(spec)


def _no_image(spec: FileSpec) -> FormatError:
    return FormatError(f"Bio-Formats found no image in {spec.path}", path=spec.path)


def _is_local_ome_tiff(spec: FileSpec) -> bool:
    return not spec.is_fake and not spec.is_remote and recognised(spec.path, reader_class=OME_TIFF_READER)


def _open_as_plain_tiff(spec: FileSpec, source: Source, reason: str) -> tuple[PooledReader, Any, Source]:
    plain = replace(source, memo_dir=None, skip_readers=(OME_TIFF_READER,))
    first, store = open_reader(spec, plain)
    if int(first.java.getSeriesCount()) == 0:
        first.close()
        raise _no_image(spec)
    warnings.warn(
        f"{spec.path}: the OME-TIFF reader failed ({reason}); reading its planes as a plain TIFF, "
        "so dimensions and metadata come from the TIFF tags, not from the OME-XML",
        metadata.MetadataWarning,
        stacklevel=7,  # the caller of bfbridge.open()
    )
    return first, store, plain


def _open_repaired_omexml(
    spec: FileSpec, source: Source, settings: config.Settings, error: FormatError
) -> tuple[PooledReader, Any, Source]:
    """Open an OME-XML file Bio-Formats rejects from a repaired copy in the cache directory.

    The copy drops only what Bio-Formats named as wrong (see :func:`metadata.repair_omexml`);
    a :class:`~bfbridge.MetadataWarning` says what. Other files re-raise ``error``.
    """
    if spec.is_remote or spec.is_fake or not spec.path.lower().endswith(".xml"):
        raise error
    text = Path(spec.path).read_text(encoding="utf-8", errors="replace")
    folder = (
        Path(settings.cache_dir)
        / "repaired"
        / hashlib.sha1(repr((spec.path, source.identity)).encode()).hexdigest()[:16]
    )
    copy = folder / Path(spec.path).name
    repaired_source = replace(source, java_id=str(copy), memo_dir=None)
    fixes, last = [], error
    for _ in range(8):  # each attempt removes what Bio-Formats rejected last
        repaired = metadata.repair_omexml(text, last.java_message or "")
        if repaired is None:
            raise error
        text, fix = repaired
        fixes.append(fix)
        folder.mkdir(parents=True, exist_ok=True)
        copy.write_text(text, encoding="utf-8")
        try:
            reader, store = open_reader(spec, repaired_source)
        except FormatError as again:
            last = again
            continue
        warnings.warn(
            f"{spec.path}: Bio-Formats rejected its OME-XML ({error.java_message}); reading a copy in the cache "
            f"without: {'; '.join(fixes)}",
            metadata.MetadataWarning,
            stacklevel=7,  # the caller of bfbridge.open()
        )
        return reader, store, repaired_source
    raise error


def check_path(path: str) -> None:
    if not os.path.exists(path):
        raise FileNotFoundError(errno.ENOENT, "No such file", path)
    if os.path.isdir(path):
        raise UnsupportedFormatError(
            f"{path} is a directory; Bio-Formats reads files (open the image file inside it)", path=path
        )
