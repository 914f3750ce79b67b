"""Mounting a URL into Bio-Formats: a local skeleton of its directory, each file mapped to a handle.

Each mount mirrors the file's remote directory as a local skeleton under
``<cache_dir>/remote/mounts/``: real directories and empty (sparse) placeholder files,
so that Bio-Formats can list, test and size sibling files the way it does on disk. Every
placeholder is mapped in ``loci.common.Location`` (see :mod:`bfbridge.remote.idmap`) so
that each stream Bio-Formats opens on it gets a :class:`~bfbridge.remote.handle.RemoteHandle`
that fetches byte ranges on demand.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import posixpath
import shutil
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import jpype

from .. import config
from .copies import download, files_root, link, local_copies
from .handle import RemoteBlob, RemoteHandle
from .idmap import RemoteIds
from .listing import Entry, is_http, list_siblings, version
from .urls import resolve

log = logging.getLogger(__name__)


@dataclass
class Mount:
    """A URL mapped into Bio-Formats' ``Location`` under ``java_id`` until ``close()``."""

    java_id: str
    close: Callable[[], None]


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
    fs, path, info = resolve(url, storage_options)
    name = _file_name(fs, url, path)
    siblings = list_siblings(fs, path, name, can_list="?" not in url)
    siblings[name] = Entry(name, path, "file", info.get("size"), version(info))
    options_key = json.dumps(storage_options, sort_keys=True, default=str)
    local = local_copies(fs, name, siblings)
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
                link(download(fs, entry, options_key), target)
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
        log.info("%s: reading local copies of %s from %s", url, sorted(local), files_root())
    return Mount(str(root / name), _closer(ids, root, blobs))


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
