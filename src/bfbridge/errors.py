"""The exceptions bfbridge raises. All of them derive from :class:`BioFormatsError`.

Java exceptions never escape as JPype ``JException`` objects: :mod:`bfbridge.jvm`
translates them into these classes so that callers can catch one base class.
"""

from __future__ import annotations


class BioFormatsError(Exception):
    """Base class of every error bfbridge raises on purpose."""


class FormatError(BioFormatsError):
    """A file Bio-Formats recognises but cannot read (corrupt, truncated, malformed).

    ``path`` is the file and ``java_message`` is Bio-Formats' own explanation. ``internal``
    is true when Bio-Formats failed inside itself (a Java ``RuntimeException`` or ``Error``,
    such as a division by zero on contradictory metadata) rather than by rejecting the data.
    """

    def __init__(self, message: str, path: str | None = None, java_message: str | None = None, internal: bool = False):
        super().__init__(message)
        self.path = path
        self.java_message = java_message
        self.internal = internal


class JavaTrace(Exception):
    """The Java exception behind a bfbridge error (its ``__cause__``), as text.

    It stands in for the JPype exception object, which cannot be pickled: errors raised on a
    dask worker must travel back to the client.
    """


class UnsupportedFormatError(FormatError):
    """No Bio-Formats reader claims the file."""


class FileClosedError(BioFormatsError, ValueError):
    """An operation needed the pixels of an :class:`~bfbridge.ImageFile` that was closed."""


class ReadTimeoutError(BioFormatsError, TimeoutError):
    """A read exceeded the configured ``read_timeout`` (Bio-Formats can loop on bad data)."""


class JVMError(BioFormatsError):
    """Java could not be found or the JVM could not be started."""


class JVMAlreadyStartedError(JVMError):
    """Settings were changed after the JVM started; they only apply at start-up."""


class JarError(BioFormatsError):
    """The Bio-Formats jars could not be provisioned or failed verification."""


class JavaMemoryError(BioFormatsError, MemoryError):
    """The JVM ran out of heap. The message says which heap was in force and how to raise it."""
