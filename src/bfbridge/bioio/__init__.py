"""bioio reader plugin: every Bio-Formats format in ``bioio.BioImage``.

bioio finds readers through the ``bioio.readers`` entry point group; bfbridge registers this
module there, so installing ``bfbridge[bioio]`` is enough for ``BioImage("cells.vsi")``.
Pick it explicitly with ``BioImage(path, reader=bfbridge.bioio.Reader)``.

Importing :mod:`bfbridge` never imports bioio; importing this module does, and never starts
the JVM (bioio imports every plugin to list their suffixes).
"""

from .reader import Reader
from .reader_metadata import ReaderMetadata

__all__ = ["Reader", "ReaderMetadata"]
