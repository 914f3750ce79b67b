"""Where a file's readers get their bytes: the file spec, its identity, and its memo folder.

Bio-Formats' Memoizer saves the parsed state of slow opens; bfbridge keeps those memo
files in the cache directory, keyed by the file's identity, never beside the data.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from contextlib import suppress
from dataclasses import dataclass, replace
from pathlib import Path

from .. import config

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FileSpec:
    """Everything needed to open a file again, in this process or another."""

    path: str
    group_files: bool = True
    memoize: bool | int | None = None
    fold_rgb: bool = False
    apply_lut: bool = True
    max_workers: int | None = None
    storage_options: tuple = ()

    @property
    def is_fake(self) -> bool:
        return self.path.endswith(".fake") or self.path.endswith(".fake.ini")

    @property
    def is_remote(self) -> bool:
        """A URL handled by fsspec (``file://`` URLs are turned into paths on open)."""
        return "://" in self.path and not self.is_fake

    def token(self) -> str:
        """A stable identity for dask task names: the options plus the file's size and version."""
        stamp = ""
        if self.is_remote:
            from .. import remote

            stamp = remote.content_stamp(self.path, self.storage_options)
        elif not self.is_fake:
            with suppress(OSError):
                stat = os.stat(self.path)
                stamp = f"{stat.st_size}-{stat.st_mtime_ns}"
        return hashlib.sha1(f"{self!r}{stamp}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Source:
    """How every reader of one open file reaches it: the id for ``setId``, the memo folder,
    and the file's identity at open (to notice a file changed on disk)."""

    java_id: str
    memo_dir: Path | None = None
    memo_ms: int = 0
    identity: tuple[int, ...] | None = None
    skip_readers: tuple[str, ...] = ()  # Bio-Formats reader classes left out of detection


def file_identity(path: str) -> tuple[int, ...]:
    """What changes when a file is replaced, truncated or rewritten."""
    stat = os.stat(path)
    return stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns


def source_for(spec: FileSpec, settings: config.Settings) -> Source:
    """The source for a fresh open; memo files of other versions of the file are removed.

    Bio-Formats' Memoizer only compares modification times, so a file replaced by an
    older one (``cp -p``, ``rsync -a``) would load a stale memo. Memo folders are keyed by
    the file's identity instead. A cache directory that cannot be written turns
    memoization off for the open, with a log record, rather than failing it.
    """
    if spec.is_fake or spec.is_remote:
        return Source(spec.path)
    identity = file_identity(spec.path)
    threshold = _memo_threshold(spec, settings)
    if threshold is None:
        return Source(spec.path, identity=identity)
    per_file = Path(settings.cache_dir) / "memo" / hashlib.sha1(spec.path.encode()).hexdigest()[:16]
    memo_dir = per_file / hashlib.sha1(repr(identity).encode()).hexdigest()[:16]
    if per_file.is_dir():
        for stale in per_file.iterdir():
            if stale != memo_dir:
                shutil.rmtree(stale, ignore_errors=True)
    try:
        memo_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        log.info("not memoizing %s: %s", spec.path, error)
        return Source(spec.path, identity=identity)
    return Source(spec.path, memo_dir, threshold, identity)


def without_memo(source: Source) -> Source:
    """An open too fast to memoize: its other readers need no Memoizer, and its folder can go.

    Otherwise every quick file ever opened would leave an empty folder in the cache (the
    Memoizer also makes folders that mirror the file's path). Only empty folders are removed.
    """
    for folder, _, _ in os.walk(source.memo_dir, topdown=False):
        with suppress(OSError):
            os.rmdir(folder)
    with suppress(OSError):
        source.memo_dir.parent.rmdir()
    return replace(source, memo_dir=None)


def _memo_threshold(spec: FileSpec, settings: config.Settings) -> int | None:
    """Milliseconds above which setId is memoized, or None when memoization is off."""
    if spec.memoize is False:
        return None
    if spec.memoize is True or spec.memoize is None:
        return settings.memoize_ms
    return int(spec.memoize)
