"""fsspec access for remote files: options that pickle, the filesystem and info of a URL.

Errors are bfbridge's: a missing file is ``FileNotFoundError`` whatever the filesystem
raises, and an unknown protocol or an unreachable server a :class:`~bfbridge.BioFormatsError`.
"""

from __future__ import annotations

import errno
import functools
import json
from typing import Any

from ..errors import BioFormatsError, UnsupportedFormatError
from .listing import is_http, version


def freeze_options(options: dict[str, Any]) -> tuple:
    """Storage options as a hashable, picklable value for :class:`~bfbridge.reader.FileSpec`."""
    try:
        return (("json", json.dumps(options, sort_keys=True)),)
    except TypeError as error:
        raise ValueError(f"storage_options must be JSON-serialisable: {error}") from error


def thaw_options(frozen: tuple) -> dict[str, Any]:
    return json.loads(dict(frozen)["json"]) if frozen else {}


@functools.lru_cache(maxsize=256)
def content_stamp(url: str, frozen_options: tuple) -> str:
    """Size and version (ETag, mtime, ...) of a remote file, so dask names change with it.

    Cached per process: dask asks for task names often, and each ask would be a request.
    """
    _, _, info = resolve(url, thaw_options(frozen_options))
    return f"{info.get('size')}-{version(info)}"


def resolve(url: str, storage_options: dict[str, Any]) -> tuple[Any, str, dict[str, Any]]:
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
