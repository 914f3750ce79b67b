"""Read fsspec URLs lazily: a Java ``IRandomAccess`` over fsspec files, mapped into Bio-Formats.

Each mount mirrors the file's remote directory as a local skeleton under
``<cache_dir>/remote/mounts/``: real directories and empty (sparse) placeholder files,
so that Bio-Formats can list, test and size sibling files the way it does on disk. Every
placeholder is mapped in ``loci.common.Location`` (see :mod:`bfbridge.remote_idmap`) so
that each stream Bio-Formats opens on it gets a :class:`~bfbridge.remote_handle.RemoteHandle`
that fetches byte ranges on demand. Readers that bypass ``Location`` and open files with
``java.io`` (see :data:`LOCAL_COPY_SUFFIXES`), and servers that do not report sizes, get a
downloaded copy of the files they need in ``<cache_dir>/remote/files/`` instead.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import itertools
import json
import logging
import os
import posixpath
import re
import shutil
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import jpype

from . import config
from .errors import BioFormatsError, UnsupportedFormatError
from .remote_handle import RemoteBlob, RemoteHandle
from .remote_idmap import RemoteIds
from .remote_listing import Entry, is_http, list_siblings, version

log = logging.getLogger(__name__)


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


def freeze_options(options: dict[str, Any]) -> tuple:
    """Storage options as a hashable, picklable value for :class:`~bfbridge.reader.FileSpec`."""
    try:
        return (("json", json.dumps(options, sort_keys=True)),)
    except TypeError as error:
        raise ValueError(f"storage_options must be JSON-serialisable: {error}") from error


def thaw_options(frozen: tuple) -> dict[str, Any]:
    return json.loads(dict(frozen)["json"]) if frozen else {}


@dataclass
class Mount:
    """A URL mapped into Bio-Formats' ``Location`` under ``java_id`` until ``close()``."""

    java_id: str
    close: Callable[[], None]


# ---------------------------------------------------------------------------- mounting

_counter = itertools.count()
_state_lock = threading.Lock()
_remote_ids: RemoteIds | None = None


def mounts_root() -> Path:
    """Where mount skeletons live; one directory per mount, removed when it closes."""
    return Path(os.path.realpath(Path(config.resolve().cache_dir) / "remote" / "mounts"))


def _id_map() -> RemoteIds:
    global _remote_ids
    with _state_lock:
        if _remote_ids is None:
            _remove_stale_mounts(mounts_root())
            _remote_ids = RemoteIds(Path(config.resolve().cache_dir) / "remote" / "classes")
        return _remote_ids


@jpype.JImplements("java.util.function.Function", deferred=True)
class _Opener:
    """Makes a fresh handle (own position and byte order) each time Bio-Formats opens the id."""

    def __init__(self, blob: RemoteBlob) -> None:
        self.blob = blob

    @jpype.JOverride
    def apply(self, java_id):
        return RemoteHandle(self.blob)


def mount(url: str, storage_options: dict[str, Any]) -> Mount:
    """Map ``url`` (and the files beside it) into Bio-Formats; returns the id to pass to ``setId``.

    Raises:
        FileNotFoundError: nothing exists at ``url``.
        UnsupportedFormatError: ``url`` is a directory.
        BioFormatsError: fsspec has no filesystem for the URL (unknown protocol, missing package)
            or cannot reach it (refused connection, denied access, a rejected option).
    """
    fs, path, info = _resolve(url, storage_options)
    name = _file_name(fs, url, path)
    siblings = list_siblings(fs, path, name, can_list="?" not in url)
    siblings[name] = Entry(name, path, "file", info.get("size"), version(info))
    options_key = json.dumps(storage_options, sort_keys=True, default=str)
    local = _local_copies(fs, name, siblings)
    ids = _id_map()
    root = mounts_root() / f"{socket.gethostname()}-{os.getpid()}-{next(_counter)}"
    blobs: dict[str, RemoteBlob] = {}
    try:
        root.mkdir(parents=True)
        for entry in siblings.values():
            target = root / entry.name
            if entry.kind == "directory":
                target.mkdir(parents=True, exist_ok=True)
            elif entry.name in local:
                target.parent.mkdir(parents=True, exist_ok=True)
                _link(_download(fs, entry, options_key), target)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                _placeholder(target, entry.size)
                key = f"{fs.unstrip_protocol(entry.remote)}|{options_key}|{entry.size}|{entry.version}"
                blobs[str(target)] = RemoteBlob(fs, entry.remote, key, entry.size)
        for java_id, blob in blobs.items():
            ids.add(java_id, _Opener(blob))
    except BaseException:
        _closer(ids, root, blobs)()
        raise
    if local:
        log.info("%s: reading local copies of %s from %s", url, sorted(local), _files_root())
    return Mount(str(root / name), _closer(ids, root, blobs))


@functools.lru_cache(maxsize=256)
def content_stamp(url: str, frozen_options: tuple) -> str:
    """Size and version (ETag, mtime, ...) of a remote file, so dask names change with it.

    Cached per process: dask asks for task names often, and each ask would be a request.
    """
    _, _, info = _resolve(url, thaw_options(frozen_options))
    return f"{info.get('size')}-{version(info)}"


def _resolve(url: str, storage_options: dict[str, Any]) -> tuple[Any, str, dict[str, Any]]:
    """The fsspec filesystem, path and info of ``url``, with bfbridge's errors."""
    import fsspec

    try:
        fs, path = fsspec.core.url_to_fs(url, **storage_options)
    except (ValueError, ImportError, TypeError) as error:  # unknown protocol, missing package, bad option
        raise BioFormatsError(f"cannot open {url} with fsspec: {error}") from error
    try:
        info = fs.info(path)
    except FileNotFoundError as error:
        cause = error.__cause__
        if not is_http(fs) or cause is None or getattr(cause, "status", None) in (404, 410):
            raise FileNotFoundError(errno.ENOENT, "No such file", url) from None
        # fsspec's HTTP filesystem reports every failure as FileNotFoundError; say what happened
        raise BioFormatsError(f"cannot open {url}: {type(cause).__name__}: {cause}") from cause
    except Exception as error:  # refused connection, denied access, an option the filesystem rejects
        raise BioFormatsError(f"cannot open {url}: {type(error).__name__}: {error}") from error
    if info.get("type") == "directory":
        raise UnsupportedFormatError(
            f"{url} is a directory; Bio-Formats reads files (open the image file inside it)", path=url
        )
    return fs, path, info


def _closer(ids: RemoteIds, root: Path, blobs: dict[str, RemoteBlob]) -> Callable[[], None]:
    """Unmaps every id, fails handles Java still holds, removes the skeleton; safe to call twice."""
    done = threading.Event()

    def close() -> None:
        if done.is_set():
            return
        done.set()
        for java_id, blob in blobs.items():
            ids.remove(java_id)
            blob.close()
        shutil.rmtree(root, ignore_errors=True)

    return close


def _file_name(fs, url: str, path: str) -> str:
    """The file's name as Bio-Formats should see it: decoded, without a query string (suffixes matter)."""
    if is_http(fs):
        return unquote(posixpath.basename(urlparse(url).path)) or "remote-file"
    return posixpath.basename(path.rstrip("/"))


def _placeholder(target: Path, size: int | None) -> None:
    """An empty local stand-in with the remote size (sparse), so ``File.length()`` is right."""
    with open(target, "wb") as handle:
        if size:
            handle.truncate(size)


def _remove_stale_mounts(root: Path) -> None:
    """Skeletons left by processes on this host that died without closing their files."""
    if os.name == "nt" or not root.is_dir():
        return
    host = socket.gethostname()
    for stale in root.glob(f"{host}-*-*"):
        pid = stale.name[len(host) + 1 :].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# ---------------------------------------------------------------------------- local copies


def _files_root() -> Path:
    return Path(config.resolve().cache_dir) / "remote" / "files"


def _local_copies(fs, name: str, siblings: dict[str, Entry]) -> set[str]:
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


def _download(fs, entry: Entry, options_key: str) -> Path:
    """A local copy in the cache, downloaded once per content version (simplecache-style)."""
    identity = f"{fs.unstrip_protocol(entry.remote)}|{options_key}|{entry.size}|{entry.version}"
    target = _files_root() / hashlib.sha256(identity.encode()).hexdigest()[:24] / posixpath.basename(entry.name)
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.part")
        try:
            fs.get_file(entry.remote, str(partial))
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
    return target


def _link(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)
