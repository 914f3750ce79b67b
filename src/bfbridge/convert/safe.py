"""Safe output: never clobber by accident, never leave a half-written file under the final name.

Everything is written into hidden siblings of the target (same folder, so the final
rename stays on one filesystem and is atomic). On success the temporary output is
renamed to the target; on any failure, Ctrl-C included, the siblings are removed.
An existing target is replaced only with ``overwrite``, and only once the new output
is complete.
"""

from __future__ import annotations

import errno
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path


class OutputExistsError(FileExistsError):
    """The target exists and ``overwrite`` is false: its own type, so the CLI can name its flag."""


class Staging:
    """The temporary output path and any scratch folders of one conversion."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self._token = f"{os.getpid()}-{secrets.token_hex(4)}"
        self.path = self._sibling("partial")
        self._scratch: list[Path] = []

    def _sibling(self, kind: str) -> Path:
        return self.target.with_name(f".{self.target.name}.{kind}-{self._token}")

    def scratch(self) -> Path:
        """A new empty folder beside the target for intermediate data; removed at the end."""
        folder = self._sibling(f"scratch{len(self._scratch)}")
        folder.mkdir()
        self._scratch.append(folder)
        return folder

    def commit(self) -> None:
        """Move the finished output to the target, replacing what was there."""
        if not self.target.exists() and not self.target.is_symlink():
            os.replace(self.path, self.target)
            return
        if self.path.is_file() and self.target.is_file():
            os.replace(self.path, self.target)  # atomic over an existing file
            return
        old = self._sibling("old")
        os.replace(self.target, old)
        try:
            os.replace(self.path, self.target)
        except BaseException:
            os.replace(old, self.target)
            raise
        _remove(old)

    def cleanup(self) -> None:
        for path in (self.path, *self._scratch):
            _remove(path)


def _remove(path: Path) -> None:
    with suppress(FileNotFoundError):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()


def check_target(target: Path, overwrite: bool) -> None:
    """Refuse an existing target (unless ``overwrite``) or a missing folder, before any work."""
    if (target.exists() or target.is_symlink()) and not overwrite:
        advice = "the output exists; pass overwrite=True (bfbridge convert --overwrite) to replace it"
        raise OutputExistsError(errno.EEXIST, advice, str(target))
    if not target.parent.is_dir():
        raise FileNotFoundError(errno.ENOENT, "the output folder does not exist", str(target.parent))


@contextmanager
def staged(target: Path, overwrite: bool) -> Iterator[Staging]:
    """Yield a :class:`Staging` to write into; commit it on success, remove it on any failure."""
    check_target(target, overwrite)
    staging = Staging(target)
    try:
        yield staging
        staging.commit()
    finally:
        staging.cleanup()
