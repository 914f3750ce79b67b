"""Local copies of remote files that cannot be read lazily, kept in the cache.

Some Bio-Formats readers open files with ``java.io`` instead of ``Location``, and a server
that does not report a file's size cannot serve byte ranges; those files are downloaded
once per content version into ``<cache_dir>/remote/files/`` and linked into the mount.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
import shutil
import threading
from collections.abc import Callable
from pathlib import Path

from .. import config
from .listing import Entry


def _ics_is_compressed(head: bytes) -> bool:
    return re.search(rb"compression\s+gzip", head, re.IGNORECASE) is not None


#: Readers that open some files with ``java.io`` instead of ``Location`` (found by scanning
#: the Bio-Formats 7.3.1 jar): lazy access is impossible, so the needed files are copied.
#: A value is a check on the first 64 KiB of the header file; ``None`` means always.
LOCAL_COPY_SUFFIXES: dict[str, Callable[[bytes], bool] | None] = {
    ".ics": _ics_is_compressed,  # gzip-compressed pixels are streamed with FileInputStream
    ".ids": _ics_is_compressed,
    ".nrrd": None,
    ".nhdr": None,
    ".fli": None,
    ".sldy": None,
    ".vws": None,
    ".pst": None,
    ".inf": None,
    ".db": None,
}


def files_root() -> Path:
    return Path(config.resolve().cache_dir) / "remote" / "files"


def local_copies(fs, name: str, siblings: dict[str, Entry]) -> set[str]:
    """Names (relative to the file's directory) that must be downloaded instead of read lazily.

    The file itself when its size is unknown (no ranges possible), and the file plus every
    sibling sharing its stem when its reader bypasses ``Location``.
    """
    stem, suffix = posixpath.splitext(name)
    copy_group = suffix.lower() in LOCAL_COPY_SUFFIXES
    if copy_group:
        check = LOCAL_COPY_SUFFIXES[suffix.lower()]
        copy_group = check is None or check(_header(fs, name, siblings))
    if not copy_group:
        return {name} if siblings[name].size is None else set()
    group = {top for top in (e.name.split("/", 1)[0] for e in siblings.values()) if _same_stem(top, stem)}
    return {e.name for e in siblings.values() if e.kind == "file" and e.name.split("/", 1)[0] in group}


def _same_stem(name: str, stem: str) -> bool:
    return posixpath.splitext(name)[0].lower() == stem.lower() or name.lower().startswith(stem.lower() + ".")


def _header(fs, name: str, siblings: dict[str, Entry]) -> bytes:
    """The first 64 KiB of the format's header file (for ICS, the ``.ics`` beside an ``.ids``)."""
    stem = posixpath.splitext(name)[0]
    header = next((e for e in siblings.values() if e.name.lower() == f"{stem}.ics".lower()), siblings[name])
    return fs.cat_file(header.remote, start=0, end=64 << 10)


def download(fs, entry: Entry, options_key: str) -> Path:
    """A local copy in the cache, downloaded once per content version (simplecache-style)."""
    identity = f"{fs.unstrip_protocol(entry.remote)}|{options_key}|{entry.size}|{entry.version}"
    target = files_root() / hashlib.sha256(identity.encode()).hexdigest()[:24] / posixpath.basename(entry.name)
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.part")
        try:
            fs.get_file(entry.remote, str(partial))
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
    return target


def link(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)
