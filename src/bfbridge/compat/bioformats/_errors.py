"""The compat package's errors: bfbridge's, and also ``OSError`` where python-bioformats raised ``IOError``."""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Iterator

from ... import errors, jvm


class ReaderStateError(errors.BioFormatsError, NotImplementedError):
    """A Java reader method that would change state bfbridge manages (``setId``, ``setGroupFiles``, ...)."""


class FormatError(errors.FormatError, OSError):
    """:class:`bfbridge.FormatError` that is also an ``OSError`` (errno ``EINVAL``).

    python-bioformats raised ``IOError`` for files it could not read, so migrated code
    catches ``IOError``/``OSError``; ``except bfbridge.FormatError`` works as well.
    """

    def __init__(self, message: str, path: str | None = None, java_message: str | None = None):
        super().__init__(message, path, java_message)
        self.errno = errno.EINVAL


class UnsupportedFormatError(errors.UnsupportedFormatError, FormatError):
    """:class:`bfbridge.UnsupportedFormatError` that is also an ``OSError``, like :class:`FormatError`."""


@contextlib.contextmanager
def os_errors() -> Iterator[None]:
    """Re-raise bfbridge's format errors as the compat classes above, which are also ``OSError``."""
    try:
        yield
    except errors.FormatError as error:
        if isinstance(error, OSError):
            raise
        kind = UnsupportedFormatError if isinstance(error, errors.UnsupportedFormatError) else FormatError
        raise kind(str(error), error.path, error.java_message) from error


@contextlib.contextmanager
def java_call(path: str | None = None, action: str = "calling Bio-Formats on") -> Iterator[None]:
    """Java calls made directly (not through bfbridge's readers): Java exceptions become the errors above."""
    with os_errors(), jvm.java_errors(path, action):
        yield
