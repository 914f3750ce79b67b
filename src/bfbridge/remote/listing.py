"""List the files beside a remote file, so that multi-file formats find their companions.

Bio-Formats finds companions by listing directories (VSI looks in ``_name_/stack1/``) or by
testing names it read from a header (OME-TIFF companions, ICS/IDS). Both work on a local
mirror of the remote directory, which this module lists: breadth-first, but folders whose
names contain the file's stem (and everything below them) first, within fixed budgets so
that a file in a huge bucket prefix does not trigger an unbounded crawl. Listings are cached briefly because every
reader of a file mounts it again.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import posixpath
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from urllib.parse import unquote

log = logging.getLogger(__name__)

#: How deep below the file's directory sibling folders are mirrored.
MAX_DEPTH = 3
#: At most this many entries and directory listings (requests) per file.
MAX_ENTRIES = 10_000
MAX_LISTINGS = 64
#: Seconds a listing is reused by further mounts of the same file.
LISTING_TTL = 60.0


@dataclass(frozen=True)
class Entry:
    """A file or directory: ``name`` relative to the remote file's directory (``/``-separated,
    URL-decoded) and ``remote``, its fsspec path."""

    name: str
    remote: str
    kind: str  # "file" or "directory"
    size: int | None = None
    version: str = ""


_cache_lock = threading.Lock()
_cache: OrderedDict[tuple, tuple[float, dict[str, Entry]]] = OrderedDict()


def list_siblings(fs, path: str, name: str, can_list: bool = True) -> dict[str, Entry]:
    """Entries under the directory of ``path``, keyed by relative name; empty when it cannot be listed."""
    if not can_list:
        return {}
    parent = fs._parent(path)
    stem = posixpath.splitext(name)[0].lower()  # decides which folders are listed first
    key = (fs.unstrip_protocol(parent), getattr(fs, "_fs_token", id(fs)), stem)
    now = time.monotonic()
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None and now - cached[0] < LISTING_TTL:
            return dict(cached[1])
    entries = _walk(fs, parent, stem)
    with _cache_lock:
        _cache[key] = (now, entries)
        while len(_cache) > 64:
            _cache.popitem(last=False)
    return dict(entries)


def _walk(fs, parent: str, stem: str) -> dict[str, Entry]:
    """Breadth-first, except that folders named like the file (and all below them) come first."""
    decode = is_http(fs)
    entries: dict[str, Entry] = {}
    order = itertools.count()
    # (unrelated to the file?, depth, tie-break, relative name, fsspec path)
    queue: list[tuple[bool, int, int, str, str]] = [(False, 0, next(order), "", parent)]
    listings = 0
    while queue and listings < MAX_LISTINGS and len(entries) < MAX_ENTRIES:
        unrelated, depth, _, relative, folder = heapq.heappop(queue)
        listings += 1
        try:
            children = fs.ls(folder, detail=True)
        except Exception as error:  # a server without directory pages, a denied list
            log.debug("cannot list %s: %s", folder, error)
            continue
        for child in children:
            name = _relative(folder, child["name"], decode)
            if name is None:
                continue
            kind = "directory" if child.get("type") == "directory" else "file"
            path = f"{relative}/{name}" if relative else name
            size = child.get("size") if kind == "file" else None
            entries[path] = Entry(path, child["name"].rstrip("/"), kind, size, version(child))
            if kind == "directory" and depth + 1 < MAX_DEPTH:
                related = (depth > 0 and not unrelated) or stem in name.lower()
                heapq.heappush(queue, (not related, depth + 1, next(order), path, entries[path].remote))
    if queue or len(entries) >= MAX_ENTRIES:
        log.info("listing of %s stopped after %d entries; deeper sibling files are not visible", parent, len(entries))
    return entries


def _relative(folder: str, child: str, decode: bool) -> str | None:
    """The name of ``child`` inside ``folder``, or None when the listing points elsewhere (``../``, other hosts)."""
    prefix = folder.rstrip("/") + "/"
    relative = child[len(prefix) :].strip("/") if child.startswith(prefix) else ""
    if not relative or "/" in relative:
        return None
    return unquote(relative) if decode else relative


def is_http(fs) -> bool:
    """HTTP paths are URLs, whose names are percent-encoded."""
    protocols = fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,)
    return "http" in protocols or "https" in protocols


def version(info: dict) -> str:
    """Whatever the filesystem reports that changes when a file's content does."""
    for field in ("ETag", "etag", "VersionId", "LastModified", "Last-Modified", "mtime", "created"):
        if info.get(field) is not None:
            return str(info[field])
    return ""
