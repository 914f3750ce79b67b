"""python-bioformats' ``bioformats.log4j``, kept so that ``log4j.basic_config()`` calls still run.

python-bioformats scripts call ``basic_config()`` after ``start_vm`` to quiet Bio-Formats'
Java logging. bfbridge already routes Java log records through Python :mod:`logging` at
WARNING by default (``bfbridge.configure(log_level=...)`` or ``BFBRIDGE_LOG_LEVEL``
change it), so there is nothing left to configure.
"""

from __future__ import annotations

import logging

log = logging.getLogger("bfbridge.compat")


def basic_config() -> None:
    """Do nothing (and never start the JVM): Java logging is already set up by bfbridge."""
    log.debug("log4j.basic_config() does nothing: Java logs go through Python logging")
