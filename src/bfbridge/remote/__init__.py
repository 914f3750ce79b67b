"""Read fsspec URLs lazily: a Java ``IRandomAccess`` over fsspec files, mapped into Bio-Formats.

Bio-Formats only reads local paths, so each reader of a URL gets a mount: a local
skeleton of the file's directory whose placeholders Bio-Formats opens through handles
that fetch byte ranges on demand. One job a module:

- ``urls``: storage options that pickle, and the fsspec filesystem and info of a URL;
- ``listing``: the files beside a remote file, within budgets, for multi-file formats;
- ``mount``: the skeleton and the ``Location`` mappings of one mount;
- ``idmap``: a per-thread ``Location`` id map that hands each open a fresh handle;
- ``handle``: the ``IRandomAccess`` itself, with the shared block cache and read-ahead;
- ``copies``: downloaded copies for readers that bypass ``Location`` (see
  :data:`~bfbridge.remote.copies.LOCAL_COPY_SUFFIXES`) and servers that report no size.
"""

from .mount import Mount, mount, mounts_root
from .urls import content_stamp, freeze_options, thaw_options

__all__ = ["Mount", "content_stamp", "freeze_options", "mount", "mounts_root", "thaw_options"]
